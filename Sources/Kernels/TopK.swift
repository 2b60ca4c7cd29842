/// Indices of the `count` largest values, largest first (ties: lower index first).
///
/// One pass keeping the best `count` in order, so picking a few from a vocabulary costs about one read
/// of it; a large share of the values is sorted outright.
public func topIndices(_ values: [Float], count: Int) -> [Int] {
    guard count > 0 else { return [] }
    if count * 8 >= values.count {
        return values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(count).map { $0 }
    }
    var best: [Int] = []
    best.reserveCapacity(count + 1)
    for (i, value) in values.enumerated() {
        if best.count == count, !(value > values[best[count - 1]]) { continue }
        var slot = best.count
        while slot > 0, values[best[slot - 1]] < value { slot -= 1 }
        best.insert(i, at: slot)
        if best.count > count { best.removeLast() }
    }
    return best
}
