import Testing
import Model
@testable import Training

/// Activation checkpointing changes memory, not results.
struct RecomputeTests {
    @Test func recomputingGivesTheSameGradientsBitForBit() throws {
        var config = try ModelConfig.load(directory: TrainingFixtures.path("v3-yarn"))
        config.numNextnPredictLayers = 1
        let parameters = ParameterSet(specs: TrainingModel.parameterSpecs(config), std: 0.05, seed: 2)
        let model = TrainingModel(config: config, parameters: parameters)
        let batch = TrainingBatch(sequences: [Array(10..<30), Array(40..<60)])
        var kept = parameters.zeros(), recomputed = parameters.zeros()
        let a = model.lossAndGradients(batch, parameters: parameters, gradients: &kept)
        let b = model.lossAndGradients(batch, parameters: parameters, recompute: true, gradients: &recomputed)
        #expect(kept.values == recomputed.values)
        #expect(a.loss == b.loss)
        #expect(b.activationBytesRecomputing < a.activationBytes / 2, "\(b.activationBytesRecomputing) vs \(a.activationBytes)")
    }
}
