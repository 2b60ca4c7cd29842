/// How a row of a latent cache is stored.
public enum LatentEncoding: Sendable, Equatable, CustomStringConvertible {
    /// `Float` values.
    case f32
    /// Signed 8-bit values with one `Float` scale per group of 32 (`Int8LatentLayout`), 3.6× smaller.
    case int8

    public var description: String { self == .f32 ? "f32" : "int8" }
}

/// Where the INT8 groups of a latent row fall: each part (`c_KV`, then `k_rope`, whose magnitudes differ)
/// is cut into groups of 32 values from its start, the last group of a part possibly shorter.
///
/// Within a whole group of 32 the bytes are stored in lane order: value `8k + j` sits at byte `4j + k`, so
/// 8 `UInt32` lanes widen into 4 vectors of consecutive values with shifts and masks alone.
public struct Int8LatentLayout: Sendable, Equatable {
    public static let groupWidth = 32
    public let width: Int
    /// First value of each group, then `width`.
    let bounds: [Int]

    public init(parts: [Int]) {
        var bounds = [0]
        for part in parts {
            let start = bounds.last!
            var offset = 0
            while offset < part {
                offset = min(offset + Self.groupWidth, part)
                bounds.append(start + offset)
            }
        }
        self.bounds = bounds
        width = bounds.last!
    }

    public var groups: Int { bounds.count - 1 }
    /// Bytes of one row: the values, then one `Float` scale per group.
    public var rowBytes: Int { width + groups * MemoryLayout<Float>.stride }

    /// Stores `values` (`width` of them) as one INT8 row at `row`, each group scaled by its largest magnitude.
    public func quantize(_ values: UnsafePointer<Float>, into row: UnsafeMutableRawPointer) {
        let bytes = row.assumingMemoryBound(to: Int8.self)
        for g in 0..<groups {
            let start = bounds[g], count = bounds[g + 1] - start
            var largest: Float = 0
            for i in 0..<count { largest = max(largest, abs(values[start + i])) }
            let scale = largest / 127, inverse: Float = largest > 0 ? 127 / largest : 0
            row.storeBytes(of: scale, toByteOffset: width + g * MemoryLayout<Float>.stride, as: Float.self)
            let whole = count == Self.groupWidth
            for i in 0..<count {
                let scaled = (values[start + i] * inverse).rounded()
                let q = scaled.isNaN ? 0 : Int8(max(-127, min(127, scaled)))
                bytes[start + (whole ? 4 * (i % 8) + i / 8 : i)] = q
            }
        }
    }

    /// Widens one INT8 row at `row` into `width` floats.
    @inline(__always)
    public func dequantize(_ row: UnsafeRawPointer, into target: UnsafeMutablePointer<Float>) {
        let out = UnsafeMutableRawPointer(target)
        for g in 0..<groups {
            let start = bounds[g], count = bounds[g + 1] - start
            let scale = row.loadUnaligned(fromByteOffset: width + g * MemoryLayout<Float>.stride, as: Float.self)
            if count == Self.groupWidth {
                // Each byte k of a lane, sign-flipped to 0…255 and placed in the mantissa of 2²³, is 2²³ + 128 + q.
                let lanes = row.loadUnaligned(fromByteOffset: start, as: SIMD8<UInt32>.self)
                let scales = SIMD8<Float>(repeating: scale)
                for k in 0..<4 {
                    let biased = ((lanes &>> UInt32(8 * k)) & 0xFF) ^ 0x80 | 0x4B00_0000
                    let value = unsafeBitCast(biased, to: SIMD8<Float>.self) - 8_388_736
                    out.storeBytes(of: value * scales, toByteOffset: (start + 8 * k) * 4, as: SIMD8<Float>.self)
                }
            } else {
                let bytes = row.assumingMemoryBound(to: Int8.self)
                for i in start..<(start + count) { target[i] = Float(bytes[i]) * scale }
            }
        }
    }
}

/// Rows of `width` floats, read by the attention kernels: contiguous `Float` rows, or the pages of a paged
/// latent cache (`Float` or INT8 rows, `pageRows` rows a page, pages named by a block table).
///
/// A block of consecutive rows that stays within one page is handed out as contiguous `Float` rows: in
/// place for `Float` pages, widened into the caller's scratch for INT8 ones.
public struct LatentRows: @unchecked Sendable {
    public let width: Int
    let base: UnsafeRawPointer
    let pageRows: Int
    let pageBytes: Int
    /// Page of each `pageRows` rows; nil: page `i` is the `i`-th after `base`.
    let table: UnsafePointer<Int>?
    let int8: Int8LatentLayout?

    /// `Float` rows one after another from `start`.
    public init(contiguous start: UnsafePointer<Float>, width: Int) {
        self.width = width
        base = UnsafeRawPointer(start)
        pageRows = Int.max / 2
        pageBytes = 0
        table = nil
        int8 = nil
    }

    /// Pages of `pageRows` rows, `pageBytes` apart from `base`, in the order `table` names them.
    ///
    /// - Parameter int8: the rows' INT8 layout, or nil for `Float` rows.
    public init(pages base: UnsafeRawPointer, pageRows: Int, pageBytes: Int, table: UnsafePointer<Int>, width: Int, int8: Int8LatentLayout?) {
        precondition(pageRows > 0 && pageBytes >= pageRows * (int8?.rowBytes ?? width * 4), "pages of \(pageBytes) bytes cannot hold \(pageRows) rows")
        self.width = width
        self.base = base
        self.pageRows = pageRows
        self.pageBytes = pageBytes
        self.table = table
        self.int8 = int8
    }

    /// Rows from `row` to the end of its page.
    @inline(__always)
    func rowsInPage(from row: Int) -> Int { pageRows - row % pageRows }

    @inline(__always)
    private func address(_ row: Int) -> UnsafeRawPointer {
        let page = row / pageRows, index = table?[page] ?? page
        return base + index * pageBytes + (row - page * pageRows) * (int8?.rowBytes ?? width * 4)
    }

    /// Rows `row ..< row + count` (within one page) as contiguous floats: in place, or widened into
    /// `scratch` (`count × width` floats) for INT8 rows.
    @inline(__always)
    func block(from row: Int, count: Int, scratch: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        let start = address(row)
        guard let int8 else { return start.assumingMemoryBound(to: Float.self) }
        for i in 0..<count { int8.dequantize(start + i * int8.rowBytes, into: scratch! + i * width) }
        return UnsafePointer(scratch!)
    }

    /// Whether `block` needs scratch.
    var widens: Bool { int8 != nil }

    /// Copies rows `rows` into `target` as floats, `width` apart.
    public func copy(rows: Range<Int>, into target: UnsafeMutablePointer<Float>) {
        var row = rows.lowerBound
        while row < rows.upperBound {
            let count = min(rowsInPage(from: row), rows.upperBound - row)
            let out = target + (row - rows.lowerBound) * width
            if let int8 {
                let start = address(row)
                for i in 0..<count { int8.dequantize(start + i * int8.rowBytes, into: out + i * width) }
            } else {
                out.update(from: address(row).assumingMemoryBound(to: Float.self), count: count * width)
            }
            row += count
        }
    }
}
