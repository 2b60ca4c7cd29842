import Foundation

/// SiLU-gated product in place: `gate ← silu(gate) · up`, with `silu(x) = x · σ(x) = x / (1 + e⁻ˣ)`,
/// eight lanes at a time through `exponential`.
public func siluMultiply(gate: inout [Float], up: [Float]) {
    precondition(gate.count == up.count, "siluMultiply sizes differ: \(gate.count) vs \(up.count)")
    let count = gate.count
    gate.withUnsafeMutableBytes { g in
        up.withUnsafeBytes { u in
            var i = 0
            while i + 8 <= count {
                let x = g.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                let y = u.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                g.storeBytes(of: x / (1 + exponential(-x)) * y, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                i += 8
            }
            // The tail through the same vector function, so a value's result does not depend on where it sits
            // (a batch of tokens concatenated gets the bits each token gets alone).
            if i < count {
                var x = SIMD8<Float>(), y = SIMD8<Float>()
                for j in 0..<(count - i) {
                    x[j] = g.load(fromByteOffset: 4 * (i + j), as: Float.self)
                    y[j] = u.load(fromByteOffset: 4 * (i + j), as: Float.self)
                }
                let result = x / (1 + exponential(-x)) * y
                for j in 0..<(count - i) { g.storeBytes(of: result[j], toByteOffset: 4 * (i + j), as: Float.self) }
            }
        }
    }
}

/// Logistic sigmoid, elementwise.
public func sigmoid(_ values: [Float]) -> [Float] {
    values.map { 1 / (1 + exp(-$0)) }
}

/// Numerically stable softmax of `values[range]`, in place.
public func softmax(_ values: inout [Float], range: Range<Int>) {
    guard !range.isEmpty else { return }
    values.withUnsafeMutableBufferPointer { softmax($0.baseAddress! + range.lowerBound, count: range.count) }
}

/// Numerically stable softmax of the `count` values at `p`, in place.
@inline(__always)
func softmax(_ p: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    var maximum = -Float.infinity
    for i in 0..<count { maximum = max(maximum, p[i]) }
    let inverse = 1 / exponentiate(p, count: count, scale: 1, shift: maximum)
    for i in 0..<count { p[i] *= inverse }
}

/// `p[i] ← e^(scale · p[i] − shift)` in place; returns their sum.
@inline(__always)
func exponentiate(_ p: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float) -> Float {
    let raw = UnsafeMutableRawPointer(p)
    var sums = SIMD8<Float>()
    var i = 0
    while i + 8 <= count {
        let e = exponential(loadFloats(raw, byteOffset: i * 4) * scale - shift)
        raw.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self)
        sums += e
        i += 8
    }
    var sum = horizontalSum(sums)
    while i < count {
        let e = exp(p[i] * scale - shift)
        p[i] = e
        sum += e
        i += 1
    }
    return sum
}

/// `eˣ` of 8 lanes within ~2 ulp of `exp`: x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-6 Taylor
/// polynomial for eʳ (truncation below 2⁻²³ relative), and 2ⁿ built in the exponent bits. Inputs are
/// clamped to −87…88, where eˣ stays a normal Float: below −87 the result is e⁻⁸⁷, above 88 it is e⁸⁸.
@inline(__always)
func exponential(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // `replacing(with:where:)` compiles to compares and blends; the generic `clamped` would be calls.
    let low = x.replacing(with: -87, where: x .< -87)
    let clamped = low.replacing(with: 88, where: low .> 88)
    // Adding 1.5 × 2²³ rounds to the nearest integer and leaves it in the low mantissa bits.
    let magic: Float = 0x1.8p23
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    // ln 2 in two parts: the first has few enough bits that n × it is exact.
    let r = (clamped - n * 0.693_359_375) + n * 2.121_944_4e-4
    var poly = SIMD8<Float>(repeating: 1.0 / 720)
    poly = poly * r + 1.0 / 120
    poly = poly * r + 1.0 / 24
    poly = poly * r + 1.0 / 6
    poly = poly * r + 0.5
    poly = poly * r + 1
    poly = poly * r + 1
    let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(SIMD8<Float>(repeating: magic), to: SIMD8<Int32>.self)
    let power = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
    return poly * power
}

/// `values[i] += other[i]` for every i.
public func add(_ values: inout [Float], _ other: [Float]) {
    precondition(values.count == other.count, "add sizes differ: \(values.count) vs \(other.count)")
    for i in values.indices { values[i] += other[i] }
}

/// `log softmax(values)`, computed with a stable log-sum-exp in double precision.
public func logSoftmax(_ values: ArraySlice<Float>) -> [Double] {
    let maximum = Double(values.max() ?? 0)
    let logSum = log(values.reduce(0.0) { $0 + exp(Double($1) - maximum) }) + maximum
    return values.map { Double($0) - logSum }
}
