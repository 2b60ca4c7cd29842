import Foundation

/// The tensors of a checkpoint directory: `model.safetensors`, or the shards listed by
/// `model.safetensors.index.json` (`{"weight_map": {tensor: shard file}}`). Every file is
/// memory-mapped; `residency` says whether tensors are views of the mapping or copies in this
/// process's own memory.
public final class Checkpoint: Sendable {
    public let directory: String
    private let files: [SafetensorsFile]
    private let location: [String: Int]
    /// Tensors that stand in for the files' (a LoRA adapter merged at load).
    private let replaced: [String: Tensor]

    /// `.mapped` or `.resident`, as resolved when the checkpoint was opened.
    public let residency: Residency

    /// Opens the checkpoint in `directory`; throws a `TensorsError` naming the file at fault.
    public init(directory: String, residency: Residency = .mapped) throws {
        let base = URL(fileURLWithPath: directory)
        let indexPath = base.appendingPathComponent("model.safetensors.index.json").path
        let singlePath = base.appendingPathComponent("model.safetensors").path
        let paths: [String]
        if FileManager.default.fileExists(atPath: indexPath) {
            paths = try Self.shardNames(indexPath: indexPath).map { base.appendingPathComponent($0).path }
        } else if FileManager.default.fileExists(atPath: singlePath) {
            paths = [singlePath]
        } else {
            throw TensorsError.fileNotFound(path: singlePath)
        }
        let bytes = paths.reduce(0) { total, path in
            total + (((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0)
        }
        let residency = residency.resolved(forBytes: bytes)
        var files: [SafetensorsFile] = []
        var location: [String: Int] = [:]
        for path in paths {
            let file = try SafetensorsFile(path: path, resident: residency == .resident)
            for name in file.entries.keys { location[name] = files.count }
            files.append(file)
        }
        self.residency = residency
        self.directory = directory
        self.files = files
        self.location = location
        replaced = [:]
    }

    /// `base` with `tensors` in place of its tensors of the same names (which it must have).
    public init(_ base: Checkpoint, replacing tensors: [Tensor]) {
        directory = base.directory
        files = base.files
        location = base.location
        residency = base.residency
        replaced = base.replaced.merging(tensors.map { ($0.name, $0) }) { $1 }
    }

    private static func shardNames(indexPath: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: indexPath) else {
            throw TensorsError.unreadable(path: indexPath, reason: "cannot open")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let weightMap = object["weight_map"] as? [String: String] else {
            throw TensorsError.invalidHeader(path: indexPath, detail: "expected an object with a \"weight_map\" of tensor name to file")
        }
        for shard in Set(weightMap.values) where shard.contains("/") || shard.hasPrefix(".") {
            throw TensorsError.invalidHeader(path: indexPath, detail: "shard name '\(shard)' leaves the checkpoint folder")
        }
        return Set(weightMap.values).sorted()
    }

    /// Every tensor name in the checkpoint, sorted.
    public var names: [String] { location.keys.sorted() }

    public func contains(_ name: String) -> Bool { location[name] != nil }

    /// Header entry for `name`, if present.
    public func entry(_ name: String) -> SafetensorsFile.Entry? {
        location[name].flatMap { files[$0].entries[name] }
    }

    /// The tensor called `name`, viewing its shard in place, or its copy in a resident checkpoint unless
    /// `mapped` (for tensors read a few rows at a time, such as the token embedding: a copy would hold
    /// every row in memory to no gain).
    public func tensor(_ name: String, mapped: Bool = false) throws -> Tensor {
        if let tensor = replaced[name] { return tensor }
        guard let index = location[name] else {
            throw TensorsError.missingTensor(name: name, location: directory)
        }
        return try files[index].tensor(name, mapped: mapped)
    }

    /// Total bytes of tensor data across all files.
    public var dataBytes: Int {
        files.reduce(0) { total, file in total + file.entries.values.reduce(0) { $0 + $1.dataRange.count } }
    }
}
