/// How the elements of a weight matrix are stored.
public enum WeightFormat: Sendable, Hashable {
    case f32
    case f16
    case bf16
    /// FP8 E4M3 (fn) with one `Float` scale per `blockRows × blockColumns` block, stored
    /// row-major as a `ceil(rows / blockRows) × ceil(columns / blockColumns)` grid. Edge
    /// blocks are partial. The element value is `fp8 × scale` (DeepSeek's `weight_scale_inv`).
    case fp8E4M3(blockRows: Int, blockColumns: Int)
    /// Signed 8-bit integers with one F16 scale per `groupSize` columns of a row: `q × scale`. Bytes are
    /// ordered by `IntegerLayout`.
    case q8
    /// 4-bit values packed two to a byte (ordered by `IntegerLayout`), one F16 scale per group:
    /// `(n − 8) × scale`.
    case q4
    /// 4-bit values as `q4`, with an F16 scale and an F16 offset per group: `n × scale + offset`.
    case q4a

    /// Columns sharing one scale (and offset) in the integer formats.
    public static let groupSize = 32

    /// Whether elements carry per-group F16 scales (`q8`, `q4`, `q4a`).
    public var isGrouped: Bool {
        switch self {
        case .q8, .q4, .q4a: true
        default: false
        }
    }

    /// Bytes of one stored row of `columns` elements (scales not included).
    public func rowBytes(columns: Int) -> Int {
        switch self {
        case .f32: 4 * columns
        case .f16, .bf16: 2 * columns
        case .fp8E4M3, .q8: columns
        case .q4, .q4a: (columns + 1) / 2
        }
    }

    /// Scale groups in a row of `columns` (integer formats).
    public static func groups(columns: Int) -> Int { (columns + groupSize - 1) / groupSize }
}

/// A read-only, row-major `[rows, columns]` matrix in any `WeightFormat`, viewed in place.
///
/// The memory belongs to someone else (usually a memory-mapped checkpoint); the owner
/// keeps it alive for as long as this view is used. `rows` is the output dimension of a
/// linear layer and `columns` its input dimension, as PyTorch's `nn.Linear.weight` stores it.
public struct WeightMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    public let format: WeightFormat
    let data: UnsafeRawPointer
    /// Block scales for `.fp8E4M3`; nil otherwise.
    let scales: UnsafePointer<Float>?
    /// F16 bit patterns `[rows, groups(columns)]` for the integer formats: their scales and (`q4a`) offsets.
    let groupScales: UnsafePointer<UInt16>?
    let groupOffsets: UnsafePointer<UInt16>?
    /// For a view of some rows of an FP8 matrix (`rows(_:)`): the index of row 0 in the matrix whose
    /// block scales `scales` points at.
    private var scaleRowOffset = 0

    /// Wraps memory holding `rows` rows of `format` (`format.rowBytes(columns:)` each) and the scales
    /// the format needs: `scales` for FP8, `groupScales` for q8/q4 and also `groupOffsets` for q4a.
    public init(rows: Int, columns: Int, format: WeightFormat, data: UnsafeRawPointer, scales: UnsafePointer<Float>? = nil,
                groupScales: UnsafePointer<UInt16>? = nil, groupOffsets: UnsafePointer<UInt16>? = nil) {
        precondition(rows > 0 && columns > 0, "WeightMatrix needs positive sizes, got \(rows)×\(columns)")
        switch format {
        case .fp8E4M3: precondition(scales != nil, "an FP8 weight matrix needs its block scales")
        case .q8, .q4: precondition(groupScales != nil, "a \(format) weight matrix needs its group scales")
        case .q4a: precondition(groupScales != nil && groupOffsets != nil, "a q4a weight matrix needs group scales and offsets")
        default: break
        }
        self.rows = rows
        self.columns = columns
        self.format = format
        self.data = data
        // Only what the format uses is kept (an empty array's buffer may still have an address).
        self.scales = if case .fp8E4M3 = format { scales } else { nil }
        self.groupScales = format.isGrouped ? groupScales : nil
        self.groupOffsets = format == .q4a ? groupOffsets : nil
    }

    /// Number of scale blocks along the rows and the columns (FP8 only; 0 otherwise).
    public var scaleGrid: (rows: Int, columns: Int) {
        guard case let .fp8E4M3(blockRows, blockColumns) = format else { return (0, 0) }
        return ((rows + blockRows - 1) / blockRows, (columns + blockColumns - 1) / blockColumns)
    }

    /// FP8: the block scales of row `row`, one per block of `blockColumns` columns.
    @inline(__always)
    func blockScales(row: Int) -> UnsafePointer<Float> {
        guard case let .fp8E4M3(blockRows, blockColumns) = format else { preconditionFailure("block scales of a \(format) matrix") }
        return scales! + (scaleRowOffset + row) / blockRows * ((columns + blockColumns - 1) / blockColumns)
    }

    /// Writes row `row` as `Float` into `destination[0..<columns]`.
    @inline(__always)
    func decodeRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        switch format {
        case .f32:
            let source = data.assumingMemoryBound(to: Float.self) + row * columns
            destination.update(from: source, count: columns)
        case .bf16:
            let source = data.assumingMemoryBound(to: UInt16.self) + row * columns
            for c in 0..<columns { destination[c] = NumberFormats.float(bf16: source[c]) }
        case .f16:
            let source = data.assumingMemoryBound(to: UInt16.self) + row * columns
            for c in 0..<columns { destination[c] = NumberFormats.float(f16: source[c]) }
        case let .fp8E4M3(_, blockColumns):
            let source = data.assumingMemoryBound(to: UInt8.self) + row * columns
            let gridColumns = (columns + blockColumns - 1) / blockColumns
            let scaleRow = blockScales(row: row)
            NumberFormats.fp8E4M3Table.withUnsafeBufferPointer { table in
                var start = 0
                for block in 0..<gridColumns {
                    let end = min(start + blockColumns, columns)
                    let scale = scaleRow[block]
                    for c in start..<end { destination[c] = table[Int(source[c])] * scale }
                    start = end
                }
            }
        case .q8, .q4, .q4a:
            let groups = WeightFormat.groups(columns: columns)
            let source = data.assumingMemoryBound(to: UInt8.self) + row * format.rowBytes(columns: columns)
            let scaleRow = groupScales! + row * groups, offsetRow = groupOffsets.map { $0 + row * groups }
            for c in 0..<columns {
                let scale = NumberFormats.float(f16: scaleRow[c / WeightFormat.groupSize])
                if format == .q8 {
                    destination[c] = Float(Int8(bitPattern: source[IntegerLayout.q8Position(column: c, columns: columns)])) * scale
                    continue
                }
                let (byte, shift) = IntegerLayout.q4Position(column: c, columns: columns)
                let code = Float(source[byte] >> UInt8(shift) & 0xF)
                if let offsetRow {
                    destination[c] = code * scale + NumberFormats.float(f16: offsetRow[c / WeightFormat.groupSize])
                } else {
                    destination[c] = (code - 8) * scale
                }
            }
        }
    }

    /// The whole matrix as `Float`, row-major (for tests and conversions; allocates).
    public func dequantized() -> [Float] {
        var result = [Float](repeating: 0, count: rows * columns)
        result.withUnsafeMutableBufferPointer { buffer in
            for r in 0..<rows { decodeRow(r, into: buffer.baseAddress! + r * columns) }
        }
        return result
    }
}

extension WeightMatrix {
    /// Rows `range` as a matrix of their own: a view of the same memory (the owner must outlive it).
    public func rows(_ range: Range<Int>) -> WeightMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && !range.isEmpty, "rows \(range) outside a \(rows)-row matrix")
        let first = range.lowerBound, groups = WeightFormat.groups(columns: columns)
        var view = WeightMatrix(rows: range.count, columns: columns, format: format, data: data + first * format.rowBytes(columns: columns),
                                scales: scales, groupScales: groupScales.map { $0 + first * groups },
                                groupOffsets: groupOffsets.map { $0 + first * groups })
        view.scaleRowOffset = scaleRowOffset + first
        return view
    }

    /// Row `row` widened to `Float` (embedding look-ups).
    public func row(_ row: Int) -> [Float] {
        precondition(row >= 0 && row < rows, "row \(row) outside a \(rows)-row matrix")
        return [Float](unsafeUninitializedCapacity: columns) { buffer, count in
            decodeRow(row, into: buffer.baseAddress!)
            count = columns
        }
    }
}
