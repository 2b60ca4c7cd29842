import Kernels

/// A tokenised corpus split into a training stream and a held-out stream, served as fixed-length windows.
///
/// The training stream is cut into windows of `length + 1` tokens that overlap by one (each window's last
/// token is the next one's first), so every token is predicted once per epoch. Each epoch visits the
/// windows in an order shuffled by the seed and the epoch number, and a batch is named by its cursor (the
/// windows consumed before it): the same seed and cursor give the same batch, which is what resuming needs.
public struct TokenDataset: Sendable {
    public let train: [Int]
    public let heldOut: [Int]
    /// Per token of `train` and `heldOut`, whether it is predicted (fine-tuning takes no loss on prompts);
    /// nil when every token is.
    public let trainMask: [Bool]?
    public let heldOutMask: [Bool]?
    public let length: Int

    /// Splits `documents` (already tokenised, concatenated in order) into the last `heldOutFraction` of the
    /// tokens for evaluation — at least one window — and the rest for training.
    ///
    /// `predicted`, when given, says per token of each document whether a loss is taken on it.
    public init(documents: [[Int]], predicted: [[Bool]]? = nil, length: Int, heldOutFraction: Double) throws {
        guard length > 0 else { throw TrainingError.invalidOption(name: "--sequence-length", detail: "must be positive, got \(length)") }
        guard (0..<1).contains(heldOutFraction) else {
            throw TrainingError.invalidOption(name: "--held-out", detail: "must be in [0, 1), got \(heldOutFraction)")
        }
        let stream = documents.flatMap { $0 }
        let heldOutCount = heldOutFraction == 0 ? 0 : max(Int(Double(stream.count) * heldOutFraction), length + 1)
        guard stream.count - heldOutCount >= length + 1 else {
            throw TrainingError.notEnoughData(tokens: stream.count, needed: length + 1 + heldOutCount)
        }
        train = Array(stream[..<(stream.count - heldOutCount)])
        heldOut = Array(stream[(stream.count - heldOutCount)...])
        if let predicted {
            precondition(zip(documents, predicted).allSatisfy { $0.count == $1.count } && documents.count == predicted.count,
                         "one flag per token of each document")
            let mask = predicted.flatMap { $0 }
            trainMask = Array(mask[..<(mask.count - heldOutCount)])
            heldOutMask = Array(mask[(mask.count - heldOutCount)...])
        } else {
            (trainMask, heldOutMask) = (nil, nil)
        }
        self.length = length
    }

    /// The window of `length + 1` tokens from `start` as a sequence's inputs and targets (-1 where not predicted).
    private func window(_ tokens: [Int], _ mask: [Bool]?, from start: Int) -> (inputs: ArraySlice<Int>, targets: [Int]) {
        let targets = (start + 1)...(start + length)
        return (tokens[start..<(start + length)], targets.map { mask?[$0] == false ? -1 : tokens[$0] })
    }

    private func batch(_ windows: [(inputs: ArraySlice<Int>, targets: [Int])]) -> TrainingBatch {
        TrainingBatch(shape: BatchShape(sequences: windows.count, length: length),
                      inputs: windows.flatMap(\.inputs), targets: windows.flatMap(\.targets))
    }

    /// Windows of `length + 1` tokens in the training stream.
    public var windowsPerEpoch: Int { (train.count - 1) / length }

    /// The windows from `cursor` on (in the seeded order of their epochs), `sequences` of them.
    public func batch(cursor: Int, sequences: Int, seed: UInt64) -> TrainingBatch {
        let windows = (cursor..<(cursor + sequences)).map { position in
            let epoch = position / windowsPerEpoch
            let index = order(epoch: epoch, seed: seed)[position % windowsPerEpoch]
            return window(train, trainMask, from: index * length)
        }
        return batch(windows)
    }

    /// Window indices of `epoch` in their shuffled order (Fisher–Yates with a stream seeded by seed and epoch).
    public func order(epoch: Int, seed: UInt64) -> [Int] {
        var random = RandomSource(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch))
        var order = Array(0..<windowsPerEpoch)
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        }
        return order
    }

    /// The held-out stream as consecutive windows, at most `limit` of them, in batches of `sequences`.
    public func heldOutBatches(sequences: Int, limit: Int = .max) -> [TrainingBatch] {
        let count = min(heldOut.count > length ? (heldOut.count - 1) / length : 0, limit)
        let windows = (0..<count).map { window(heldOut, heldOutMask, from: $0 * length) }
        return stride(from: 0, to: windows.count, by: max(sequences, 1)).map {
            batch(Array(windows[$0..<min($0 + sequences, windows.count)]))
        }
    }
}
