import Foundation
import JSON

/// Paths to the committed fixtures (see Tests/Fixtures/README.md).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let modelNames = ["v3-yarn", "v3-noqlora", "v2-greedy", "v2-group-limited", "v3-bf16", "v3-fp8-real-heads", "v3-trained"]

    static func model(_ name: String) -> String { root.appendingPathComponent("models/\(name)").path }

    /// The reference logits and greedy continuation transformers produced for a fixture.
    struct Reference {
        let promptIDs: [Int]
        let logits: [[Float]]
        let greedyIDs: [Int]
    }

    static func reference(_ name: String) throws -> Reference {
        let data = try Data(contentsOf: URL(fileURLWithPath: model(name)).appendingPathComponent("reference.json"))
        let json = try JSONValue.parse(data)
        return Reference(
            promptIDs: json["prompt_ids"]!.arrayValue!.map { $0.intValue! },
            logits: json["logits"]!.arrayValue!.map { $0.arrayValue!.map { Float($0.doubleValue!) } },
            greedyIDs: json["greedy_ids"]!.arrayValue!.map { $0.intValue! })
    }

    /// A scratch folder removed when the test process ends.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("deepseek-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Largest absolute difference divided by the largest absolute reference value.
func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
    precondition(actual.count == expected.count, "sizes differ: \(actual.count) vs \(expected.count)")
    var worst: Float = 0, scale: Float = 0
    for (a, e) in zip(actual, expected) {
        worst = max(worst, abs(a - e))
        scale = max(scale, abs(e))
    }
    return worst / max(scale, 1e-30)
}

func argmax(_ values: ArraySlice<Float>) -> Int {
    var best = values.startIndex
    for i in values.indices where values[i] > values[best] { best = i }
    return best - values.startIndex
}
