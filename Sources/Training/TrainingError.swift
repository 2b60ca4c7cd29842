/// What can stop a training or fine-tuning run, each with what was at fault.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidOption(name: String, detail: String)
    case notEnoughData(tokens: Int, needed: Int)
    case unreadableData(path: String, detail: String)
    case checkpointFailed(path: String, detail: String)
    case invalidAdapter(path: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidOption(name, detail): "invalid option \(name): \(detail)"
        case let .notEnoughData(tokens, needed): "the data has \(tokens) tokens, at least \(needed) are needed for one training window and the held-out split"
        case let .unreadableData(path, detail): "cannot read training data \(path): \(detail)"
        case let .checkpointFailed(path, detail): "checkpoint \(path): \(detail)"
        case let .invalidAdapter(path, detail): "LoRA adapter \(path): \(detail)"
        }
    }
}
