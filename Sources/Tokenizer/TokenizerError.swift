/// Errors loading or using a tokenizer; each renders as one line naming the file or value.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case invalidFile(path: String, detail: String)
    case unsupported(path: String, component: String, detail: String)
    case invalidPattern(pattern: String, detail: String)
    case unknownTokenID(Int, vocabulary: Int)
    case unknownToken(String)
    case invalidVocabularySize(Int, minimum: Int)
    case invalidMinimumFrequency(Int)

    public var description: String {
        switch self {
        case let .missingFile(path): "\(path): no such file"
        case let .invalidFile(path, detail): "\(path): \(detail)"
        case let .unsupported(path, component, detail): "\(path): unsupported \(component): \(detail)"
        case let .invalidPattern(pattern, detail): "regex '\(pattern)': \(detail)"
        case let .unknownTokenID(id, vocabulary): "token id \(id) is outside the vocabulary of \(vocabulary)"
        case let .unknownToken(token): "token '\(token)' is not in the vocabulary"
        case let .invalidVocabularySize(size, minimum): "vocabulary size \(size) is below the minimum \(minimum) (special tokens, 256 bytes, added tokens)"
        case let .invalidMinimumFrequency(value): "minimum frequency \(value) must be at least 1"
        }
    }
}
