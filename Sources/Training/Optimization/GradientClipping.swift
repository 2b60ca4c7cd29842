/// Scales `gradients` down so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradients(_ gradients: inout ParameterSet, maxNorm: Float) -> Float {
    let norm = Float(gradients.squaredNorm.squareRoot())
    if maxNorm > 0 && norm > maxNorm { gradients.scale(by: maxNorm / norm) }
    return norm
}
