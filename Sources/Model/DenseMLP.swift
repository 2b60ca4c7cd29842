import Kernels

/// The SiLU-gated feed-forward block `down(silu(gate(x)) · up(x))`, used for dense layers,
/// each routed expert and the shared experts.
public struct DenseMLP: Sendable {
    let gate: Linear
    let up: Linear
    let down: Linear

    init(loader: WeightLoader, name: (TensorNames.Projection) -> String, hidden: Int, intermediate: Int) throws {
        gate = try loader.linear(name(.gate), rows: intermediate, columns: hidden)
        up = try loader.linear(name(.up), rows: intermediate, columns: hidden)
        down = try loader.linear(name(.down), rows: hidden, columns: intermediate)
    }

    /// - Parameter x: `[tokens, hidden]`. - Returns: `[tokens, hidden]`.
    func callAsFunction(_ x: [Float], tokens: Int) -> [Float] {
        var activated = gate(x, tokens: tokens)
        siluMultiply(gate: &activated, up: up(x, tokens: tokens))
        return down(activated, tokens: tokens)
    }
}
