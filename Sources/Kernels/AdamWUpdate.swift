/// The constants of one AdamW update (see `adamWUpdate`).
public struct AdamWStep: Sendable, Equatable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// `learningRate × weight decay`, or 0 for a tensor that does not decay.
    public var decay: Float
    /// The bias corrections `1 − β₁ᵗ` and `1 − β₂ᵗ`.
    public var correction1: Float
    public var correction2: Float

    public init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, decay: Float, correction1: Float, correction2: Float) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.decay = decay
        self.correction1 = correction1
        self.correction2 = correction2
    }
}

/// One AdamW update of a tensor, element by element, across threads:
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `w ← w − (lr·m̂ / (√v̂ + ε) + decay·w)` with `m̂ = m / (1−β₁ᵗ)`
/// and `v̂ = v / (1−β₂ᵗ)`. Each element gets the same operations in the same order on every path.
public func adamWUpdate(weights: inout [Float], firstMoment: inout [Float], secondMoment: inout [Float], gradient: [Float], step s: AdamWStep) {
    let count = weights.count
    precondition(firstMoment.count == count && secondMoment.count == count && gradient.count == count,
                 "adamWUpdate needs equal sizes, got \(count), \(firstMoment.count), \(secondMoment.count), \(gradient.count)")
    guard count > 0 else { return }
    weights.withUnsafeMutableBufferPointer { w in
    firstMoment.withUnsafeMutableBufferPointer { m in
    secondMoment.withUnsafeMutableBufferPointer { v in
    gradient.withUnsafeBufferPointer { g in
        let (w, m, v, g) = (w.baseAddress!, m.baseAddress!, v.baseAddress!, g.baseAddress!)
        ThreadPool.parallelFor(count, grain: 1 << 15) { range in
            var i = range.lowerBound
            let b1 = SIMD8<Float>(repeating: s.beta1), b2 = SIMD8<Float>(repeating: s.beta2)
            let keep1 = SIMD8<Float>(repeating: 1 - s.beta1), keep2 = SIMD8<Float>(repeating: 1 - s.beta2)
            while i + 8 <= range.upperBound {
                let gradient = loadFloats(UnsafeRawPointer(g + i))
                let first = b1 * loadFloats(UnsafeRawPointer(m + i)) + keep1 * gradient
                let second = b2 * loadFloats(UnsafeRawPointer(v + i)) + keep2 * gradient * gradient
                let weight = loadFloats(UnsafeRawPointer(w + i))
                let step = s.learningRate * (first / s.correction1) / ((second / s.correction2).squareRoot() + s.epsilon)
                UnsafeMutableRawPointer(m + i).storeBytes(of: first, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(v + i).storeBytes(of: second, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(w + i).storeBytes(of: weight - (step + s.decay * weight), as: SIMD8<Float>.self)
                i += 8
            }
            while i < range.upperBound {
                m[i] = s.beta1 * m[i] + (1 - s.beta1) * g[i]
                v[i] = s.beta2 * v[i] + (1 - s.beta2) * g[i] * g[i]
                let mHat = m[i] / s.correction1, vHat = v[i] / s.correction2
                w[i] -= s.learningRate * mHat / (vHat.squareRoot() + s.epsilon) + s.decay * w[i]
                i += 1
            }
        }
    }}}}
}
