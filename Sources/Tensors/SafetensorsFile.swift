import Foundation
import Synchronization

/// One `.safetensors` file, memory-mapped, with its header parsed and every entry checked; its tensors
/// are views of the mapping, or with `resident` copies made on first request (see `Residency`).
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON mapping tensor names to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data section
/// after the header), an optional `"__metadata__"` object of strings, then the data.
public final class SafetensorsFile: Sendable {
    /// What the header says about one tensor.
    public struct Entry: Sendable, Equatable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range within the data section.
        public let dataRange: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let storage: TensorStorage
    private let dataStart: Int
    /// With `resident`: the file's bytes at their own offsets in anonymous memory, and the open file
    /// they are read from.
    private let mirror: (storage: TensorStorage, descriptor: Int32)?
    /// The tensors copied into `mirror` so far.
    private let copied = Mutex<Set<String>>([])

    /// Maps and validates `path`; throws a `TensorsError` naming the file for any defect. With `resident`,
    /// each tensor is copied into this process's memory the first time `tensor(_:)` asks for it.
    public init(path: String, resident: Bool = false) throws {
        let storage = try TensorStorage.map(path: path)
        guard storage.byteCount >= 8 else {
            throw TensorsError.truncated(path: path, detail: "\(storage.byteCount) bytes, shorter than the 8-byte header length")
        }
        let headerLength = Int(clamping: storage.base.loadUnaligned(as: UInt64.self).littleEndian)
        guard headerLength <= storage.byteCount - 8 else {
            throw TensorsError.truncated(path: path, detail: "header says \(headerLength) bytes but the file has \(storage.byteCount - 8) after the length")
        }
        let headerBytes = Data(bytes: storage.base + 8, count: headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw TensorsError.invalidHeader(path: path, detail: "not JSON")
        }
        guard let object = json as? [String: Any] else {
            throw TensorsError.invalidHeader(path: path, detail: "not a JSON object")
        }
        let dataSize = storage.byteCount - 8 - headerLength
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let dictionary = value as? [String: Any] else {
                    throw TensorsError.invalidHeader(path: path, detail: "__metadata__ is not an object")
                }
                for (key, item) in dictionary { metadata[key] = (item as? String) ?? "\(item)" }
                continue
            }
            entries[name] = try Self.parseEntry(name: name, value: value, dataSize: dataSize, path: path)
        }
        self.path = path
        self.entries = entries
        self.metadata = metadata
        self.storage = storage
        self.dataStart = 8 + headerLength
        if resident {
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw TensorsError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            do {
                self.mirror = (try TensorStorage.reserve(byteCount: storage.byteCount), descriptor)
            } catch {
                close(descriptor)
                throw error
            }
        } else {
            self.mirror = nil
        }
    }

    deinit {
        if let mirror { close(mirror.descriptor) }
    }

    private static func parseEntry(name: String, value: Any, dataSize: Int, path: String) throws -> Entry {
        guard let fields = value as? [String: Any],
              let dtypeName = fields["dtype"] as? String,
              let shapeValues = fields["shape"] as? [Any],
              let offsetValues = fields["data_offsets"] as? [Any] else {
            throw TensorsError.invalidHeader(path: path, detail: "entry '\(name)' lacks dtype, shape or data_offsets")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw TensorsError.unknownDType(path: path, tensor: name, dtype: dtypeName)
        }
        let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
        guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorsError.invalidHeader(path: path, detail: "entry '\(name)' has a shape that is not a list of non-negative integers")
        }
        let offsets = offsetValues.compactMap { ($0 as? NSNumber)?.intValue }
        guard offsets.count == 2, offsetValues.count == 2 else {
            throw TensorsError.badOffsets(path: path, tensor: name, detail: "expected [begin, end]")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end else {
            throw TensorsError.badOffsets(path: path, tensor: name, detail: "[\(begin), \(end)] is not a range")
        }
        guard end <= dataSize else {
            throw TensorsError.truncated(path: path, detail: "tensor '\(name)' ends at byte \(end) of a \(dataSize)-byte data section")
        }
        var expected = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw TensorsError.badOffsets(path: path, tensor: name, detail: "shape \(shape) overflows") }
            expected = product
        }
        guard end - begin == expected else {
            throw TensorsError.badOffsets(path: path, tensor: name, detail: "\(end - begin) bytes for shape \(shape) of \(dtype.rawValue) (\(expected) expected)")
        }
        return Entry(dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    /// Names of every tensor in the file, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The tensor called `name`: a view of the mapped file, or of its resident copy unless `mapped`.
    public func tensor(_ name: String, mapped: Bool = false) throws -> Tensor {
        guard let entry = entries[name] else { throw TensorsError.missingTensor(name: name, location: path) }
        let offset = dataStart + entry.dataRange.lowerBound
        guard let mirror, !mapped else {
            return Tensor(name: name, dtype: entry.dtype, shape: entry.shape, storage: storage, byteOffset: offset)
        }
        try copied.withLock { copied in
            guard !copied.contains(name) else { return }
            // Read with pread, not through the mapping, so none of the file's pages end up mapped here.
            var done = 0
            while done < entry.dataRange.count {
                let target = UnsafeMutableRawPointer(mutating: mirror.storage.base + offset + done)
                let read = pread(mirror.descriptor, target, entry.dataRange.count - done, off_t(offset + done))
                if read < 0 && errno == EINTR { continue }
                guard read > 0 else {
                    throw TensorsError.unreadable(path: path, reason: read < 0 ? String(cString: strerror(errno)) : "file shrank while loading")
                }
                done += read
            }
            copied.insert(name)
        }
        return Tensor(name: name, dtype: entry.dtype, shape: entry.shape, storage: mirror.storage, byteOffset: offset)
    }
}
