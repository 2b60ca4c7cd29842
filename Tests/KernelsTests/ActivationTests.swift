import Foundation
import Testing
@testable import Kernels

/// The vector exponential and the SiLU-gated product built on it, against `exp` in Double.
struct ActivationTests {
    /// Within 3 × 10⁻⁷ relative of `exp` over −87…88, and clamped outside it.
    @Test func vectorExponentialMatchesExp() {
        var worst: Double = 0
        var x: Float = -87
        while x <= 88 {
            let lanes = SIMD8<Float>((0..<8).map { min(x + Float($0) * 0.0013, 88) })
            let e = exponential(lanes)
            for i in 0..<8 { worst = max(worst, abs(Double(e[i]) / Foundation.exp(Double(lanes[i])) - 1)) }
            x += 0.0101
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        #expect(exponential(SIMD8(repeating: -1000))[0] == exponential(SIMD8(repeating: -87))[0])
        #expect(exponential(SIMD8(repeating: 1000))[0] == exponential(SIMD8(repeating: 88))[0])
        #expect(exponential(SIMD8(repeating: 1000))[0].isFinite)
    }

    /// `silu(g) · u` on lengths that leave a scalar tail, with gates from −200 to 200, to 4 × 10⁻⁷
    /// relative (plus 10⁻³⁰ absolute for the vanishing negative side).
    @Test(arguments: [1, 7, 8, 33, 4097])
    func siluMultiplyMatchesTheFormula(count: Int) {
        var random = RandomSource(seed: UInt64(count))
        let gate = (0..<count).map { i in i % 5 == 0 ? Float(i % 401) - 200 : Float.random(in: -12...12, using: &random) }
        let up = (0..<count).map { _ in Float.random(in: -3...3, using: &random) }
        var out = gate
        siluMultiply(gate: &out, up: up)
        for i in 0..<count {
            let g = Double(gate[i])
            let expected: Double = g / (1 + Foundation.exp(-g)) * Double(up[i])
            let error = abs(Double(out[i]) - expected)
            #expect(error <= 4e-7 * abs(expected) + 1e-30, "at \(i): gate \(g), got \(out[i]), expected \(expected)")
        }
    }
}
