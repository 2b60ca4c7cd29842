/// Rotates `count` values starting at `offset` by the angles whose cosines and sines are given
/// (one per pair, `count / 2` of each) — rotary position embedding.
///
/// - Parameter interleaved: pairs are `(x[2i], x[2i+1])`, as DeepSeek's checkpoints store the
///   rope dimensions (`rope_interleave`); otherwise `(x[i], x[i + count/2])` (GPT-NeoX style).
public func rotate(_ values: inout [Float], offset: Int, count: Int, cos: [Float], sin: [Float], interleaved: Bool) {
    let pairs = count / 2
    precondition(cos.count >= pairs && sin.count >= pairs, "rotate needs \(pairs) angles, got \(cos.count)")
    for i in 0..<pairs {
        let a = interleaved ? offset + 2 * i : offset + i
        let b = interleaved ? a + 1 : offset + i + pairs
        let x = values[a], y = values[b]
        values[a] = x * cos[i] - y * sin[i]
        values[b] = y * cos[i] + x * sin[i]
    }
}
