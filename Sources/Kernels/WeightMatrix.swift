/// How the elements of a weight matrix are stored.
public enum WeightFormat: Sendable, Equatable {
    case f32
    case f16
    case bf16
    /// FP8 E4M3 (fn) with one `Float` scale per `blockRows × blockColumns` block, stored
    /// row-major as a `ceil(rows / blockRows) × ceil(columns / blockColumns)` grid. Edge
    /// blocks are partial. The element value is `fp8 × scale` (DeepSeek's `weight_scale_inv`).
    case fp8E4M3(blockRows: Int, blockColumns: Int)

    /// Bytes of one stored element.
    public var elementBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .fp8E4M3: 1
        }
    }
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

    /// Wraps memory holding `rows × columns` elements of `format` (and, for FP8, its scale grid).
    public init(rows: Int, columns: Int, format: WeightFormat, data: UnsafeRawPointer, scales: UnsafePointer<Float>? = nil) {
        precondition(rows > 0 && columns > 0, "WeightMatrix needs positive sizes, got \(rows)×\(columns)")
        if case .fp8E4M3 = format {
            precondition(scales != nil, "an FP8 weight matrix needs its block scales")
        }
        self.rows = rows
        self.columns = columns
        self.format = format
        self.data = data
        self.scales = scales
    }

    /// Number of scale blocks along the rows and the columns (FP8 only; 0 otherwise).
    public var scaleGrid: (rows: Int, columns: Int) {
        guard case let .fp8E4M3(blockRows, blockColumns) = format else { return (0, 0) }
        return ((rows + blockRows - 1) / blockRows, (columns + blockColumns - 1) / blockColumns)
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
        case let .fp8E4M3(blockRows, blockColumns):
            let source = data.assumingMemoryBound(to: UInt8.self) + row * columns
            let gridColumns = (columns + blockColumns - 1) / blockColumns
            let scaleRow = scales! + (row / blockRows) * gridColumns
            NumberFormats.fp8E4M3Table.withUnsafeBufferPointer { table in
                var start = 0
                for block in 0..<gridColumns {
                    let end = min(start + blockColumns, columns)
                    let scale = scaleRow[block]
                    for c in start..<end { destination[c] = table[Int(source[c])] * scale }
                    start = end
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
    /// Row `row` widened to `Float` (embedding look-ups).
    public func row(_ row: Int) -> [Float] {
        precondition(row >= 0 && row < rows, "row \(row) outside a \(rows)-row matrix")
        return [Float](unsafeUninitializedCapacity: columns) { buffer, count in
            decodeRow(row, into: buffer.baseAddress!)
            count = columns
        }
    }
}
