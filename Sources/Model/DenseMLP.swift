import Kernels

/// The SiLU-gated feed-forward block `down(silu(gate(x)) · up(x))`, used for dense layers,
/// each routed expert and the shared experts.
public struct DenseMLP: Sendable {
    let gate: Linear
    let up: Linear
    let down: Linear

    /// - Parameter spec: the layout entry of each projection.
    init(loader: WeightLoader, spec: (TensorNames.Projection) -> ParameterSpec) throws {
        gate = try loader.linear(spec(.gate))
        up = try loader.linear(spec(.up))
        down = try loader.linear(spec(.down))
    }

    /// - Parameter x: `[tokens, hidden]`. - Returns: `[tokens, hidden]`.
    func callAsFunction(_ x: [Float], tokens: Int) -> [Float] {
        var activated = gate(x, tokens: tokens)
        siluMultiply(gate: &activated, up: up(x, tokens: tokens))
        return down(activated, tokens: tokens)
    }
}
