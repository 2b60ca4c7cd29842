import Foundation

/// The gradients of `siluMultiply` (`out = silu(gate) · up`): `dgate = dout · up · silu′(gate)` and
/// `dup = dout · silu(gate)`, with `silu′(g) = σ(g) · (1 + g · (1 − σ(g)))`.
///
/// - Parameters:
///   - gate, up: the forward pass's inputs.
///   - gradient: `dout`, the same size.
/// - Returns: `(dgate, dup)`.
public func siluMultiplyBackward(gate: [Float], up: [Float], gradient: [Float]) -> (gate: [Float], up: [Float]) {
    precondition(gate.count == up.count && gate.count == gradient.count, "siluMultiplyBackward sizes differ: \(gate.count), \(up.count), \(gradient.count)")
    var dGate = [Float](repeating: 0, count: gate.count), dUp = dGate
    let count = gate.count
    gate.withUnsafeBufferPointer { g in
        up.withUnsafeBufferPointer { u in
            gradient.withUnsafeBufferPointer { dy in
                dGate.withUnsafeMutableBufferPointer { dg in
                    dUp.withUnsafeMutableBufferPointer { du in
                        ThreadPool.parallelFor(count, grain: 1 << 14) { range in
                            for i in range {
                                let s = 1 / (1 + exp(-g[i]))
                                du[i] = dy[i] * g[i] * s
                                dg[i] = dy[i] * u[i] * s * (1 + g[i] * (1 - s))
                            }
                        }
                    }
                }
            }
        }
    }
    return (dGate, dUp)
}

/// The gradient of `sigmoid` from its outputs `s`: `dx = dy · s · (1 − s)`.
public func sigmoidBackward(output: [Float], gradient: [Float]) -> [Float] {
    precondition(output.count == gradient.count, "sigmoidBackward sizes differ: \(output.count) vs \(gradient.count)")
    return zip(output, gradient).map { s, dy in dy * s * (1 - s) }
}

/// The gradient of a softmax over `values` from its outputs `p`: `dx = p ⊙ (dy − Σ dy ⊙ p)`.
public func softmaxBackward(output: [Float], gradient: [Float]) -> [Float] {
    precondition(output.count == gradient.count, "softmaxBackward sizes differ: \(output.count) vs \(gradient.count)")
    var inner: Float = 0
    for i in output.indices { inner += output[i] * gradient[i] }
    return output.indices.map { output[$0] * (gradient[$0] - inner) }
}
