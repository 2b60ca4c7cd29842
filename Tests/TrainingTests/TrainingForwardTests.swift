import Foundation
import Testing
import Model
@testable import Training

/// The training forward pass is the model: its logits equal those transformers computed for every fixture.
struct TrainingForwardTests {
    @Test(arguments: TrainingFixtures.names)
    func logitsMatchTheReference(fixture: String) throws {
        let (config, parameters) = try TrainingFixtures.load(fixture)
        let reference = try TrainingFixtures.reference(fixture)
        let model = TrainingModel(config: config, parameters: parameters)
        let batch = TrainingBatch(shape: BatchShape(sequences: 1, length: reference.prompt.count), inputs: reference.prompt,
                                  targets: [Int](repeating: -1, count: reference.prompt.count))
        let logits = model.logits(batch, parameters: parameters)
        #expect(worstRelative(logits, reference.logits) <= 1e-4, "\(fixture)")
    }

    /// Two sequences in one batch give each its own logits (attention stays within a sequence).
    @Test func sequencesInABatchDoNotSeeEachOther() throws {
        let (config, parameters) = try TrainingFixtures.load("v3-yarn")
        let prompt = try TrainingFixtures.reference("v3-yarn").prompt
        let model = TrainingModel(config: config, parameters: parameters)
        let first = Array(prompt[0..<12]), second = Array(prompt[12..<24])
        func alone(_ tokens: [Int]) -> [Float] {
            model.logits(TrainingBatch(shape: BatchShape(sequences: 1, length: tokens.count), inputs: tokens,
                                       targets: [Int](repeating: -1, count: tokens.count)), parameters: parameters)
        }
        let both = model.logits(TrainingBatch(shape: BatchShape(sequences: 2, length: 12), inputs: first + second,
                                              targets: [Int](repeating: -1, count: 24)), parameters: parameters)
        #expect(worstRelative(both, alone(first) + alone(second)) <= 1e-5)
    }
}
