import Kernels
import Model

/// A linear layer `y = x · Wᵀ (+ b)` over FP32 master weights held in a `ParameterSet`, with its backward pass.
struct TrainingLinear: Sendable {
    /// Slot of `W` `[outputSize, inputSize]`.
    let weight: Int
    /// Slot of `b` `[outputSize]`, if the layer has one.
    let bias: Int?
    let inputSize: Int
    let outputSize: Int
    /// The format the product's operands are rounded to (the weights by the caller, see `Precision`).
    let precision: Precision
    /// A low-rank adapter beside the weight, when the parameters have one for it.
    let adapter: LoRAAdapter?

    init(_ spec: ParameterSpec, bias biasSpec: ParameterSpec? = nil, in parameters: ParameterSet, precision: Precision = .fp32) {
        weight = parameters.slot(spec.name)
        bias = parameters.slot(biasSpec)
        outputSize = spec.shape[0]
        inputSize = spec.shape[1]
        self.precision = precision
        adapter = LoRAAdapter(for: spec, in: parameters)
    }

    /// - Parameter x: `[tokens, inputSize]`. - Returns: `[tokens, outputSize]`.
    func forward(_ x: [Float], tokens: Int, _ p: ParameterSet) -> [Float] {
        var y = gemm(precision.rounded(x), p.values[weight], m: tokens, n: outputSize, k: inputSize, bTransposed: true)
        if let bias {
            let b = p.values[bias]
            for t in 0..<tokens { for o in 0..<outputSize { y[t * outputSize + o] += b[o] } }
        }
        adapter?.forward(x, tokens: tokens, into: &y, p)
        return y
    }

    /// Adds `dyᵀ · x` to the weight's gradient (and `Σ dy` to the bias's), unless frozen, and returns `dy · W`.
    ///
    /// - Parameters:
    ///   - dy: `[tokens, outputSize]`.
    ///   - x: the forward pass's input `[tokens, inputSize]`.
    /// - Returns: `dx` `[tokens, inputSize]`.
    func backward(_ dy: [Float], input x: [Float], tokens: Int, _ p: ParameterSet, _ g: inout ParameterSet) -> [Float] {
        let dy = precision.rounded(dy)
        accumulateGradients(dy, input: x, tokens: tokens, &g)
        var dx = gemm(dy, p.values[weight], m: tokens, n: inputSize, k: outputSize)
        adapter?.backward(dy, input: x, tokens: tokens, into: &dx, p, &g)
        return dx
    }

    /// The base weight's and bias's gradients.
    private func accumulateGradients(_ dy: [Float], input x: [Float], tokens: Int, _ g: inout ParameterSet) {
        if !g.values[weight].isEmpty {
            gemm(&g.values[weight], dy, precision.rounded(x), m: outputSize, n: inputSize, k: tokens, aTransposed: true, accumulate: true)
        }
        if let bias, !g.values[bias].isEmpty {
            for t in 0..<tokens { for o in 0..<outputSize { g.values[bias][o] += dy[t * outputSize + o] } }
        }
    }
}

/// An RMSNorm over a `ParameterSet` slot, with its backward pass.
struct TrainingNorm: Sendable {
    let weight: Int
    let size: Int
    let epsilon: Float

    init(_ spec: ParameterSpec, epsilon: Float, in parameters: ParameterSet) {
        weight = parameters.slot(spec.name)
        size = spec.shape[0]
        self.epsilon = epsilon
    }

    /// Normalises the first `size` values of `rows` rows, `stride` apart, in place.
    func forward(_ x: inout [Float], rows: Int, stride: Int? = nil, _ p: ParameterSet) {
        rmsNorm(&x, rows: rows, columns: size, stride: stride, weight: p.values[weight], epsilon: epsilon)
    }

    /// Returns `x` normalised (a copy).
    func forward(_ x: [Float], rows: Int, _ p: ParameterSet) -> [Float] {
        var y = x
        forward(&y, rows: rows, p)
        return y
    }

    /// Writes the input gradient into the first `size` values of each row of `dx` (rows `stride` apart) and
    /// adds the scale's gradient.
    func backward(_ dy: [Float], input x: [Float], rows: Int, stride: Int? = nil, into dx: inout [Float],
                  _ p: ParameterSet, _ g: inout ParameterSet) {
        var scratch: [Float] = []
        let frozen = g.values[weight].isEmpty
        if frozen { scratch = [Float](repeating: 0, count: size) }
        if frozen {
            rmsNormBackward(gradient: dy, input: x, rows: rows, columns: size, stride: stride, weight: p.values[weight],
                            epsilon: epsilon, inputGradient: &dx, weightGradient: &scratch)
        } else {
            rmsNormBackward(gradient: dy, input: x, rows: rows, columns: size, stride: stride, weight: p.values[weight],
                            epsilon: epsilon, inputGradient: &dx, weightGradient: &g.values[weight])
        }
    }

    /// Returns the input gradient of rows of `size` values.
    func backward(_ dy: [Float], input x: [Float], rows: Int, _ p: ParameterSet, _ g: inout ParameterSet) -> [Float] {
        var dx = [Float](repeating: 0, count: x.count)
        backward(dy, input: x, rows: rows, into: &dx, p, &g)
        return dx
    }
}
