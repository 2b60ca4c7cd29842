/// With the OpenBLAS trait, prefill's matrix products run as OpenBLAS `sgemm` calls: each thread widens a
/// panel of weight rows to `Float` (as `BlockedMatMul` does, in the format's lane order, with the activations
/// permuted to match) and multiplies every token by it. OpenBLAS is kept to one thread per call; the
/// panels are split across `ThreadPool.threads`.
#if OPENBLAS
import COpenBLAS

enum OpenBLASMatMul {
    /// Rows widened per `sgemm` call: OpenBLAS 0.3.21 on Zen 1 runs ~32 GFLOP/s per core from 512 rows up
    /// (512 tokens × 1024 columns), and 11–14 GFLOP/s at 64–256.
    static let panelRows = 512

    private static let oneThreadPerCall: Void = { openblas_set_num_threads(1) }()

    /// `y[t, r] = xs[t, :] · w[r, :]`, `xs` already in the lane order of `perLane`. Work items are panels of
    /// rows times blocks of tokens, as many token blocks as it takes to give every thread an item.
    static func multiply(y: UnsafeMutablePointer<Float>, xs: UnsafePointer<Float>, tokens: Int, weight: WeightMatrix, perLane: Int) {
        _ = oneThreadPerCall
        let rows = weight.rows, columns = weight.columns
        let panels = (rows + panelRows - 1) / panelRows
        let tokenBlocks = min(tokens, (ThreadPool.threads + panels - 1) / panels)
        ThreadPool.parallelFor(panels * tokenBlocks) { range in
            let panel = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * columns)
            defer { panel.deallocate() }
            var widened = -1
            for item in range {
                let p = item / tokenBlocks, block = item % tokenBlocks
                let first = p * panelRows, count = min(panelRows, rows - first)
                if p != widened {
                    for i in 0..<count { BlockedMatMul.widenRow(weight, first + i, into: panel + i * columns, perLane: perLane) }
                    widened = p
                }
                let start = tokens * block / tokenBlocks, end = tokens * (block + 1) / tokenBlocks
                guard end > start else { continue }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(end - start), blasint(count), blasint(columns),
                            1, xs + start * columns, blasint(columns), panel, blasint(columns), 0, y + start * rows + first, blasint(rows))
            }
        }
    }
}
#endif
