import Foundation

/// SiLU-gated product in place: `gate ← silu(gate) · up`, with `silu(x) = x · σ(x)`.
public func siluMultiply(gate: inout [Float], up: [Float]) {
    precondition(gate.count == up.count, "siluMultiply sizes differ: \(gate.count) vs \(up.count)")
    for i in gate.indices {
        let x = gate[i]
        gate[i] = x / (1 + exp(-x)) * up[i]
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

/// Numerically stable softmax of `count` values at `p`, in place (shared by every attention kernel).
@inline(__always)
func softmax(_ p: UnsafeMutablePointer<Float>, count: Int) {
    var maximum = -Float.infinity
    for i in 0..<count { maximum = max(maximum, p[i]) }
    var sum: Float = 0
    for i in 0..<count {
        let e = exp(p[i] - maximum)
        p[i] = e
        sum += e
    }
    let inverse = 1 / sum
    for i in 0..<count { p[i] *= inverse }
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
