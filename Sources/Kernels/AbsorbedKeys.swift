/// The key half of `kv_b_proj` transposed per head, `W_UKᵀ` as `[heads × kvLoraRank, qkNopeDim]`, so the
/// absorbed query `q_lat = W_UKᵀ q_nope` is an ordinary matrix-vector product per head (the stored rows
/// of `W_UK` run along `kvLoraRank`, the wrong way for one).
///
/// Made once when a layer loads, in a format chosen from `kv_b_proj`'s: F32, BF16 and F16 keep theirs
/// (exact), FP8 becomes F32 (exact; the block scales do not survive a transpose), and the integer formats
/// are re-quantized to `q8` along the new rows (within half a `q8` step of their stored values). llama.cpp
/// stores the same transposed `k_b` for its MLA decoding.
public final class AbsorbedKeys: @unchecked Sendable {
    /// `[heads × kvLoraRank, qkNopeDim]`: rows `h × kvLoraRank ..< (h + 1) × kvLoraRank` are head `h`'s.
    public let weight: WeightMatrix
    public let shape: LatentAttentionShape
    private let data: UnsafeMutableRawPointer
    private let groupScales: UnsafeMutablePointer<UInt16>?

    public init(kvB: WeightMatrix, shape s: LatentAttentionShape) {
        precondition(kvB.rows == s.heads * s.kvBRowsPerHead && kvB.columns == s.kvLoraRank,
                     "kv_b_proj is \(kvB.rows)×\(kvB.columns), expected \(s.heads * s.kvBRowsPerHead)×\(s.kvLoraRank)")
        shape = s
        let rows = s.heads * s.kvLoraRank, columns = s.qkNopeDim
        let format: WeightFormat = switch kvB.format {
        case .f32, .fp8E4M3: .f32
        case .bf16: .bf16
        case .f16: .f16
        case .q8, .q4, .q4a: .q8
        }
        let rowBytes = format.rowBytes(columns: columns), groups = WeightFormat.groups(columns: columns)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(rows * rowBytes, 1), alignment: 64)
        let scales = format == .q8 ? UnsafeMutablePointer<UInt16>.allocate(capacity: rows * groups) : nil
        data = storage
        groupScales = scales
        // One head at a time: its key rows widened, transposed through Float, then encoded in place.
        var transposed = [Float](repeating: 0, count: s.kvLoraRank * columns)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: s.kvLoraRank)
        defer { row.deallocate() }
        for h in 0..<s.heads {
            for n in 0..<s.qkNopeDim {
                kvB.decodeRow(h * s.kvBRowsPerHead + n, into: row)
                for k in 0..<s.kvLoraRank { transposed[k * columns + n] = row[k] }
            }
            let target = storage + h * s.kvLoraRank * rowBytes
            switch format {
            case .f32:
                transposed.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            case .bf16, .f16:
                let halves = target.bindMemory(to: UInt16.self, capacity: transposed.count)
                for i in transposed.indices {
                    halves[i] = format == .bf16 ? NumberFormats.bf16(transposed[i]) : NumberFormats.f16(transposed[i])
                }
            default:
                let encoded = quantizeGroups(transposed, rows: s.kvLoraRank, columns: columns, format: .q8)
                encoded.data.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                (scales! + h * s.kvLoraRank * groups).update(from: encoded.scales, count: encoded.scales.count)
            }
        }
        weight = WeightMatrix(rows: rows, columns: columns, format: format, data: data, groupScales: groupScales)
    }

    deinit {
        data.deallocate()
        groupScales?.deallocate()
    }

    /// Head `h`'s `[kvLoraRank, qkNopeDim]` rows as a matrix of their own (a view; `self` must outlive it).
    func head(_ h: Int) -> WeightMatrix {
        weight.rows((h * shape.kvLoraRank)..<((h + 1) * shape.kvLoraRank))
    }

    /// Bytes a decoding step reads from this matrix.
    public var byteCount: Int {
        weight.rows * (weight.format.rowBytes(columns: weight.columns) + (groupScales == nil ? 0 : 2 * WeightFormat.groups(columns: weight.columns)))
    }
}
