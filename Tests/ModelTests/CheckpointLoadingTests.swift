import Foundation
import Kernels
import Testing
@testable import Model
@testable import Tensors

@Suite struct CheckpointLoadingTests {
    @Test func shardedCheckpointGivesTheSameLogits() throws {
        let source = URL(fileURLWithPath: Fixtures.model("v3-yarn"))
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        let checkpoint = try Checkpoint(directory: source.path)
        let names = checkpoint.names
        let halves = [Array(names[..<(names.count / 2)]), Array(names[(names.count / 2)...])]
        var weightMap: [String] = []
        for (i, half) in halves.enumerated() {
            let shard = "model-0000\(i + 1)-of-00002.safetensors"
            try SafetensorsWriter.write(try half.map { try checkpoint.tensor($0) }, to: folder.appendingPathComponent(shard).path)
            weightMap += half.map { "\"\($0)\": \"\(shard)\"" }
        }
        try Data("{\"metadata\": {}, \"weight_map\": {\(weightMap.joined(separator: ","))}}".utf8)
            .write(to: folder.appendingPathComponent("model.safetensors.index.json"))

        let model = try Transformer(directory: folder.path)
        let reference = try Fixtures.reference("v3-yarn")
        var cache = try model.makeCache()
        let logits = try model.forward(tokens: reference.promptIDs, cache: &cache, logits: .all)
        #expect(relativeError(logits, reference.logits.flatMap { $0 }) <= 1e-4)
    }

    /// Weights copied into the process's memory and weights left in the mapped file give the same bits.
    @Test(arguments: ["v3-yarn", "v3-fp8-real-heads"])
    func residentAndMappedWeightsGiveIdenticalLogits(fixture: String) throws {
        let mapped = try Transformer(directory: Fixtures.model(fixture), residency: .mapped)
        let resident = try Transformer(directory: Fixtures.model(fixture), residency: .resident)
        #expect(mapped.checkpoint.residency == .mapped && resident.checkpoint.residency == .resident)
        let tokens = try Fixtures.reference(fixture).promptIDs
        var a = try mapped.makeCache(), b = try resident.makeCache()
        let fromMapped = try mapped.forward(tokens: tokens, cache: &a, logits: .all)
        let fromResident = try resident.forward(tokens: tokens, cache: &b, logits: .all)
        #expect(fromMapped == fromResident)
        // The embedding is read a row per token, so it stays in the mapped file; the head is copied.
        let embedding = resident.embeddingOwners[0]
        #expect(embedding.baseAddress == (try resident.checkpoint.tensor(embedding.name, mapped: true)).baseAddress)
        #expect(resident.head.owners[0].baseAddress != (try resident.checkpoint.tensor(resident.head.owners[0].name, mapped: true)).baseAddress)
    }

    @Test func fp8WeightsStayFP8AndBF16StaysBF16() throws {
        let fp8 = try Transformer(directory: Fixtures.model("v3-fp8-real-heads"))
        let attention = fp8.layers[0].attention
        #expect(attention.kvBProj.weight.format == .fp8E4M3(blockRows: 128, blockColumns: 128))
        #expect(attention.kvBProj.weight.scaleGrid == (rows: 4, columns: 4))  // 512 × 512
        #expect(attention.oProj.weight.scaleGrid == (rows: 2, columns: 2))    // 192 × 256: a partial row block
        guard case let .moe(moe) = fp8.layers[1].feedForward else { Issue.record("layer 1 should be MoE"); return }
        #expect(moe.experts[0].gate.weight.format == .fp8E4M3(blockRows: 128, blockColumns: 128))
        #expect(moe.router.weight.weight.format == .bf16)
        let bf16 = try Transformer(directory: Fixtures.model("v3-bf16"))
        #expect(bf16.layers[0].attention.kvBProj.weight.format == .bf16)
        #expect(bf16.embedding.format == .bf16)
    }
}
