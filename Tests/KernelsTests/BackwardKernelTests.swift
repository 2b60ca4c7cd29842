import Foundation
import Testing
@testable import Kernels

/// Every backward kernel against central finite differences of its forward kernel.
///
/// Each check takes the scalar `L = Σ r ⊙ y` of the forward output with fixed random weights `r` (so
/// `dy = r`) and compares the backward pass's `∇L · v` with `(L(x + εv) − L(x − εv)) / 2ε` along random
/// directions `v`, and along single coordinates. The forward passes run in `Float` with `Double` sums, so
/// the difference quotient carries the forward pass's rounding (~10⁻⁷ · |L|) over ε: at ε = 10⁻² on inputs
/// of order 1 the two agree to ~10⁻⁴ relative. The tolerance is 2 × 10⁻³ relative to the larger derivative
/// or to 2 × 10⁻², below which a derivative is within that rounding noise.
struct BackwardKernelTests {
    static func randoms(_ count: Int, _ random: inout RandomSource, range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &random) }
    }

    /// Checks `gradient` of `f` at `x` along 3 random directions and 3 coordinates.
    static func check(_ name: String, _ f: ([Float]) -> Double, at x: [Float], gradient: [Float], random: inout RandomSource,
                      step: Float = 1e-2, tolerance: Double = 2e-3) {
        var directions = (0..<3).map { _ in randoms(x.count, &random) }
        for _ in 0..<3 {
            var unit = [Float](repeating: 0, count: x.count)
            unit[Int.random(in: 0..<x.count, using: &random)] = 1
            directions.append(unit)
        }
        for (i, v) in directions.enumerated() {
            let numeric = GradientCheck.directionalDerivative(f, at: x, direction: v, step: step)
            let analytic = GradientCheck.inner(gradient, v)
            let error = GradientCheck.relativeError(analytic: analytic, numeric: numeric, floor: 2e-2)
            #expect(error < tolerance, "\(name) direction \(i): analytic \(analytic), numeric \(numeric)")
        }
    }

    @Test(arguments: [1, 7, 33])
    func rmsNormBackwardMatchesFiniteDifferences(columns: Int) {
        var random = RandomSource(seed: UInt64(columns))
        let rows = 3, stride = columns + 2
        let x = Self.randoms(rows * stride, &random), w = Self.randoms(columns, &random, range: 0.5...1.5)
        let r = Self.randoms(rows * stride, &random)
        func loss(_ x: [Float], _ w: [Float]) -> Double {
            var y = x
            rmsNorm(&y, rows: rows, columns: columns, stride: stride, weight: w, epsilon: 1e-6)
            var sum = 0.0
            for row in 0..<rows { for c in 0..<columns { sum += Double(y[row * stride + c]) * Double(r[row * stride + c]) } }
            return sum
        }
        var dx = [Float](repeating: 0, count: rows * stride), dw = [Float](repeating: 0, count: columns)
        rmsNormBackward(gradient: r, input: x, rows: rows, columns: columns, stride: stride, weight: w, epsilon: 1e-6,
                        inputGradient: &dx, weightGradient: &dw)
        // The values between rows are not normalised: their gradient must stay zero.
        for row in 0..<rows { for c in columns..<stride { #expect(dx[row * stride + c] == 0) } }
        Self.check("rmsNorm dx", { loss($0, w) }, at: x, gradient: dx, random: &random)
        Self.check("rmsNorm dw", { loss(x, $0) }, at: w, gradient: dw, random: &random)
    }

    @Test(arguments: [true, false])
    func rotateBackwardIsTheTransposedRotation(interleaved: Bool) {
        var random = RandomSource(seed: 3)
        let count = 16, offset = 3
        let x = Self.randoms(offset + count + 2, &random), r = Self.randoms(x.count, &random)
        // Scaled like YaRN's attention factor: not a pure rotation.
        let angles = (0..<(count / 2)).map { Float($0) * 0.7 + 0.1 }
        let cos = angles.map { Foundation.cos($0) * 1.2 }, sin = angles.map { Foundation.sin($0) * 1.2 }
        func loss(_ x: [Float]) -> Double {
            var y = x
            rotate(&y, offset: offset, count: count, cos: cos, sin: sin, interleaved: interleaved)
            return GradientCheck.inner(y, r)
        }
        var dx = r
        rotateBackward(&dx, offset: offset, count: count, cos: cos, sin: sin, interleaved: interleaved)
        Self.check("rotate", loss, at: x, gradient: dx, random: &random)
    }

    @Test(arguments: [1, 7, 33])
    func siluMultiplyBackwardMatchesFiniteDifferences(count: Int) {
        var random = RandomSource(seed: UInt64(count) + 10)
        let gate = Self.randoms(count, &random, range: -4...4), up = Self.randoms(count, &random), r = Self.randoms(count, &random)
        func loss(_ g: [Float], _ u: [Float]) -> Double {
            var y = g
            siluMultiply(gate: &y, up: u)
            return GradientCheck.inner(y, r)
        }
        let (dGate, dUp) = siluMultiplyBackward(gate: gate, up: up, gradient: r)
        Self.check("silu gate", { loss($0, up) }, at: gate, gradient: dGate, random: &random)
        Self.check("silu up", { loss(gate, $0) }, at: up, gradient: dUp, random: &random)
    }

    @Test func sigmoidAndSoftmaxBackwardMatchFiniteDifferences() {
        var random = RandomSource(seed: 21)
        let x = Self.randoms(9, &random, range: -3...3), r = Self.randoms(9, &random)
        let s = sigmoid(x)
        Self.check("sigmoid", { GradientCheck.inner(sigmoid($0), r) }, at: x, gradient: sigmoidBackward(output: s, gradient: r), random: &random)
        var p = x
        softmax(&p, range: 0..<9)
        Self.check("softmax", { v in
            var q = v
            softmax(&q, range: 0..<9)
            return GradientCheck.inner(q, r)
        }, at: x, gradient: softmaxBackward(output: p, gradient: r), random: &random)
    }

    @Test(arguments: [1, 7, 33])
    func crossEntropyMatchesLogSoftmaxAndItsGradient(vocab: Int) {
        var random = RandomSource(seed: UInt64(vocab) + 40)
        let rows = 5
        let logits = Self.randoms(rows * vocab, &random, range: -4...4)
        let targets = (0..<rows).map { $0 == 2 ? -1 : Int.random(in: 0..<vocab, using: &random) }
        func loss(_ l: [Float]) -> Double {
            var copy = l
            return crossEntropy(logits: &copy, targets: targets, vocab: vocab, scale: 1)
        }
        var expected = 0.0
        for row in 0..<rows where targets[row] >= 0 {
            expected -= logSoftmax(logits[(row * vocab)..<((row + 1) * vocab)])[targets[row]]
        }
        var gradient = logits
        let total = crossEntropy(logits: &gradient, targets: targets, vocab: vocab, scale: 0.5)
        #expect(abs(total - expected) <= 1e-5 * max(1, expected))
        // The ignored row has no gradient; every other row's gradient sums to zero.
        #expect(gradient[(2 * vocab)..<(3 * vocab)].allSatisfy { $0 == 0 })
        for row in 0..<rows { #expect(abs(gradient[(row * vocab)..<((row + 1) * vocab)].reduce(0, +)) < 1e-5) }
        Self.check("cross-entropy", { 0.5 * loss($0) }, at: logits, gradient: gradient, random: &random)
    }

    @Test(arguments: [(1, 1), (2, 7), (1, 33)])
    func causalSelfAttentionBackwardMatchesFiniteDifferences(sizes: (Int, Int)) {
        let (sequences, length) = sizes
        var random = RandomSource(seed: UInt64(sequences * 100 + length))
        let shape = CausalSelfAttentionShape(sequences: sequences, length: length, heads: 3, keyDim: 9, valueDim: 5, scale: 0.4)
        let q = Self.randoms(shape.rows * 3 * 9, &random), k = Self.randoms(q.count, &random)
        let v = Self.randoms(shape.rows * 3 * 5, &random), r = Self.randoms(v.count, &random)
        func loss(_ q: [Float], _ k: [Float], _ v: [Float]) -> Double {
            GradientCheck.inner(causalSelfAttention(query: q, keys: k, values: v, shape: shape).output, r)
        }
        let (o, lse) = causalSelfAttention(query: q, keys: k, values: v, shape: shape)
        let (dq, dk, dv) = causalSelfAttentionBackward(query: q, keys: k, values: v, output: o, logSumExp: lse, gradient: r, shape: shape)
        Self.check("attention dq", { loss($0, k, v) }, at: q, gradient: dq, random: &random)
        Self.check("attention dk", { loss(q, $0, v) }, at: k, gradient: dk, random: &random)
        Self.check("attention dv", { loss(q, k, $0) }, at: v, gradient: dv, random: &random)
    }

    /// The training forward pass equals the inference kernel's causal attention over the same sequence.
    @Test func causalSelfAttentionMatchesTheInferenceKernel() {
        var random = RandomSource(seed: 77)
        let length = 19, heads = 2, keyDim = 12, valueDim = 8
        let shape = CausalSelfAttentionShape(sequences: 1, length: length, heads: heads, keyDim: keyDim, valueDim: valueDim, scale: 0.3)
        let q = Self.randoms(length * heads * keyDim, &random), k = Self.randoms(q.count, &random)
        let v = Self.randoms(length * heads * valueDim, &random)
        // The inference kernel takes heads outermost.
        func headsFirst(_ x: [Float], _ width: Int) -> [Float] {
            var result: [Float] = []
            for h in 0..<heads {
                for t in 0..<length {
                    let start = (t * heads + h) * width
                    result += x[start..<(start + width)]
                }
            }
            return result
        }
        let expected = causalAttention(query: headsFirst(q, keyDim), keys: headsFirst(k, keyDim), values: headsFirst(v, valueDim),
                                       heads: heads, queryTokens: length, keyTokens: length, keyDim: keyDim, valueDim: valueDim,
                                       firstQueryPosition: 0, scale: 0.3)
        let output = causalSelfAttention(query: q, keys: k, values: v, shape: shape).output
        for i in output.indices { #expect(abs(output[i] - expected[i]) < 1e-5) }
    }
}
