import Foundation

/// Writes `.safetensors` files atomically: everything goes to a temporary file beside the target,
/// which is renamed over it only when complete, so a reader never sees half a file and an
/// existing file survives a failed write.
public enum SafetensorsWriter {
    /// What the header says of one tensor to be written.
    public struct Entry: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]

        public init(name: String, dtype: DType, shape: [Int]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }

        var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
    }

    /// Writes in-memory `tensors` (in name order) with optional string `metadata` to `path`.
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to path: String) throws {
        let sorted = tensors.sorted { $0.name < $1.name }
        try write(entries: sorted.map { Entry(name: $0.name, dtype: $0.dtype, shape: $0.shape) }, metadata: metadata, to: path) { i in
            UnsafeRawBufferPointer(start: sorted[i].baseAddress, count: sorted[i].byteCount).map { $0 }
        }
    }

    /// Streams tensors to `path` in the order of `entries`: `produce(i)` returns entry `i`'s bytes when
    /// it is its turn, so only one tensor need be in memory at a time.
    public static func write(entries: [Entry], metadata: [String: String] = [:], to path: String,
                             produce: (Int) throws -> [UInt8]) throws {
        var header = "{"
        if !metadata.isEmpty {
            header += "\"__metadata__\":{" + metadata.sorted { $0.key < $1.key }
                .map { "\(Self.quoted($0.key)):\(Self.quoted($0.value))" }.joined(separator: ",") + "},"
        }
        var offset = 0
        header += entries.map { entry in
            defer { offset += entry.byteCount }
            return "\(Self.quoted(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + entry.byteCount)]}"
        }.joined(separator: ",")
        header += "}"
        var headerBytes = Array(header.utf8)
        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: temporary) else {
            throw TensorsError.writeFailed(path: path, reason: "cannot create \(temporary.lastPathComponent) in the folder")
        }
        do {
            defer { try? handle.close() }
            try handle.write(contentsOf: withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { Data($0) })
            try handle.write(contentsOf: headerBytes)
            for (i, entry) in entries.enumerated() {
                let bytes = try produce(i)
                guard bytes.count == entry.byteCount else {
                    throw TensorsError.writeFailed(path: path, reason: "tensor '\(entry.name)' produced \(bytes.count) bytes, \(entry.byteCount) expected")
                }
                try handle.write(contentsOf: bytes)
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? TensorsError { throw error }
            throw TensorsError.writeFailed(path: path, reason: "\(error)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw TensorsError.writeFailed(path: path, reason: reason)
        }
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
