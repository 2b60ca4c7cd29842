import Foundation
import Testing
import Kernels
import Model
@testable import Training

/// The trainer end to end on a tiny model: it fits a short text, and a seed fixes the whole run.
struct TrainerTests {
    static func run(steps: Int, seed: UInt64 = 1) throws -> (Trainer, [Trainer.StepReport]) {
        let config = try ModelConfig.load(directory: TrainingFixtures.path("v3-yarn"))
        var random = RandomSource(seed: 42)
        let text = (0..<240).map { _ in Int(random.next() % 500) + 2 }
        let data = try TokenDataset(documents: [text], length: 24, heldOutFraction: 0)
        let parameters = ParameterSet(specs: TrainingModel.parameterSpecs(config), std: 0.05, seed: seed)
        let options = TrainingOptions(steps: steps, sequenceLength: 24, batchSequences: 4, accumulation: 2, learningRate: 1e-2,
                                      warmupSteps: 5, seed: seed)
        let trainer = try Trainer(config: config, parameters: parameters, data: data, options: options)
        return (trainer, (0..<steps).map { _ in trainer.trainStep() })
    }

    @Test func aTinyModelMemorisesAShortText() throws {
        let (_, reports) = try Self.run(steps: 150)
        #expect(reports[0].loss > 5.5)
        #expect(reports.last!.loss < 0.05, "final loss \(reports.last!.loss)")
        #expect(reports.allSatisfy { $0.tokens == 4 * 2 * 24 })
    }

    @Test func theSameSeedGivesTheSameRun() throws {
        let (first, a) = try Self.run(steps: 4)
        let (second, b) = try Self.run(steps: 4)
        #expect(a.map(\.loss) == b.map(\.loss))
        #expect(first.parameters.values == second.parameters.values)
        let (_, c) = try Self.run(steps: 4, seed: 2)
        #expect(a.map(\.loss) != c.map(\.loss))
    }

    @Test func badOptionsAreRejectedByName() throws {
        let config = try ModelConfig.load(directory: TrainingFixtures.path("v3-yarn"))
        let data = try TokenDataset(documents: [Array(0..<100)], length: 8, heldOutFraction: 0)
        let parameters = ParameterSet(specs: TrainingModel.parameterSpecs(config), std: 0.05, seed: 0)
        #expect(throws: TrainingError.invalidOption(name: "--steps", detail: "must be positive, got 0")) {
            try Trainer(config: config, parameters: parameters, data: data, options: TrainingOptions(steps: 0, sequenceLength: 8))
        }
        #expect(throws: TrainingError.notEnoughData(tokens: 5, needed: 9)) {
            try TokenDataset(documents: [Array(0..<5)], length: 8, heldOutFraction: 0)
        }
    }

    @Test func everyWindowIsVisitedOncePerEpoch() throws {
        let data = try TokenDataset(documents: [Array(0..<101)], length: 10, heldOutFraction: 0)
        #expect(data.windowsPerEpoch == 10)
        let batch = data.batch(cursor: 0, sequences: 10, seed: 3)
        let starts = Set(stride(from: 0, to: batch.inputs.count, by: 10).map { batch.inputs[$0] })
        #expect(starts == Set(stride(from: 0, to: 100, by: 10)))
        #expect(data.order(epoch: 0, seed: 3) != data.order(epoch: 1, seed: 3))
    }
}
