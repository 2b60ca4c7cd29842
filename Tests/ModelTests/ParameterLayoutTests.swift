import Testing
@testable import Model
@testable import Tensors

@Suite struct ParameterLayoutTests {
    @Test(arguments: Fixtures.modelNames)
    func layoutListsExactlyTheCheckpointsTensors(fixture: String) throws {
        let config = try ModelConfig.load(directory: Fixtures.model(fixture))
        let checkpoint = try Checkpoint(directory: Fixtures.model(fixture))
        let specs = ParameterLayout.parameters(config)
        #expect(Set(specs.map(\.name)).count == specs.count, "duplicate names")
        let stored = Set(checkpoint.names.filter { !$0.hasSuffix("_scale_inv") })
        #expect(Set(specs.map(\.name)) == stored)
        for spec in specs { #expect(checkpoint.entry(spec.name)?.shape == spec.shape, "\(spec.name)") }
        let summary = ModelSummary(config: config, checkpoint: checkpoint)
        #expect(specs.reduce(0) { $0 + $1.elementCount } == summary.totalParameters)
    }
}
