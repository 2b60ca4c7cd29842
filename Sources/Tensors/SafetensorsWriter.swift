import Foundation

/// Writes tensors as one `.safetensors` file, atomically: a temporary file beside the target
/// is written in full and then renamed over it, so a reader never sees half a file.
public enum SafetensorsWriter {
    /// Writes `tensors` (in name order) with optional string `metadata` to `path`.
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to path: String) throws {
        let sorted = tensors.sorted { $0.name < $1.name }
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for tensor in sorted {
            header[tensor.name] = [
                "dtype": tensor.dtype.rawValue,
                "shape": tensor.shape,
                "data_offsets": [offset, offset + tensor.byteCount],
            ] as [String: Any]
            offset += tensor.byteCount
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var file = Data()
        file.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(headerBytes)
        for tensor in sorted {
            file.append(UnsafeRawBufferPointer(start: tensor.baseAddress, count: tensor.byteCount).bindMemory(to: UInt8.self))
        }
        try writeAtomically(file, to: path)
    }

    /// Writes `data` to a temporary file in the target's folder, then renames it into place.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw TensorsError.writeFailed(path: path, reason: reason)
            }
        } catch let error as TensorsError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw TensorsError.writeFailed(path: path, reason: error.localizedDescription)
        }
    }
}
