import Foundation
import Testing
import Kernels
import Model
@testable import Training

/// The whole model's gradient against central finite differences of its objective, one parameter tensor at
/// a time, with the balance loss and a multi-token-prediction module in the objective.
///
/// The forward pass runs in `Float`; the step ε = 10⁻³ along a random direction of unit-scale entries and
/// the objective's rounding (~10⁻⁷ of a loss near 6) leave ~10⁻⁴ of noise in the difference quotient, so a
/// tensor passes at 1% relative error, or within 2 × 10⁻³ absolute for derivatives that small. Expert
/// choice is a step function of the parameters, so the perturbed objectives keep the unperturbed routing
/// (the gradient is that of the chosen experts' weights, as in the reference).
struct TrainingGradientTests {
    static func setUp(_ fixture: String, mtp: Bool) throws -> (TrainingModel, ParameterSet, TrainingBatch) {
        var (config, loaded) = try TrainingFixtures.load(fixture)
        var parameters = loaded
        if mtp {
            config.numNextnPredictLayers = 1
            let extra = ParameterLayout.multiTokenPrediction(config)
            let fresh = ParameterSet(specs: extra, std: 0.1, seed: 9)
            parameters = ParameterSet(specs: loaded.specs + extra, values: loaded.values + fresh.values)
        }
        loaded = parameters
        let prompt = try TrainingFixtures.reference(fixture).prompt
        let tokens = Array(prompt.prefix(13))
        let batch = TrainingBatch(sequences: [tokens, tokens.reversed()])
        return (TrainingModel(config: config, parameters: loaded), loaded, batch)
    }

    @Test(arguments: [("v3-yarn", true), ("v3-noqlora", false), ("v2-greedy", false), ("v2-group-limited", true)])
    func everyParameterGradientMatchesFiniteDifferences(fixture: String, mtp: Bool) throws {
        let (model, parameters, batch) = try Self.setUp(fixture, mtp: mtp)
        let options = LossOptions(balanceCoefficient: 0.05, mtpWeight: 0.3)
        var gradients = parameters.zeros()
        let report = model.lossAndGradients(batch, parameters: parameters, options: options, gradients: &gradients)
        #expect(report.mtpLosses.count == (mtp ? 1 : 0))
        #expect(report.balanceLoss > 0)
        let routes = model.routes(batch, parameters: parameters)
        var random = RandomSource(seed: 5)
        var checked = 0
        let step: Float = 1e-3
        for slot in parameters.specs.indices {
            let spec = parameters.specs[slot]
            // The correction bias is moved outside the gradient; it has none.
            if spec.role == .routerBias { continue }
            let direction = (0..<spec.elementCount).map { _ in Float.random(in: -1...1, using: &random) }
            func perturbed(_ sign: Float) -> ParameterSet {
                var p = parameters
                for i in p.values[slot].indices { p.values[slot][i] += sign * step * direction[i] }
                return p
            }
            let numeric = (model.evaluate(batch, parameters: perturbed(1), options: options, routes: routes).objective(options)
                - model.evaluate(batch, parameters: perturbed(-1), options: options, routes: routes).objective(options)) / (2 * Double(step))
            let analytic = GradientCheck.inner(gradients.values[slot], direction)
            let error = abs(analytic - numeric)
            #expect(error <= max(1e-2 * abs(numeric), 2e-3), "\(fixture) \(spec.name): analytic \(analytic), numeric \(numeric)")
            checked += 1
        }
        #expect(checked == parameters.specs.filter { $0.role != .routerBias }.count)
        // Held fixed, the routing reproduces the unperturbed objective exactly.
        #expect(model.evaluate(batch, parameters: parameters, options: options, routes: routes).objective(options) == report.objective(options))
    }
}
