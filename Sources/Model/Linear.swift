import Kernels
import Tensors

/// A linear layer `y = x · Wᵀ (+ b)` whose weight stays in its checkpoint format (F32, F16,
/// BF16 or FP8 with block scales), viewed in the memory-mapped file.
public struct Linear: Sendable {
    public let weight: WeightMatrix
    public let bias: [Float]?
    /// The tensors whose storage `weight` points into; held to keep the mapping alive.
    let owners: [Tensor]

    public var inputSize: Int { weight.columns }
    public var outputSize: Int { weight.rows }

    /// - Parameters:
    ///   - x: `[tokens, inputSize]`.
    /// - Returns: `[tokens, outputSize]`.
    ///   - path: which kernel (see `matmul`).
    public func callAsFunction(_ x: [Float], tokens: Int, path: ProductPath = .automatic) -> [Float] {
        addBias(to: matmul(x, tokens: tokens, weight: weight, path: path), tokens: tokens)
    }

    /// The layer restricted to outputs `range` (a view of the same weights).
    func outputs(_ range: Range<Int>) -> Linear {
        Linear(weight: weight.rows(range), bias: bias.map { Array($0[range]) }, owners: owners)
    }

    /// Several layers on their own inputs under one parallel dispatch (see `groupedMatmul`).
    static func grouped(_ jobs: [(layer: Linear, input: [Float])], tokens: Int, path: ProductPath = .automatic) -> [[Float]] {
        let outputs = groupedMatmul(jobs.map { ($0.layer.weight, $0.input) }, tokens: tokens, path: path)
        return zip(jobs, outputs).map { $0.layer.addBias(to: $1, tokens: tokens) }
    }

    /// Several layers on their own inputs and token counts under one row-streaming dispatch.
    static func grouped(_ jobs: [(layer: Linear, input: [Float], tokens: Int)]) -> [[Float]] {
        let outputs = groupedMatmul(jobs.map { ($0.layer.weight, $0.input, $0.tokens) })
        return zip(jobs, outputs).map { $0.layer.addBias(to: $1, tokens: $0.tokens) }
    }

    private func addBias(to y: [Float], tokens: Int) -> [Float] {
        guard let bias else { return y }
        var y = y
        for t in 0..<tokens {
            for r in 0..<bias.count { y[t * bias.count + r] += bias[r] }
        }
        return y
    }
}

/// Root-mean-square normalisation with a learned scale.
public struct RMSNorm: Sendable {
    public let weight: [Float]
    public let epsilon: Float

    /// Normalises `rows` rows of `weight.count` values in place (rows `stride` apart).
    public func callAsFunction(_ x: inout [Float], rows: Int, stride: Int? = nil) {
        rmsNorm(&x, rows: rows, columns: weight.count, stride: stride, weight: weight, epsilon: epsilon)
    }
}
