/// `accumulator += a · b`, fused where the build targets hardware FMA (the NativeCPU trait on recent
/// x86-64, and every arm64). Without a target FMA unit, Swift lowers `addProduct` to a libm call per
/// lane, so the unfused form is used there.
@inline(__always)
func multiplyAdd(_ accumulator: inout SIMD16<Float>, _ a: SIMD16<Float>, _ b: SIMD16<Float>) {
    #if NATIVE_CPU || arch(arm64)
    accumulator.addProduct(a, b)
    #else
    accumulator += a * b
    #endif
}

@inline(__always)
func multiplyAdd(_ accumulator: inout SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) {
    #if NATIVE_CPU || arch(arm64)
    accumulator.addProduct(a, b)
    #else
    accumulator += a * b
    #endif
}

/// Whether `multiplyAdd` is a fused instruction in this build.
public let multiplyAddIsFused: Bool = {
    #if NATIVE_CPU || arch(arm64)
    true
    #else
    false
    #endif
}()

/// Sum of the lanes by halving (the generic `sum()` is not inlined and runs lane by lane).
@inline(__always)
func horizontalSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c.x + c.y
}

@inline(__always)
func horizontalSum(_ v: SIMD8<Float>) -> Float {
    let b = v.lowHalf + v.highHalf
    let c = b.lowHalf + b.highHalf
    return c.x + c.y
}

/// Eight `Float`s at `p + offset` bytes, any alignment. Forced inline: in a large kernel Swift may leave the
/// generic `loadUnaligned` as a call and spill every live accumulator around it (seen in `attend`).
@inline(__always)
func loadFloats(_ p: UnsafeRawPointer, byteOffset offset: Int = 0) -> SIMD8<Float> {
    p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
}
