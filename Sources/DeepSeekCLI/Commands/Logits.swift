import ArgumentParser
import JSON
import Model

/// `deepseek logits`: fp32 logits for token ids, to check a port against a reference.
struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the logits of token ids.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var loading: LoadOptions
    @Option(help: "Token ids, e.g. 1,2,3.") var ids: TokenIDList
    @Flag(help: "Every position's logits, not only the last.") var all = false
    @Flag(help: "Print {\"logits\": [[...], ...]}.") var json = false

    func run() throws {
        runtime.apply()
        let transformer = try model.loadModel(loading)
        var cache = try transformer.makeCache()
        let logits = try transformer.forward(tokens: ids.ids, cache: &cache, logits: all ? .all : .last)
        let vocab = transformer.config.vocabSize
        let rows = (0..<(logits.count / vocab)).map { logits[($0 * vocab)..<(($0 + 1) * vocab)] }
        if json {
            Output.json(.object(JSONObject([("logits", .array(rows.map { .floats($0) }))])))
        } else {
            for (i, row) in rows.enumerated() {
                let top = row.indices.sorted { row[$0] > row[$1] }.prefix(5)
                let position = all ? i : ids.ids.count - 1
                Output.print("position \(position): " + top.map { "\($0)=\(row[$0])" }.joined(separator: " "))
            }
        }
    }
}
