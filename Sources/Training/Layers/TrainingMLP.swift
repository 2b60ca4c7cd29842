import Kernels
import Model

/// The SiLU-gated feed-forward block `down(silu(gate(x)) · up(x))` (dense layers, each expert, the shared
/// experts), with its backward pass.
struct TrainingMLP: Sendable {
    let gate: TrainingLinear
    let up: TrainingLinear
    let down: TrainingLinear

    init(in parameters: ParameterSet, precision: Precision, spec: (TensorNames.Projection) -> ParameterSpec) {
        gate = TrainingLinear(spec(.gate), in: parameters, precision: precision)
        up = TrainingLinear(spec(.up), in: parameters, precision: precision)
        down = TrainingLinear(spec(.down), in: parameters, precision: precision)
    }

    /// What the backward pass needs of a forward pass.
    struct Saved {
        let gate: [Float]
        let up: [Float]
        let activated: [Float]

        var byteCount: Int { 4 * (gate.count + up.count + activated.count) }
    }

    /// - Parameter x: `[tokens, hidden]`. - Returns: `[tokens, hidden]` and the activations to keep.
    func forward(_ x: [Float], tokens: Int, _ p: ParameterSet) -> (output: [Float], saved: Saved) {
        let g = gate.forward(x, tokens: tokens, p), u = up.forward(x, tokens: tokens, p)
        var activated = g
        siluMultiply(gate: &activated, up: u)
        return (down.forward(activated, tokens: tokens, p), Saved(gate: g, up: u, activated: activated))
    }

    /// - Returns: the gradient of `x`.
    func backward(_ dy: [Float], input x: [Float], saved: Saved, tokens: Int, _ p: ParameterSet, _ g: inout ParameterSet) -> [Float] {
        let dActivated = down.backward(dy, input: saved.activated, tokens: tokens, p, &g)
        let (dGate, dUp) = siluMultiplyBackward(gate: saved.gate, up: saved.up, gradient: dActivated)
        var dx = gate.backward(dGate, input: x, tokens: tokens, p, &g)
        add(&dx, up.backward(dUp, input: x, tokens: tokens, p, &g))
        return dx
    }
}
