import Foundation
import JSON
import Tensors

/// Writes the tensors of a checkpoint folder, one parameter at a time, into `model.safetensors` or,
/// past `shardBytes`, into `model-0000i-of-0000n.safetensors` shards with a
/// `model.safetensors.index.json` — the layouts `Checkpoint` reads. Only one parameter's bytes are in
/// memory at once; each file is written atomically (see `SafetensorsWriter`).
public struct CheckpointWriter {
    /// Tensors produced together (a weight and its scales): `produce` returns the bytes of each entry.
    public struct Parameter {
        public let entries: [SafetensorsWriter.Entry]
        public let produce: () throws -> [[UInt8]]

        public init(entries: [SafetensorsWriter.Entry], produce: @escaping () throws -> [[UInt8]]) {
            self.entries = entries
            self.produce = produce
        }
    }

    public static let singleFile = "model.safetensors"
    public static let indexFile = "model.safetensors.index.json"

    /// Writes `parameters` in order into `directory` (which must exist); files beyond the new layout's
    /// (a stale index or single file from an earlier write) are removed afterwards.
    public static func write(_ parameters: [Parameter], to directory: String, shardBytes: Int = 5 << 30) throws {
        var shards: [[Int]] = [[]]
        var size = 0
        for (index, parameter) in parameters.enumerated() {
            let bytes = parameter.entries.reduce(0) { $0 + $1.shape.reduce(1, *) * $1.dtype.byteSize }
            if size > 0 && size + bytes > shardBytes {
                shards.append([])
                size = 0
            }
            shards[shards.count - 1].append(index)
            size += bytes
        }
        let base = URL(fileURLWithPath: directory)
        let names = shards.count == 1 ? [singleFile]
            : (1...shards.count).map { String(format: "model-%05d-of-%05d.safetensors", $0, shards.count) }
        var weightMap: [(String, String)] = []
        var totalSize = 0
        for (shard, members) in shards.enumerated() {
            let entries = members.flatMap { parameters[$0].entries }
            // Entry i belongs to parameter owner[i]; a parameter's parts are produced on its first entry.
            let owner = members.flatMap { m in parameters[m].entries.map { _ in m } }
            var pending: [[UInt8]] = []
            var first = 0
            try SafetensorsWriter.write(entries: entries, metadata: ["format": "pt"], to: base.appendingPathComponent(names[shard]).path) { i in
                if i == 0 || owner[i] != owner[i - 1] {
                    pending = try parameters[owner[i]].produce()
                    first = i
                    guard pending.count == parameters[owner[i]].entries.count else {
                        throw TensorsError.writeFailed(path: names[shard], reason: "'\(entries[i].name)' produced \(pending.count) tensors, \(parameters[owner[i]].entries.count) expected")
                    }
                }
                return pending[i - first]
            }
            for entry in entries {
                weightMap.append((entry.name, names[shard]))
                totalSize += entry.shape.reduce(1, *) * entry.dtype.byteSize
            }
        }
        let fileManager = FileManager.default
        if shards.count == 1 {
            try? fileManager.removeItem(at: base.appendingPathComponent(indexFile))
        } else {
            try? fileManager.removeItem(at: base.appendingPathComponent(singleFile))
            let map = JSONObject(weightMap.sorted { $0.0 < $1.0 }.map { ($0.0, JSONValue.string($0.1)) })
            let index = JSONValue.object(JSONObject([
                ("metadata", .object(JSONObject([("total_size", .int(totalSize))]))), ("weight_map", .object(map)),
            ]))
            try Data(index.serialized(pythonSeparators: true, indent: 2).utf8).write(to: base.appendingPathComponent(indexFile), options: .atomic)
        }
    }
}
