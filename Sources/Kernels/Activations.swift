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
    var maximum = -Float.infinity
    for i in range { maximum = max(maximum, values[i]) }
    var sum: Float = 0
    for i in range {
        let e = exp(values[i] - maximum)
        values[i] = e
        sum += e
    }
    let inverse = 1 / sum
    for i in range { values[i] *= inverse }
}

/// `values[i] += other[i]` for every i.
public func add(_ values: inout [Float], _ other: [Float]) {
    precondition(values.count == other.count, "add sizes differ: \(values.count) vs \(other.count)")
    for i in values.indices { values[i] += other[i] }
}
