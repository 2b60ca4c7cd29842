/// Inner products of a stored weight row with `Float` vectors, widening the stored format in
/// registers. Accumulation uses `+= x * y` rather than `addProduct`: without an FMA target feature
/// the latter becomes a libm call per lane.

@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>()
    var i = 0
    let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
    while i + 16 <= count {
        let x = rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        let y = rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        accumulator += x * y
        i += 16
    }
    var sum = accumulator.sum()
    while i < count {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// BF16 row · `Float` vector: a BF16 value is the top half of a binary32.
@inline(__always)
func dotBF16(_ row: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>()
    var i = 0
    let rawRow = UnsafeRawPointer(row), rawX = UnsafeRawPointer(x)
    while i + 16 <= count {
        let halves = rawRow.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<UInt16>.self)
        let w = unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: halves) &<< 16, to: SIMD16<Float>.self)
        accumulator += w * rawX.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    var sum = accumulator.sum()
    while i < count {
        sum += NumberFormats.float(bf16: row[i]) * x[i]
        i += 1
    }
    return sum
}
