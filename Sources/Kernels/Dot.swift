import CPUFeatures

/// Inner products of a stored weight row with `Float` vectors, widening the stored format in
/// registers. Accumulation goes through `multiplyAdd` (fused where the target has FMA).

@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>()
    var i = 0
    let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
    while i + 16 <= count {
        let x = rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        let y = rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        multiplyAdd(&accumulator, x, y)
        i += 16
    }
    var sum = horizontalSum(accumulator)
    while i < count {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// How far ahead of a row stream the decode kernels ask for cache lines (measured on a 2-core EPYC:
/// 2 KB ahead lifts a BF16 matrix-vector product from ~15.7 to ~18.5 GB/s on 2 threads).
let prefetchDistance = 2048

/// 2¹²⁰: moves FP8 E4M3 bits placed in a binary32 (exponent bias 7 → 127) to their value.
@usableFromInline let fp8ExponentShift: Float = 0x1p120

/// Packed formats are widened without converting between SIMD element types (which Swift compiles
/// lane by lane): a row is loaded as `UInt32` lanes and each lane's packed values are extracted with
/// shifts and masks. Lane `j` then holds columns `j·k + i` for the `k` values a lane packs, so the
/// activation vector is permuted once per product to match (`PackedVector`).

/// BF16 values in the low and high halves of 16 `UInt32` lanes, as `Float`.
@inline(__always)
func widenBF16Pairs(_ lanes: SIMD16<UInt32>) -> (low: SIMD16<Float>, high: SIMD16<Float>) {
    (unsafeBitCast(lanes &<< 16, to: SIMD16<Float>.self), unsafeBitCast(lanes & 0xFFFF_0000, to: SIMD16<Float>.self))
}

/// FP8 E4M3 byte `k` of 16 `UInt32` lanes as `Float` bits whose value is 2⁻¹²⁰ × the FP8 value: the
/// byte is moved to the top (sign at bit 31), shifted right 4 arithmetically (exponent and mantissa to
/// bits 20…26, the sign smeared into 27…30, the lower bytes below 20) and all but bits 31 and 20…26 masked
/// off: three integer operations, two for the top byte. The 2¹²⁰ (exponent bias 7 → 127)
/// is applied by the caller: 2⁶⁴ in the permuted activations and 2⁵⁶ with the block scale. Exact for
/// normals; subnormals become binary32 subnormals, also exact. NaN patterns (never in weights) become ±480.
@inline(__always)
func widenFP8Scaled(_ lanes: SIMD16<UInt32>, byte k: Int) -> SIMD16<Float> {
    let top = k == 3 ? lanes : lanes &<< UInt32(24 - 8 * k)
    let shifted = unsafeBitCast(unsafeBitCast(top, to: SIMD16<Int32>.self) &>> 4, to: SIMD16<UInt32>.self)
    return unsafeBitCast(shifted & 0x87F0_0000, to: SIMD16<Float>.self)
}

/// Part of the FP8 exponent correction carried by the permuted activations (the rest, 2⁵⁶, by the scale).
let fp8ActivationShift: Float = 0x1p64
let fp8ScaleShift: Float = 0x1p56

/// An activation vector with a copy permuted to the lane order of a packed format: within each group
/// of `16 × perLane` columns, column `16·i + j` of the copy is column `perLane·j + i` of the original.
/// Formats that read the original in order (one value per lane, unscaled) share it instead of a copy.
struct PackedVector {
    let original: UnsafePointer<Float>
    let permuted: UnsafePointer<Float>
    /// The permuted copy, when this vector made one.
    private let copy: UnsafeMutablePointer<Float>?
    let count: Int
    let perLane: Int
    /// Sums of each `WeightFormat.groupSize` columns of the original, for `q4a`'s offsets; nil otherwise.
    let groupSums: UnsafeMutablePointer<Float>?
    /// Int8 codes of the vector for the integer formats' products, where this build has them; nil otherwise.
    let quantized: QuantizedActivations?

    var groupWidth: Int { 16 * perLane }
    var fullGroups: Int { count / groupWidth }

    /// The vector prepared for products with rows of `weight`.
    ///
    /// - Parameter quantize: for the integer formats, whether to take the integer path
    ///   (`QuantizedActivations`) where this build has it; false keeps the `Float` widening.
    init(_ x: UnsafePointer<Float>, count: Int, for weight: WeightMatrix, quantize: Bool = true) {
        let perLane = BlockedMatMul.lanePacking(weight.format)
        let isFP8 = if case .fp8E4M3 = weight.format { true } else { false }
        let quantized = quantize && weight.format.isGrouped && QuantizedActivations.isAvailable
        self.init(x, count: count, perLane: perLane, scale: isFP8 ? fp8ActivationShift : 1, groupSums: weight.format == .q4a,
                  quantizedFor: quantized ? weight.format : nil)
    }

    /// - Parameters:
    ///   - scale: multiplies the permuted copy (FP8 passes `fp8ActivationShift`).
    ///   - groupSums: whether to keep the sums of each group of columns.
    ///   - quantizedFor: the integer format to quantize the vector for, if any.
    init(_ x: UnsafePointer<Float>, count: Int, perLane: Int, scale: Float = 1, groupSums: Bool = false,
         quantizedFor format: WeightFormat? = nil) {
        quantized = format.map { QuantizedActivations(x, count: count, format: $0) }
        original = x
        self.count = count
        self.perLane = perLane
        if perLane == 1 && scale == 1 {
            copy = nil
            permuted = x
        } else {
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            let width = 16 * perLane
            for g in 0..<(count / width) {
                for j in 0..<16 {
                    for i in 0..<perLane { copy[g * width + 16 * i + j] = x[g * width + perLane * j + i] * scale }
                }
            }
            for c in (count / width * width)..<count { copy[c] = x[c] * scale }
            self.copy = copy
            permuted = UnsafePointer(copy)
        }
        if groupSums {
            let groups = WeightFormat.groups(columns: count)
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: max(groups, 1))
            for g in 0..<groups {
                var sum: Float = 0
                for c in (g * WeightFormat.groupSize)..<min((g + 1) * WeightFormat.groupSize, count) { sum += x[c] }
                sums[g] = sum
            }
            self.groupSums = sums
        } else {
            self.groupSums = nil
        }
    }

    func deallocate() {
        copy?.deallocate()
        groupSums?.deallocate()
        quantized?.deallocate()
    }
}

/// BF16 row · vector, the vector permuted for 2 values per lane.
@inline(__always)
func dotBF16(_ row: UnsafePointer<UInt16>, _ x: PackedVector) -> Float {
    var low = SIMD16<Float>(), high = SIMD16<Float>()
    let raw = UnsafeRawPointer(row), xs = UnsafeRawPointer(x.permuted)
    for g in 0..<x.fullGroups {
        deepseek_prefetch(raw + g * 64 + prefetchDistance)
        let (a, b) = widenBF16Pairs(raw.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self))
        multiplyAdd(&low, a, xs.loadUnaligned(fromByteOffset: g * 128, as: SIMD16<Float>.self))
        multiplyAdd(&high, b, xs.loadUnaligned(fromByteOffset: g * 128 + 64, as: SIMD16<Float>.self))
    }
    var sum = horizontalSum(low + high)
    for c in (x.fullGroups * 32)..<x.count { sum += NumberFormats.float(bf16: row[c]) * x.original[c] }
    return sum
}

/// FP8 row · vector with per-block scales, the vector permuted for 4 values per lane and scaled by
/// `fp8ActivationShift`. Requires `blockColumns` to be a multiple of 64 (the official 128 is); other
/// layouts take the decode path.
@inline(__always)
func dotFP8(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<Float>, blockColumns: Int, _ x: PackedVector) -> Float {
    #if arch(x86_64) && NATIVE_CPU
    var sum = dotFP8GroupsAVX2(row, scales: scales, blockColumns: blockColumns, x)
    #else
    var sum = dotFP8Groups(row, scales: scales, blockColumns: blockColumns, x)
    #endif
    // Columns past the last full group of 64.
    var c = x.fullGroups * 64
    while c < x.count {
        let blockIndex = c / blockColumns
        var partial: Float = 0
        let end = min((blockIndex + 1) * blockColumns, x.count)
        while c < end { partial += NumberFormats.float(fp8E4M3: row[c]) * x.original[c]; c += 1 }
        sum += partial * scales[blockIndex]
    }
    return sum
}

/// `dotFP8` over the row's whole 64-column groups, widening with shifts and masks (`widenFP8Scaled`).
@inline(__always)
func dotFP8Groups(_ row: UnsafePointer<UInt8>, scales: UnsafePointer<Float>, blockColumns: Int, _ x: PackedVector) -> Float {
    let raw = UnsafeRawPointer(row), xs = UnsafeRawPointer(x.permuted)
    let groupsPerBlock = blockColumns / 64
    var total = SIMD16<Float>()
    var g = 0
    var block = 0
    while g < x.fullGroups {
        // Two accumulators, so consecutive multiply-adds do not wait on each other.
        var even = SIMD16<Float>(), odd = SIMD16<Float>()
        let end = min(g + groupsPerBlock, x.fullGroups)
        while g < end {
            deepseek_prefetch(raw + g * 64 + prefetchDistance)
            let lanes = raw.loadUnaligned(fromByteOffset: g * 64, as: SIMD16<UInt32>.self)
            let base = g * 256
            multiplyAdd(&even, widenFP8Scaled(lanes, byte: 0), xs.loadUnaligned(fromByteOffset: base, as: SIMD16<Float>.self))
            multiplyAdd(&odd, widenFP8Scaled(lanes, byte: 1), xs.loadUnaligned(fromByteOffset: base + 64, as: SIMD16<Float>.self))
            multiplyAdd(&even, widenFP8Scaled(lanes, byte: 2), xs.loadUnaligned(fromByteOffset: base + 128, as: SIMD16<Float>.self))
            multiplyAdd(&odd, widenFP8Scaled(lanes, byte: 3), xs.loadUnaligned(fromByteOffset: base + 192, as: SIMD16<Float>.self))
            g += 1
        }
        total += (even + odd) * (scales[block] * fp8ScaleShift)
        block += 1
    }
    return horizontalSum(total)
}

extension WeightMatrix {
    /// Rows `rows` · `x`: row `rows.lowerBound + i` into `y[i]`. The integer formats on quantized
    /// activations (`x.quantized`) run two rows at a time with the row set-up hoisted; every other
    /// format goes row by row (`dot(row:_:scratch:)`).
    @inline(__always)
    func dot(rows: Range<Int>, _ x: PackedVector, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        #if arch(x86_64) && NATIVE_CPU
        if let quantized = x.quantized, format.isGrouped {
            integerDot(rows: rows, x, quantized, into: y)
            return
        }
        #endif
        for r in rows { y[r - rows.lowerBound] = dot(row: r, x, scratch: scratch) }
    }

    /// Rows `rows` · each of `vectors` (one per token): token `t`'s products go to `y + t · stride`, in row
    /// order. Several tokens take the rows 16 at a time, so each block is read from memory once.
    @inline(__always)
    func dot(rows: Range<Int>, _ vectors: [PackedVector], into y: UnsafeMutablePointer<Float>, stride: Int,
             scratch: UnsafeMutablePointer<Float>) {
        if vectors.count == 1 {
            dot(rows: rows, vectors[0], into: y, scratch: scratch)
            return
        }
        var start = rows.lowerBound
        while start < rows.upperBound {
            let block = start..<min(start + 16, rows.upperBound)
            for t in vectors.indices {
                dot(rows: block, vectors[t], into: y + t * stride + (start - rows.lowerBound), scratch: scratch)
            }
            start = block.upperBound
        }
    }

    #if arch(x86_64) && NATIVE_CPU
    /// `dot(rows:)` for `q8`, `q4` and `q4a` on quantized activations.
    @inline(__always)
    private func integerDot(rows: Range<Int>, _ x: PackedVector, _ quantized: QuantizedActivations, into y: UnsafeMutablePointer<Float>) {
        let groups = WeightFormat.groups(columns: columns), rowBytes = format.rowBytes(columns: columns)
        let bytes = UnsafeRawPointer(data), scales = groupScales!, offsets = groupOffsets
        let hasTail = columns % QuantizedActivations.blockWidth(format) != 0
        var r = rows.lowerBound
        while r < rows.upperBound {
            // The last row of an odd range is paired with itself.
            let s = min(r + 1, rows.upperBound - 1)
            let pair = RowPair(a: bytes + r * rowBytes, b: bytes + s * rowBytes, scalesA: scales + r * groups, scalesB: scales + s * groups,
                               offsetsA: offsets.map { $0 + r * groups }, offsetsB: offsets.map { $0 + s * groups })
            var (first, second) = format == .q8 ? dotQ8AVX2(pair, quantized) : dotQ4AVX2(pair, groupSums: x.groupSums, quantized)
            if hasTail {
                // The columns after the last whole block, in order.
                func tail(_ row: UnsafeRawPointer, _ scales: UnsafePointer<UInt16>, _ offsets: UnsafePointer<UInt16>?) -> Float {
                    let bytes = row.assumingMemoryBound(to: UInt8.self)
                    return format == .q8 ? q8Tail(bytes, scales: scales, x) : q4Tail(bytes, scales: scales, offsets: offsets, x)
                }
                first += tail(pair.a, pair.scalesA, pair.offsetsA)
                second += tail(pair.b, pair.scalesB, pair.offsetsB)
            }
            y[r - rows.lowerBound] = first
            if s > r { y[s - rows.lowerBound] = second }
            r += 2
        }
    }
    #endif

    /// Row `r` · `x`, widening the stored format in registers where it has a fast path; otherwise the
    /// row is widened into `scratch` (`columns` values) first.
    @inline(__always)
    func dot(row r: Int, _ x: PackedVector, scratch: UnsafeMutablePointer<Float>) -> Float {
        switch format {
        case .f32:
            return Kernels.dot(data.assumingMemoryBound(to: Float.self) + r * columns, x.original, count: columns)
        case .bf16:
            return dotBF16(data.assumingMemoryBound(to: UInt16.self) + r * columns, x)
        case let .fp8E4M3(_, blockColumns) where x.perLane == 4:
            return dotFP8(data.assumingMemoryBound(to: UInt8.self) + r * columns, scales: blockScales(row: r), blockColumns: blockColumns, x)
        case .q8:
            let groups = WeightFormat.groups(columns: columns)
            return dotQ8(data.assumingMemoryBound(to: UInt8.self) + r * columns, scales: groupScales! + r * groups, x)
        case .q4, .q4a:
            let groups = WeightFormat.groups(columns: columns)
            return dotQ4(data.assumingMemoryBound(to: UInt8.self) + r * format.rowBytes(columns: columns), scales: groupScales! + r * groups,
                         offsets: groupOffsets.map { $0 + r * groups }, x)
        default:
            decodeRow(r, into: scratch)
            return Kernels.dot(scratch, x.original, count: columns)
        }
    }
}
