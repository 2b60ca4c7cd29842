/// The gradient of `rotate` with respect to its input, in place: the transposed rotation, `(cos, −sin)`.
///
/// `rotate` multiplies each pair by `[[cos, −sin], [sin, cos]]` (cos and sin may carry YaRN's attention
/// scaling, so it is a scaled rotation); the gradient goes back through the transpose.
public func rotateBackward(_ gradient: inout [Float], offset: Int, count: Int, cos: [Float], sin: [Float], interleaved: Bool) {
    let pairs = count / 2
    precondition(cos.count >= pairs && sin.count >= pairs, "rotateBackward needs \(pairs) angles, got \(cos.count)")
    for i in 0..<pairs {
        let a = interleaved ? offset + 2 * i : offset + i
        let b = interleaved ? a + 1 : offset + i + pairs
        let x = gradient[a], y = gradient[b]
        gradient[a] = x * cos[i] + y * sin[i]
        gradient[b] = y * cos[i] - x * sin[i]
    }
}
