/// Central finite differences, for checking a backward pass against its forward pass.
///
/// A scalar function `f` of a vector is probed along a direction `v`: `(f(x + εv) − f(x − εv)) / 2ε`
/// estimates `∇f(x) · v` with an error of order `ε²` plus the forward pass's rounding over `ε`. Sums are
/// kept in `Double` so the rounding is that of the `Float` forward pass alone.
public enum GradientCheck {
    /// The derivative of `f` at `x` along `direction`, by central differences with step `step`.
    public static func directionalDerivative(_ f: ([Float]) -> Double, at x: [Float], direction: [Float], step: Float) -> Double {
        precondition(x.count == direction.count, "direction has \(direction.count) values, the point \(x.count)")
        let plus = zip(x, direction).map { $0 + step * $1 }
        let minus = zip(x, direction).map { $0 - step * $1 }
        return (f(plus) - f(minus)) / (2 * Double(step))
    }

    /// `Σ a[i] · b[i]` in `Double`.
    public static func inner(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "inner product of \(a.count) and \(b.count) values")
        var sum = 0.0
        for i in a.indices { sum += Double(a[i]) * Double(b[i]) }
        return sum
    }

    /// How far an analytic directional derivative is from the finite-difference one, relative to the
    /// larger of the two (and to `floor`, below which both count as zero).
    public static func relativeError(analytic: Double, numeric: Double, floor: Double = 1e-6) -> Double {
        abs(analytic - numeric) / max(abs(analytic), abs(numeric), floor)
    }
}
