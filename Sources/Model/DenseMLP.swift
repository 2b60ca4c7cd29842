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
    func callAsFunction(_ x: [Float], tokens: Int, path: ProductPath = .automatic) -> [Float] {
        down(activation(x, tokens: tokens, path: path), tokens: tokens, path: path)
    }

    /// `silu(gate(x)) · up(x)`, both projections under one dispatch.
    func activation(_ x: [Float], tokens: Int, path: ProductPath = .automatic) -> [Float] {
        let projected = Linear.grouped([(gate, x), (up, x)], tokens: tokens, path: path)
        var activated = projected[0]
        siluMultiply(gate: &activated, up: projected[1])
        return activated
    }
}
