/// Errors reading or writing tensor files; each renders as one line naming the file and the problem.
public enum TensorsError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case truncated(path: String, detail: String)
    case invalidHeader(path: String, detail: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case badOffsets(path: String, tensor: String, detail: String)
    case missingTensor(name: String, location: String)
    case unsupportedConversion(tensor: String, dtype: DType, detail: String)
    case writeFailed(path: String, reason: String)
    case outOfMemory(bytes: Int, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path): "\(path): no such file"
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .truncated(path, detail): "\(path): truncated: \(detail)"
        case let .invalidHeader(path, detail): "\(path): invalid safetensors header: \(detail)"
        case let .unknownDType(path, tensor, dtype): "\(path): tensor '\(tensor)' has unknown dtype '\(dtype)'"
        case let .badOffsets(path, tensor, detail): "\(path): tensor '\(tensor)' has bad data offsets: \(detail)"
        case let .missingTensor(name, location): "\(location): missing tensor '\(name)'"
        case let .unsupportedConversion(tensor, dtype, detail): "tensor '\(tensor)' (\(dtype.rawValue)): \(detail)"
        case let .writeFailed(path, reason): "\(path): cannot write: \(reason)"
        case let .outOfMemory(bytes, reason): "cannot reserve \(bytes) bytes of memory for the weights (\(reason)); load them memory-mapped instead (--mmap)"
        }
    }
}
