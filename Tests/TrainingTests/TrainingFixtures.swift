import Foundation
import JSON
import Kernels
import Model
@testable import Training

/// The committed model fixtures (Tests/Fixtures/models) as training sees them.
enum TrainingFixtures {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models")
    static let names = ["v3-yarn", "v3-noqlora", "v2-greedy", "v2-group-limited", "v3-bf16", "v3-fp8-real-heads", "v3-trained"]

    static func path(_ name: String) -> String { models.appendingPathComponent(name).path }

    /// A fixture's config and its weights as a parameter set (main model only).
    static func load(_ name: String) throws -> (ModelConfig, ParameterSet) {
        let config = try ModelConfig.load(directory: path(name))
        let reader = try ParameterReader(directory: path(name), config: config)
        return (config, try ParameterSet(specs: TrainingModel.parameterSpecs(config, multiTokenPrediction: false), reader: reader))
    }

    /// The prompt ids and fp32 logits transformers computed for a fixture.
    static func reference(_ name: String) throws -> (prompt: [Int], logits: [Float]) {
        let json = try JSONValue.parse(Data(contentsOf: models.appendingPathComponent("\(name)/reference.json")))
        return (json["prompt_ids"]!.arrayValue!.map { $0.intValue! },
                json["logits"]!.arrayValue!.flatMap { $0.arrayValue!.map { Float($0.doubleValue!) } })
    }
}

/// Largest absolute difference over the largest absolute expected value.
func worstRelative(_ actual: [Float], _ expected: [Float]) -> Float {
    precondition(actual.count == expected.count, "sizes differ: \(actual.count) vs \(expected.count)")
    let scale = expected.reduce(Float(0)) { max($0, abs($1)) }
    return zip(actual, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) } / max(scale, 1e-30)
}
