import Foundation
import Testing
import JSON
import Model
import Tensors
@testable import Training

/// Every parameter's gradient against PyTorch autograd on transformers' model (float64 where transformers
/// allows it), from `scripts/make_gradient_fixtures.py`: the mean next-token cross-entropy of two sequences.
///
/// Each tensor must agree to 10⁻⁵ of the reference gradient's norm (the worst measured is 1.5 × 10⁻⁶), plus
/// 10⁻⁸ for the experts no token chose, whose gradients are zero on both sides; the loss to 10⁻⁵.
struct ReferenceGradientTests {
    @Test(arguments: ["v3-yarn", "v3-noqlora", "v2-greedy"])
    func gradientsMatchPyTorch(fixture: String) throws {
        let (config, parameters) = try TrainingFixtures.load(fixture)
        let folder = TrainingFixtures.models.appendingPathComponent(fixture)
        let json = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent("gradients.json")))
        let sequences = json["sequences"]!.arrayValue!.map { $0.arrayValue!.map { $0.intValue! } }
        let referenceLoss = json["loss"]!.doubleValue!
        let reference = try SafetensorsFile(path: folder.appendingPathComponent("gradients.safetensors").path)

        let model = TrainingModel(config: config, parameters: parameters)
        var gradients = parameters.zeros()
        let report = model.lossAndGradients(TrainingBatch(sequences: sequences), parameters: parameters,
                                            options: LossOptions(balanceCoefficient: 0, mtpWeight: 0), gradients: &gradients)
        #expect(abs(report.loss - referenceLoss) <= 1e-5 * referenceLoss, "\(fixture): loss \(report.loss), reference \(referenceLoss)")
        var compared = 0
        for (slot, spec) in parameters.specs.enumerated() where spec.role != .routerBias {
            let expected = try reference.tensor(spec.name).floats()
            let actual = gradients.values[slot]
            var difference = 0.0, norm = 0.0
            for i in expected.indices {
                difference += pow(Double(actual[i]) - Double(expected[i]), 2)
                norm += Double(expected[i]) * Double(expected[i])
            }
            #expect(difference.squareRoot() <= 1e-5 * norm.squareRoot() + 1e-8,
                    "\(fixture) \(spec.name): |Δ| \(difference.squareRoot()), |reference| \(norm.squareRoot())")
            compared += 1
        }
        #expect(compared == reference.entries.count)
    }
}
