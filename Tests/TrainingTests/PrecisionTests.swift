import Foundation
import Testing
import Kernels
import Model
@testable import Training

/// Mixed precision: BF16 and FP16 products track FP32 training, weights round only where the products use
/// them, and FP16's loss scaler skips an overflowing step and halves its scale.
struct PrecisionTests {
    static func trainer(_ precision: Precision, scaler: LossScaler = LossScaler()) throws -> Trainer {
        let config = try ModelConfig.load(directory: TrainingFixtures.path("v3-yarn"))
        var random = RandomSource(seed: 11)
        let text = (0..<300).map { _ in Int(random.next() % 500) + 2 }
        let data = try TokenDataset(documents: [text], length: 16, heldOutFraction: 0)
        let parameters = ParameterSet(specs: TrainingModel.parameterSpecs(config), std: 0.05, seed: 1)
        let trainer = try Trainer(config: config, parameters: parameters, data: data,
                                  options: TrainingOptions(steps: 20, sequenceLength: 16, batchSequences: 4, learningRate: 5e-3,
                                                           warmupSteps: 2, precision: precision))
        trainer.scaler = scaler
        return trainer
    }

    @Test(arguments: [Precision.bf16, .fp16])
    func mixedPrecisionTracksFP32(precision: Precision) throws {
        let reference = try Self.trainer(.fp32), mixed = try Self.trainer(precision)
        let a = (0..<20).map { _ in reference.trainStep().loss }
        let b = (0..<20).map { _ in mixed.trainStep().loss }
        // The first loss differs only by rounding; the curves stay within a few percent and both fall.
        #expect(abs(a[0] - b[0]) < 0.01 * a[0], "\(a[0]) vs \(b[0])")
        #expect(a[0] != b[0])
        for i in a.indices { #expect(abs(a[i] - b[i]) < 0.05 * a[i] + 0.05, "step \(i + 1): \(a[i]) vs \(b[i])") }
        #expect(b.last! < b.first! - 1)
    }

    @Test func onlyTheProductsWeightsAreRounded() throws {
        let config = try ModelConfig.load(directory: TrainingFixtures.path("v3-yarn"))
        var parameters = ParameterSet(specs: TrainingModel.parameterSpecs(config), std: 0.05, seed: 1)
        for slot in parameters.values.indices { parameters.values[slot] = parameters.values[slot].map { $0 + 1e-5 } }
        let compute = Precision.bf16.computeWeights(parameters, config: config)
        for (slot, spec) in parameters.specs.enumerated() {
            let rounded = compute.values[slot] == Precision.bf16.rounded(parameters.values[slot])
            let kept = compute.values[slot] == parameters.values[slot]
            switch spec.role {
            case .linear, .head: #expect(rounded && !kept, "\(spec.name)")
            default: #expect(kept, "\(spec.name)")
            }
        }
    }

    @Test func anFP16OverflowSkipsTheStepAndHalvesTheScale() throws {
        // A scale this large overflows FP16 in the first backward product.
        let trainer = try Self.trainer(.fp16, scaler: LossScaler(scale: 1e30, growthInterval: 3))
        let before = trainer.parameters.values
        let report = trainer.trainStep()
        #expect(report.skipped && report.lossScale == 1e30)
        #expect(trainer.scaler.scale == 5e29)
        #expect(trainer.parameters.values == before)
        #expect(trainer.optimizer.step == 0)

        var scaler = LossScaler(scale: 8, growthInterval: 2)
        #expect(scaler.update(finite: true) && scaler.scale == 8)
        #expect(scaler.update(finite: true) && scaler.scale == 16)
        #expect(!scaler.update(finite: false) && scaler.scale == 8 && scaler.goodSteps == 0)
    }
}
