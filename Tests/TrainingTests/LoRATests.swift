import Foundation
import Testing
import Kernels
import Model
@testable import Training

/// LoRA adapters: their gradients against finite differences (with dropout on, whose mask the backward pass
/// rebuilds), that fresh adapters leave the model unchanged, that merging gives the adapted model, and that
/// the PEFT folder round-trips.
struct LoRATests {
    static let lora = try! LoRAConfig(rank: 3, alpha: 6, dropout: 0.25,
                                      targets: ["q_a_proj", "q_b_proj", "q_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "experts"])

    /// A fixture model with adapters whose `B` is random too (a zero `B` would give `A` no gradient).
    static func adapted(_ fixture: String) throws -> (ModelConfig, ParameterSet, TrainingBatch) {
        let (config, base) = try TrainingFixtures.load(fixture)
        var parameters = try base.addingAdapters(lora, seed: 4)
        var random = RandomSource(seed: 8)
        for slot in parameters.specs.indices where parameters.specs[slot].name.hasSuffix(".lora_B.weight") {
            for i in parameters.values[slot].indices { parameters.values[slot][i] = Float.random(in: -0.2...0.2, using: &random) }
        }
        let tokens = Array(try TrainingFixtures.reference(fixture).prompt.prefix(11))
        return (config, parameters, TrainingBatch(sequences: [tokens, tokens.reversed()]))
    }

    @Test(arguments: ["v3-yarn", "v3-noqlora"])
    func adapterGradientsMatchFiniteDifferencesUnderDropout(fixture: String) throws {
        let (config, parameters, batch) = try Self.adapted(fixture)
        let model = TrainingModel(config: config, parameters: parameters)
        let options = LossOptions(balanceCoefficient: 0)
        LoRAAdapter.$dropoutSeed.withValue(17) {
            // Under this step's dropout masks (the routing follows the adapted hidden states).
            let routes = model.routes(batch, parameters: parameters)
            var gradients = parameters.zeros { !ParameterSet.isAdapter($0) }
            let trained = model.lossAndGradients(batch, parameters: parameters, options: options, gradients: &gradients)
            #expect(trained.loss == model.evaluate(batch, parameters: parameters, options: options, routes: routes).loss)
            var random = RandomSource(seed: 5)
            var checked = 0
            let step: Float = 1e-3
            for slot in parameters.specs.indices {
                let spec = parameters.specs[slot]
                guard ParameterSet.isAdapter(spec) else {
                    #expect(gradients.values[slot].isEmpty, "\(spec.name) is frozen")
                    continue
                }
                let direction = (0..<spec.elementCount).map { _ in Float.random(in: -1...1, using: &random) }
                func objective(_ sign: Float) -> Double {
                    var p = parameters
                    for i in p.values[slot].indices { p.values[slot][i] += sign * step * direction[i] }
                    return model.evaluate(batch, parameters: p, options: options, routes: routes).objective(options)
                }
                let numeric = (objective(1) - objective(-1)) / (2 * Double(step))
                let analytic = GradientCheck.inner(gradients.values[slot], direction)
                #expect(abs(analytic - numeric) <= max(1e-2 * abs(numeric), 2e-3), "\(fixture) \(spec.name): analytic \(analytic), numeric \(numeric)")
                checked += 1
            }
            #expect(checked == 2 * Self.lora.adapters(of: parameters.specs).count && checked > 10)
        }
        // Dropout is on only inside a training step: a bound seed changes the loss, none leaves it deterministic.
        let plain = model.evaluate(batch, parameters: parameters, options: options).loss
        let dropped = LoRAAdapter.$dropoutSeed.withValue(17) { model.evaluate(batch, parameters: parameters, options: options).loss }
        #expect(plain != dropped)
        #expect(model.evaluate(batch, parameters: parameters, options: options).loss == plain)
    }

    @Test func freshAdaptersLeaveTheModelUnchangedAndMergingGivesTheAdaptedModel() throws {
        let (config, base) = try TrainingFixtures.load("v3-yarn")
        let batch = TrainingBatch(sequences: [Array(try TrainingFixtures.reference("v3-yarn").prompt.prefix(9))])
        let fresh = try base.addingAdapters(Self.lora, seed: 1)
        #expect(TrainingModel(config: config, parameters: fresh).logits(batch, parameters: fresh)
            == TrainingModel(config: config, parameters: base).logits(batch, parameters: base))

        let (_, adapted, _) = try Self.adapted("v3-yarn")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lora-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try LoRAAdapterFile.write(adapted, baseModel: "v3-yarn", to: folder)
        let file = try LoRAAdapterFile(directory: folder)
        #expect(file.config == Self.lora)
        for (spec, values) in zip(adapted.specs, adapted.values) where ParameterSet.isAdapter(spec) { #expect(file.tensors[spec.name] == values) }

        var merged = base
        try file.merge(into: &merged, path: folder)
        let expected = TrainingModel(config: config, parameters: adapted).logits(batch, parameters: adapted)
        let actual = TrainingModel(config: config, parameters: merged).logits(batch, parameters: merged)
        #expect(expected != TrainingModel(config: config, parameters: base).logits(batch, parameters: base))
        #expect(zip(expected, actual).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) })
    }

    @Test func badAdapterSettingsNameTheOption() {
        #expect(throws: TrainingError.invalidOption(name: "--lora-rank", detail: "must be positive, got 0")) {
            try LoRAConfig(rank: 0, alpha: 1, dropout: 0, targets: ["o_proj"])
        }
        #expect(throws: TrainingError.self) { try LoRAConfig(rank: 4, alpha: 8, dropout: 1, targets: ["o_proj"]) }
        #expect(throws: TrainingError.self) { try LoRAConfig(rank: 4, alpha: 8, dropout: 0, targets: ["attention"]) }
    }
}
