import Foundation
import Testing
@testable import Tensors

/// Resident checkpoints: tensors copied into the process's own memory, byte for byte, once.
@Suite struct ResidencyTests {
    /// A file of several tensors with awkward sizes and offsets.
    private func writeFile() throws -> (path: String, tensors: [Tensor]) {
        let tensors = (0..<7).map { index in
            let count = [1, 3, 17, 1000, 4099, 70_001, 5][index]
            let bytes = (0..<(count * 2)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &* 7) }
            return Tensor(name: "t\(index)", dtype: .bf16, shape: [count], storage: .owned(bytes: bytes))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("res-\(UUID().uuidString).safetensors").path
        try SafetensorsWriter.write(tensors, metadata: [:], to: path)
        return (path, tensors)
    }

    private func bytes(_ tensor: Tensor) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: tensor.baseAddress, count: tensor.byteCount))
    }

    @Test func residentTensorsHoldTheFileBytesOutsideTheMapping() throws {
        let (path, tensors) = try writeFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapped = try SafetensorsFile(path: path), resident = try SafetensorsFile(path: path, resident: true)
        for original in tensors {
            let view = try mapped.tensor(original.name), copy = try resident.tensor(original.name)
            let same = bytes(copy) == bytes(original) && bytes(view) == bytes(original)
            #expect(same, "\(original.name)")
            #expect(copy.storage !== view.storage)
            // Asked again, the same copy.
            #expect(try resident.tensor(original.name).baseAddress == copy.baseAddress)
        }
    }

    @Test func concurrentRequestsCopyOnce() async throws {
        let (path, tensors) = try writeFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let resident = try SafetensorsFile(path: path, resident: true)
        let addresses = try await withThrowingTaskGroup(of: (String, Int, [UInt8]).self) { group in
            for _ in 0..<8 {
                for original in tensors {
                    group.addTask {
                        let tensor = try resident.tensor(original.name)
                        return (original.name, Int(bitPattern: tensor.baseAddress), self.bytes(tensor))
                    }
                }
            }
            var seen: [String: Set<Int>] = [:]
            for try await (name, address, content) in group {
                let same = content == bytes(tensors.first { $0.name == name }!)
                #expect(same, "\(name)")
                seen[name, default: []].insert(address)
            }
            return seen
        }
        #expect(addresses.count == tensors.count && addresses.values.allSatisfy { $0.count == 1 })
    }

    @Test func checkpointResidencyIsResolvedAtOpening() throws {
        let (path, tensors) = try writeFile()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("res-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.moveItem(atPath: path, toPath: folder.appendingPathComponent("model.safetensors").path)
        #expect(try Checkpoint(directory: folder.path).residency == .mapped)
        #expect(try Checkpoint(directory: folder.path, residency: .resident).residency == .resident)
        // A small checkpoint fits in memory; a file larger than it never does.
        let automatic = try Checkpoint(directory: folder.path, residency: .automatic)
        #expect(automatic.residency == .resident)
        let same = try bytes(automatic.tensor("t5")) == bytes(tensors[5])
        #expect(same)
        #expect(Residency.automatic.resolved(forBytes: Int(ProcessInfo.processInfo.physicalMemory)) == .mapped)
    }
}
