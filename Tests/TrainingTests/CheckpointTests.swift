import Foundation
import Testing
import Kernels
import Model
@testable import Training

/// Checkpoints: a resumed run is the uninterrupted run, bit for bit, and only complete checkpoints count.
struct CheckpointTests {
    static func trainer(seed: UInt64 = 4) throws -> Trainer {
        var config = try ModelConfig.load(directory: TrainingFixtures.path("v3-yarn"))
        config.numNextnPredictLayers = 1
        var random = RandomSource(seed: 8)
        let text = (0..<400).map { _ in Int(random.next() % 500) + 2 }
        let data = try TokenDataset(documents: [text], length: 16, heldOutFraction: 0.1)
        let parameters = ParameterSet(specs: TrainingModel.parameterSpecs(config), std: 0.05, seed: seed)
        return try Trainer(config: config, parameters: parameters, data: data,
                           options: TrainingOptions(steps: 6, sequenceLength: 16, batchSequences: 3, accumulation: 2, learningRate: 3e-3, seed: seed))
    }

    static func configJSON() throws -> Data {
        let url = URL(fileURLWithPath: TrainingFixtures.path("v3-yarn")).appendingPathComponent("config.json")
        return try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "\"num_nextn_predict_layers\": 0", with: "\"num_nextn_predict_layers\": 1").data(using: .utf8)!
    }

    @Test func aResumedRunEqualsTheUninterruptedOne() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let straight = try Self.trainer()
        let straightLosses = (0..<6).map { _ in straight.trainStep().loss }

        let first = try Self.trainer()
        for _ in 0..<3 { _ = first.trainStep() }
        try TrainingCheckpoint.save(first, configJSON: Self.configJSON(), tokenizer: nil, in: out)
        // A half-written later checkpoint (what a kill during a save leaves) is never taken.
        try FileManager.default.createDirectory(atPath: out + "/.checkpoint-000005.partial-1", withIntermediateDirectories: true)
        #expect(TrainingCheckpoint.latest(in: out) == out + "/checkpoint-000003")

        let resumed = try Self.trainer(seed: 4)
        try TrainingCheckpoint.restore(resumed, from: TrainingCheckpoint.latest(in: out)!)
        #expect(resumed.step == 3 && resumed.cursor == 18)
        let resumedLosses = (0..<3).map { _ in resumed.trainStep().loss }
        #expect(resumedLosses == Array(straightLosses[3...]))
        #expect(resumed.parameters.values == straight.parameters.values)
        #expect(resumed.optimizer.secondMoment.values == straight.optimizer.secondMoment.values)
    }

    @Test func resumingWithADifferentDataOrderIsRefused() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let trainer = try Self.trainer()
        _ = trainer.trainStep()
        let path = try TrainingCheckpoint.save(trainer, configJSON: Self.configJSON(), tokenizer: nil, in: out)
        #expect(throws: TrainingError.self) { try TrainingCheckpoint.restore(try Self.trainer(seed: 5), from: path) }
    }

    static func loraTrainer(rank: Int = 4) throws -> Trainer {
        let plain = try trainer()
        let lora = try LoRAConfig(rank: rank, alpha: 8, dropout: 0.1, targets: ["q_b_proj", "o_proj", "experts"])
        let parameters = try plain.parameters.addingAdapters(lora, seed: 4)
        return try Trainer(config: plain.config, parameters: parameters, data: plain.data, options: plain.options,
                           frozen: { !ParameterSet.isAdapter($0) })
    }

    /// A LoRA run's checkpoint holds its adapters and their moments, not the base model, and resumes exactly
    /// over the same base model; another base model or other adapter options are refused.
    @Test func aLoRACheckpointHoldsOnlyTheAdaptersAndResumesExactly() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let straight = try Self.loraTrainer()
        let straightLosses = (0..<6).map { _ in straight.trainStep().loss }
        let first = try Self.loraTrainer()
        for _ in 0..<3 { _ = first.trainStep() }
        let path = try TrainingCheckpoint.save(first, configJSON: Self.configJSON(), tokenizer: nil, in: out, baseModel: "/models/base")
        let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        #expect(files == [LoRAAdapterFile.configFile, LoRAAdapterFile.weightsFile, TrainingCheckpoint.optimizerFile, TrainingCheckpoint.stateFile].sorted())

        let resumed = try Self.loraTrainer()
        try TrainingCheckpoint.restore(resumed, from: path, baseModel: "/models/../models/base")
        let resumedLosses = (0..<3).map { _ in resumed.trainStep().loss }
        #expect(resumedLosses == Array(straightLosses[3...]))
        let sameParameters = resumed.parameters.values == straight.parameters.values
        #expect(sameParameters)
        // The base model's routing biases are frozen with the rest of it.
        let biases = straight.parameters.specs.indices.filter { straight.parameters.specs[$0].role == .routerBias }
        let initial = try Self.trainer().parameters
        #expect(!biases.isEmpty && biases.allSatisfy { straight.parameters.values[$0] == initial.values[$0] })

        #expect(throws: TrainingError.self) { try TrainingCheckpoint.restore(try Self.loraTrainer(), from: path, baseModel: "/models/other") }
        #expect(throws: TrainingError.self) { try TrainingCheckpoint.restore(try Self.loraTrainer(rank: 2), from: path, baseModel: "/models/base") }
    }

    /// The saved model is an ordinary checkpoint: the inference model loads it and agrees with the trainer.
    @Test func theSavedModelLoadsForInference() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let trainer = try Self.trainer()
        _ = trainer.trainStep()
        try ModelExport.write(trainer.parameters, config: trainer.config, configJSON: Self.configJSON(), format: .f32, tokenizer: nil, to: out)
        let model = try Transformer(directory: out)
        let tokens = [5, 9, 100, 3, 17]
        var cache = try model.makeCache()
        let logits = try model.forward(tokens: tokens, cache: &cache, logits: .all)
        let expected = trainer.model.logits(TrainingBatch(shape: BatchShape(sequences: 1, length: 5), inputs: tokens, targets: [-1, -1, -1, -1, -1]),
                                            parameters: trainer.parameters)
        #expect(worstRelative(logits, expected) < 1e-4)
        #expect(FileManager.default.fileExists(atPath: out + "/model.safetensors"))
    }
}
