import Tensors

/// Errors loading or running a model; each renders as one line naming the file, key or tensor.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case invalidConfig(path: String, key: String, detail: String)
    case unsupportedConfig(key: String, value: String, supported: String)
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    case unsupportedDType(tensor: String, dtype: String)
    case tensors(TensorsError)
    case tokenOutOfRange(token: Int, vocabulary: Int)
    case contextOverflow(tokens: Int, limit: Int)
    case emptyInput
    case invalidOption(option: String, detail: String)
    case cacheReservation(positions: Int, bytes: Double)

    public var description: String {
        switch self {
        case let .missingFile(path): "\(path): no such file"
        case let .invalidConfig(path, key, detail): "\(path): config key '\(key)': \(detail)"
        case let .unsupportedConfig(key, value, supported): "config key '\(key)': unsupported value \(value) (supported: \(supported))"
        case let .shapeMismatch(tensor, expected, actual): "tensor '\(tensor)' has shape \(actual), the config implies \(expected)"
        case let .unsupportedDType(tensor, dtype): "tensor '\(tensor)' has dtype \(dtype), which this layer cannot use"
        case let .tensors(error): error.description
        case let .tokenOutOfRange(token, vocabulary): "token id \(token) is outside the vocabulary of \(vocabulary)"
        case let .contextOverflow(tokens, limit): "\(tokens) tokens exceed the context of \(limit) (max_position_embeddings or --context)"
        case .emptyInput: "no input tokens"
        case let .invalidOption(option, detail): "\(option): \(detail)"
        case let .cacheReservation(positions, bytes): "cannot reserve \(Int(min(bytes / 1e9, 1e15).rounded(.up))) GB of address space for a KV cache of \(positions) positions (lower --context)"
        }
    }
}

/// Runs `body`, turning a `TensorsError` into `ModelError.tensors` so callers see one error type.
func mappingTensorErrors<T>(_ body: () throws -> T) throws(ModelError) -> T {
    do {
        return try body()
    } catch let error as TensorsError {
        throw .tensors(error)
    } catch let error as ModelError {
        throw error
    } catch {
        throw .tensors(.unreadable(path: "?", reason: "\(error)"))
    }
}
