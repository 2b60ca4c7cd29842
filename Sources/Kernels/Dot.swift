/// Inner product of two `Float` vectors of length `count`, accumulated in 16 SIMD lanes.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>()
    var i = 0
    let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
    while i + 16 <= count {
        let x = rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        let y = rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        accumulator += x * y  // not addProduct: without an FMA target feature that becomes a libm call per lane
        i += 16
    }
    var sum = accumulator.sum()
    while i < count {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}
