/// Several independent products `output_j = input_j · weight_jᵀ` run under one parallel dispatch: the
/// rows of all jobs form one index space split across threads, so a decoding step pays one hand-off
/// for, say, every selected expert's gate and up projections instead of one per matrix.
///
/// - Parameters:
///   - jobs: weights and their inputs `[tokens, weight.columns]`.
///   - path: which kernel (see `matmul`).
/// - Returns: one output `[tokens, weight.rows]` per job.
public func groupedMatmul(_ jobs: [(weight: WeightMatrix, input: [Float])], tokens: Int, path: ProductPath = .automatic) -> [[Float]] {
    if path.isBlocked(tokens: tokens) {
        return jobs.map { matmul($0.input, tokens: tokens, weight: $0.weight, path: .blocked) }
    }
    return groupedMatmul(jobs.map { ($0.weight, $0.input, tokens) })
}

/// `groupedMatmul` on the row-streaming path with each job's own number of tokens (a batch of decoding
/// sequences sends each expert the tokens that chose it): each token's products are what they would be alone.
///
/// - Parameter jobs: weights, inputs `[tokens, weight.columns]` and their token counts.
/// - Returns: one output `[tokens, weight.rows]` per job.
public func groupedMatmul(_ jobs: [(weight: WeightMatrix, input: [Float], tokens: Int)]) -> [[Float]] {
    var starts = [0], outputStarts = [0]
    for job in jobs {
        precondition(job.input.count >= job.tokens * job.weight.columns,
                     "groupedMatmul input is \(job.input.count), needs \(job.tokens)×\(job.weight.columns)")
        starts.append(starts.last! + job.weight.rows)
        outputStarts.append(outputStarts.last! + job.weight.rows * job.tokens)
    }
    let totalRows = starts.last!
    // Stable pointers for the dispatch: each distinct input array (jobs often share one, say every
    // expert's gate and up projections) is copied once into one buffer; outputs are written into another.
    var distinct: [(storage: UnsafePointer<Float>?, count: Int, offset: Int, job: Int)] = []
    let inputIndex = jobs.enumerated().map { j, job in
        let storage = job.input.withUnsafeBufferPointer { $0.baseAddress }
        if storage != nil, let index = distinct.firstIndex(where: { $0.storage == storage && $0.count == job.input.count }) {
            return index
        }
        distinct.append((storage, job.input.count, (distinct.last.map { $0.offset + $0.count }) ?? 0, j))
        return distinct.count - 1
    }
    let inputBuffer = UnsafeMutablePointer<Float>.allocate(capacity: max(distinct.last.map { $0.offset + $0.count } ?? 0, 1))
    let outputBuffer = UnsafeMutablePointer<Float>.allocate(capacity: max(outputStarts.last!, 1))
    defer { inputBuffer.deallocate(); outputBuffer.deallocate() }
    for input in distinct {
        jobs[input.job].input.withUnsafeBufferPointer { (inputBuffer + input.offset).update(from: $0.baseAddress!, count: $0.count) }
    }
    // Jobs on the same input in the same format share its prepared vectors.
    var prepared: [(input: Int, format: WeightFormat, tokens: Int, vectors: [PackedVector])] = []
    let packed = jobs.indices.map { j in
        let input = inputIndex[j], weight = jobs[j].weight, tokens = jobs[j].tokens
        if let found = prepared.first(where: { $0.input == input && $0.format == weight.format && $0.tokens == tokens }) {
            return found.vectors
        }
        let vectors = (0..<tokens).map { t in
            PackedVector(inputBuffer + distinct[input].offset + t * weight.columns, count: weight.columns, for: weight)
        }
        prepared.append((input, weight.format, tokens, vectors))
        return vectors
    }
    defer { prepared.forEach { $0.vectors.forEach { $0.deallocate() } } }
    let maxColumns = jobs.map(\.weight.columns).max() ?? 1
    let averageWork = jobs.isEmpty ? 1 : jobs.map { $0.weight.columns * $0.tokens }.reduce(0, +) / jobs.count
    ThreadPool.parallelFor(totalRows, grain: max(1, 65_536 / max(averageWork, 1))) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: maxColumns)
        defer { scratch.deallocate() }
        var j = 0
        while starts[j + 1] <= range.lowerBound { j += 1 }
        var row = range.lowerBound
        while row < range.upperBound {
            let weight = jobs[j].weight
            let end = min(starts[j + 1], range.upperBound)
            let local = (row - starts[j])..<(end - starts[j])
            weight.dot(rows: local, packed[j], into: outputBuffer + outputStarts[j] + local.lowerBound, stride: weight.rows, scratch: scratch)
            row = end
            j += 1
        }
    }
    return jobs.indices.map { j in
        let count = outputStarts[j + 1] - outputStarts[j]
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.baseAddress!.update(from: outputBuffer + outputStarts[j], count: count)
            initialized = count
        }
    }
}
