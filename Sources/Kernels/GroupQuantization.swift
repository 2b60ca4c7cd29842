/// A matrix encoded in one of the integer formats: the packed rows (laid out by `IntegerLayout`) and, per row, one F16 scale (and
/// for `q4a` one F16 offset) for every `WeightFormat.groupSize` columns.
public struct GroupQuantized: Sendable {
    /// `rows × format.rowBytes(columns:)` bytes.
    public var data: [UInt8]
    /// F16 bit patterns `[rows, groups(columns)]`.
    public var scales: [UInt16]
    /// F16 bit patterns `[rows, groups(columns)]` for `q4a`; empty otherwise.
    public var offsets: [UInt16]
}

/// Encodes `values` (`[rows, columns]`) in `format` (`q8`, `q4` or `q4a`), rows in parallel.
///
/// Scales are rounded to F16 before the values are divided by them, so the stored scale is the one
/// the codes were chosen for and every element is within half a step (`scale / 2`) of its value:
/// - `q8`: `scale = max|x| / 127`, codes in −127…127;
/// - `q4`: the element of largest magnitude `m` gives `scale = m / −8`, so it maps to −8 exactly and
///   the codes use all of −8…7 (stored as `n = q + 8`), as llama.cpp's Q4_0 does;
/// - `q4a`: `offset = min`, `scale = (max − min) / 15`, codes 0…15.
public func quantizeGroups(_ values: [Float], rows: Int, columns: Int, format: WeightFormat) -> GroupQuantized {
    precondition(format.isGrouped, "quantizeGroups encodes q8, q4 and q4a, not \(format)")
    precondition(values.count == rows * columns, "quantizeGroups: \(values.count) values for \(rows)×\(columns)")
    let groups = WeightFormat.groups(columns: columns), rowBytes = format.rowBytes(columns: columns)
    var result = GroupQuantized(data: [UInt8](repeating: 0, count: rows * rowBytes),
                                scales: [UInt16](repeating: 0, count: rows * groups),
                                offsets: format == .q4a ? [UInt16](repeating: 0, count: rows * groups) : [])
    values.withUnsafeBufferPointer { source in
        result.data.withUnsafeMutableBufferPointer { dataBuffer in
            result.scales.withUnsafeMutableBufferPointer { scaleBuffer in
                result.offsets.withUnsafeMutableBufferPointer { offsetBuffer in
                    let x = source.baseAddress!, q = dataBuffer.baseAddress!, s = scaleBuffer.baseAddress!
                    let o = format == .q4a ? offsetBuffer.baseAddress : nil
                    ThreadPool.parallelFor(rows, grain: max(1, 65_536 / max(columns, 1))) { range in
                        for r in range {
                            for g in 0..<groups {
                                let start = g * WeightFormat.groupSize, end = min(start + WeightFormat.groupSize, columns)
                                let group = UnsafeBufferPointer(start: x + r * columns + start, count: end - start)
                                let (scale, offset) = groupParameters(group, format: format)
                                s[r * groups + g] = NumberFormats.f16(scale)
                                let storedScale = NumberFormats.float(f16: s[r * groups + g])
                                var storedOffset: Float = 0
                                if let o {
                                    o[r * groups + g] = NumberFormats.f16(offset)
                                    storedOffset = NumberFormats.float(f16: o[r * groups + g])
                                }
                                for c in start..<end {
                                    let code = encode(x[r * columns + c], scale: storedScale, offset: storedOffset, format: format)
                                    if format == .q8 {
                                        q[r * rowBytes + IntegerLayout.q8Position(column: c, columns: columns)] = code
                                    } else {
                                        let (byte, shift) = IntegerLayout.q4Position(column: c, columns: columns)
                                        q[r * rowBytes + byte] |= code << UInt8(shift)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return result
}

/// The scale and offset (0 for the symmetric formats) of one group.
private func groupParameters(_ group: UnsafeBufferPointer<Float>, format: WeightFormat) -> (scale: Float, offset: Float) {
    switch format {
    case .q8:
        return (group.reduce(0) { max($0, abs($1)) } / 127, 0)
    case .q4:
        var extreme: Float = 0
        for v in group where abs(v) > abs(extreme) { extreme = v }
        return (extreme / -8, 0)
    default:
        let low = group.min() ?? 0, high = group.max() ?? 0
        return ((high - low) / 15, low)
    }
}

/// The stored code of `value`: a two's-complement byte for `q8`, a nibble `0…15` otherwise.
@inline(__always)
private func encode(_ value: Float, scale: Float, offset: Float, format: WeightFormat) -> UInt8 {
    // A zero scale (a group of zeros, or one that underflows F16) stores the zero code.
    guard scale != 0, scale.isFinite else { return format == .q4 ? 8 : 0 }
    switch format {
    case .q8:
        return UInt8(bitPattern: Int8(max(-127, min(127, (value / scale).rounded(.toNearestOrEven)))))
    case .q4:
        return UInt8(max(-8, min(7, (value / scale).rounded(.toNearestOrEven))) + 8)
    default:
        return UInt8(max(0, min(15, ((value - offset) / scale).rounded(.toNearestOrEven))))
    }
}
