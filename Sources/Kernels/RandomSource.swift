import Foundation

/// A small, fast, seedable generator (xoshiro256**), seeded through SplitMix64 so that nearby
/// seeds give unrelated streams. The same seed gives the same numbers on every platform.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// A generator seeded from the system's entropy.
    public init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: system.next())
    }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// A uniform `Float` in [0, 1) with 24 random bits.
    public mutating func nextUnit() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Two independent standard normal values (Box–Muller).
    public mutating func nextGaussianPair() -> (Float, Float) {
        let u = max(Double(next() >> 11) * 0x1p-53, 0x1p-60), v = Double(next() >> 11) * 0x1p-53
        let radius = (-2 * log(u)).squareRoot()
        return (Float(radius * cos(2 * .pi * v)), Float(radius * sin(2 * .pi * v)))
    }

    /// Fills `values` with normal samples of standard deviation `std`.
    public mutating func fillGaussian(_ values: inout [Float], std: Float) {
        var i = 0
        while i < values.count {
            let (a, b) = nextGaussianPair()
            values[i] = a * std
            if i + 1 < values.count { values[i + 1] = b * std }
            i += 2
        }
    }

    /// `count` normal samples of standard deviation `std`, generated in parallel chunks of 2²⁰, each
    /// from its own stream derived from `seed`, so the result does not depend on the thread count.
    public static func gaussian(count: Int, std: Float, seed: UInt64) -> [Float] {
        let chunk = 1 << 20
        let chunks = (count + chunk - 1) / chunk
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let base = buffer
            ThreadPool.parallelFor(chunks) { range in
                for c in range {
                    var random = RandomSource(seed: seed ^ (UInt64(c) &* 0xD1B5_4A32_D192_ED03))
                    var piece = [Float](repeating: 0, count: min(chunk, count - c * chunk))
                    random.fillGaussian(&piece, std: std)
                    for (i, v) in piece.enumerated() { base[c * chunk + i] = v }
                }
            }
        }
        return values
    }
}
