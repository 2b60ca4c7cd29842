/// How the rows of a training batch are laid out: `sequences` packed sequences of `length` positions each.
public struct BatchShape: Sendable, Equatable {
    public let sequences: Int
    public let length: Int

    public init(sequences: Int, length: Int) {
        precondition(sequences > 0 && length > 0, "a batch needs at least one sequence of one position, got \(sequences)×\(length)")
        self.sequences = sequences
        self.length = length
    }

    public var rows: Int { sequences * length }
}

/// Token ids and the ids each position should predict.
///
/// `targets[i]` is the token after `inputs[i]`, or negative where no loss is taken (a prompt, padding).
/// Multi-token prediction reads further targets of the same sequence (depth k at position i predicts
/// `targets[i + k]` from the embedding of `targets[i + k − 1]`).
public struct TrainingBatch: Sendable {
    public let shape: BatchShape
    public let inputs: [Int]
    public let targets: [Int]

    public init(shape: BatchShape, inputs: [Int], targets: [Int]) {
        precondition(inputs.count == shape.rows && targets.count == shape.rows, "a \(shape.sequences)×\(shape.length) batch needs \(shape.rows) inputs and targets, got \(inputs.count) and \(targets.count)")
        self.shape = shape
        self.inputs = inputs
        self.targets = targets
    }

    /// A batch of next-token prediction over `sequences`, each `length + 1` tokens long: inputs are the
    /// first `length`, targets the last `length`.
    public init(sequences: [[Int]]) {
        precondition(!sequences.isEmpty && sequences.allSatisfy { $0.count == sequences[0].count && $0.count >= 2 },
                     "next-token sequences must all have the same length of at least 2")
        let length = sequences[0].count - 1
        self.init(shape: BatchShape(sequences: sequences.count, length: length),
                  inputs: sequences.flatMap { $0.dropLast() }, targets: sequences.flatMap { $0.dropFirst() })
    }

    /// Positions with a target.
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
}
