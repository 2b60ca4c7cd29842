import Foundation
import Testing
@testable import Tensors

/// A safetensors file written byte by byte, so each test can make exactly one thing wrong.
func rawSafetensors(header: String, data: [UInt8]) -> Data {
    var file = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
    file.append(contentsOf: Array(header.utf8))
    file.append(contentsOf: data)
    return file
}

func temporaryFile(_ data: Data) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors").path
    try data.write(to: URL(fileURLWithPath: path))
    return path
}

@Suite struct SafetensorsTests {
    @Test func roundTripKeepsNamesShapesAndBytes() throws {
        let a = Tensor(name: "a", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let b = Tensor(name: "b.bias", dtype: .bf16, shape: [2], storage: .owned(bytes: [0x80, 0x3F, 0x00, 0x40]))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rt-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write([b, a], metadata: ["format": "pt"], to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.names == ["a", "b.bias"])
        #expect(file.metadata == ["format": "pt"])
        #expect(try file.tensor("a").floats() == [1, 2, 3, 4, 5, 6])
        #expect(try file.tensor("b.bias").floats() == [1, 2])
        #expect(try file.tensor("b.bias").shape == [2])
    }

    @Test func tooShortFileIsTruncated() throws {
        let path = try temporaryFile(Data([1, 2, 3]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TensorsError.truncated(path: path, detail: "3 bytes, shorter than the 8-byte header length")) {
            try SafetensorsFile(path: path)
        }
    }

    @Test func headerLongerThanFileIsTruncated() throws {
        var data = rawSafetensors(header: "{}", data: [])
        data.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1000).littleEndian) { Data($0) })
        let path = try temporaryFile(data)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TensorsError.self) { try SafetensorsFile(path: path) }
    }

    @Test func dataEndingPastTheFileIsTruncated() throws {
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        let path = try temporaryFile(rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TensorsError.truncated(path: path, detail: "tensor 'w' ends at byte 16 of a 8-byte data section")) {
            try SafetensorsFile(path: path)
        }
    }

    @Test func offsetsThatDisagreeWithTheShapeAreRejected() throws {
        let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#
        let path = try temporaryFile(rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 16)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TensorsError.badOffsets(path: path, tensor: "w", detail: "16 bytes for shape [3] of F32 (12 expected)")) {
            try SafetensorsFile(path: path)
        }
    }

    @Test func reversedOffsetsAreRejected() throws {
        let header = #"{"w":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}}"#
        let path = try temporaryFile(rawSafetensors(header: header, data: [UInt8](repeating: 0, count: 8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TensorsError.self) { try SafetensorsFile(path: path) }
    }

    @Test func unknownDTypeIsNamed() throws {
        let header = #"{"w":{"dtype":"F4_E2M1","shape":[2],"data_offsets":[0,1]}}"#
        let path = try temporaryFile(rawSafetensors(header: header, data: [0]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TensorsError.unknownDType(path: path, tensor: "w", dtype: "F4_E2M1")) { try SafetensorsFile(path: path) }
    }

    @Test func headerThatIsNotJSONIsRejected() throws {
        let path = try temporaryFile(rawSafetensors(header: "{not json", data: []))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TensorsError.invalidHeader(path: path, detail: "not JSON")) { try SafetensorsFile(path: path) }
    }

    @Test func missingTensorAndMissingFileAreNamed() throws {
        let path = try temporaryFile(rawSafetensors(header: "{}", data: []))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TensorsError.missingTensor(name: "x", location: path)) { try SafetensorsFile(path: path).tensor("x") }
        #expect(throws: TensorsError.fileNotFound(path: "/no/such.safetensors")) { try SafetensorsFile(path: "/no/such.safetensors") }
    }

    @Test func shardedCheckpointFindsEveryTensor() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("shards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SafetensorsWriter.write([Tensor(name: "a", shape: [1], floats: [1])], to: folder.appendingPathComponent("s1.safetensors").path)
        try SafetensorsWriter.write([Tensor(name: "b", shape: [1], floats: [2])], to: folder.appendingPathComponent("s2.safetensors").path)
        try Data(#"{"metadata": {}, "weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}"#.utf8)
            .write(to: folder.appendingPathComponent("model.safetensors.index.json"))
        let checkpoint = try Checkpoint(directory: folder.path)
        #expect(checkpoint.names == ["a", "b"])
        #expect(try checkpoint.tensor("b").floats() == [2])
    }

    @Test func shardOutsideTheFolderIsRejected() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("escape-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"weight_map": {"a": "../x.safetensors"}}"#.utf8).write(to: folder.appendingPathComponent("model.safetensors.index.json"))
        #expect(throws: TensorsError.self) { try Checkpoint(directory: folder.path) }
    }
}
