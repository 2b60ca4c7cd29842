/// Several independent products `output_j = input_j · weight_jᵀ` run under one parallel dispatch: the
/// rows of all jobs form one index space split across threads, so a decoding step pays one hand-off
/// for, say, every selected expert's gate and up projections instead of one per matrix.
///
/// - Parameters:
///   - jobs: weights and their inputs `[tokens, weight.columns]`.
/// - Returns: one output `[tokens, weight.rows]` per job.
public func groupedMatmul(_ jobs: [(weight: WeightMatrix, input: [Float])], tokens: Int) -> [[Float]] {
    if tokens >= BlockedMatMul.tokenStep {
        return jobs.map { matmul($0.input, tokens: tokens, weight: $0.weight) }
    }
    var outputs = jobs.map { [Float](repeating: 0, count: tokens * $0.weight.rows) }
    var starts = [0]
    for job in jobs {
        precondition(job.input.count >= tokens * job.weight.columns, "groupedMatmul input is \(job.input.count), needs \(tokens)×\(job.weight.columns)")
        starts.append(starts.last! + job.weight.rows)
    }
    let totalRows = starts.last!
    // Stable pointers for the dispatch: inputs are copied into one buffer, outputs written into another.
    let inputSizes = jobs.map { $0.input.count }
    let inputBuffer = UnsafeMutablePointer<Float>.allocate(capacity: max(inputSizes.reduce(0, +), 1))
    let outputBuffer = UnsafeMutablePointer<Float>.allocate(capacity: max(totalRows * tokens, 1))
    defer { inputBuffer.deallocate(); outputBuffer.deallocate() }
    var inputOffsets: [Int] = []
    var offset = 0
    for job in jobs {
        inputOffsets.append(offset)
        job.input.withUnsafeBufferPointer { (inputBuffer + offset).update(from: $0.baseAddress!, count: $0.count) }
        offset += job.input.count
    }
    // Jobs on the same input array (say, every expert's gate and up projections) in the same format
    // share its prepared vectors.
    var preparedFor: [PreparedKey: Int] = [:]
    var prepared: [[PackedVector]] = []
    let packed = jobs.indices.map { j in
        let key = PreparedKey(input: jobs[j].input.withUnsafeBufferPointer { $0.baseAddress }, count: jobs[j].input.count,
                              format: jobs[j].weight.format)
        if key.input != nil, let index = preparedFor[key] { return prepared[index] }
        let vectors = (0..<tokens).map { t in
            PackedVector(inputBuffer + inputOffsets[j] + t * jobs[j].weight.columns, count: jobs[j].weight.columns, for: jobs[j].weight)
        }
        preparedFor[key] = prepared.count
        prepared.append(vectors)
        return vectors
    }
    defer { prepared.joined().forEach { $0.deallocate() } }
    let maxColumns = jobs.map(\.weight.columns).max() ?? 1
    let averageColumns = jobs.isEmpty ? 1 : jobs.map(\.weight.columns).reduce(0, +) / jobs.count
    ThreadPool.parallelFor(totalRows, grain: max(1, 65_536 / max(averageColumns * tokens, 1))) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: maxColumns)
        defer { scratch.deallocate() }
        var j = 0
        while starts[j + 1] <= range.lowerBound { j += 1 }
        var row = range.lowerBound
        while row < range.upperBound {
            let weight = jobs[j].weight
            let end = min(starts[j + 1], range.upperBound)
            let local = (row - starts[j])..<(end - starts[j])
            weight.dot(rows: local, packed[j], into: outputBuffer + starts[j] * tokens + local.lowerBound, stride: weight.rows, scratch: scratch)
            row = end
            j += 1
        }
    }
    for j in jobs.indices {
        outputs[j].withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: outputBuffer + starts[j] * tokens, count: $0.count) }
    }
    return outputs
}

/// An input array's storage and the weight format its vectors were prepared for.
private struct PreparedKey: Hashable {
    let input: UnsafePointer<Float>?
    let count: Int
    let format: WeightFormat
}
