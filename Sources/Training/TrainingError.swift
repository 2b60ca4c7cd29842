/// What can stop a training or fine-tuning run, each with what was at fault.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidOption(name: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidOption(name, detail): "invalid option \(name): \(detail)"
        }
    }
}
