import ArgumentParser
import Engine
import Foundation
import JSON
import Model

/// `deepseek perplexity`: perplexity on a text file, and divergence from a reference checkpoint.
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a model on a text file; with --reference, KL divergence and top-1 agreement against it.")

    @OptionGroup var model: ModelOptions
    @Option(help: "UTF-8 text to score.") var file: String
    @Option(help: "Tokens per chunk, each scored from an empty cache (default: 512, at most the model's context).") var context: Int?
    @Option(help: ArgumentHelp("Tokens fed to the model per step (default: the whole chunk).",
                               discussion: "1 scores every token through a decoding step, the path generation takes."))
    var batchSize: Int?
    @Option(help: "A reference checkpoint (e.g. the unquantized model) to compare logits with.") var reference: String?
    @Flag(help: "Print the results as JSON.") var json = false
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var loading: LoadOptions

    func validate() throws {
        if let context, context < 2 { throw ValidationError("--context must be ≥ 2, got \(context)") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be ≥ 1, got \(batchSize)") }
    }

    func run() throws {
        runtime.apply()
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file): no such file") }
        guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("\(file): not UTF-8 text") }
        let tokenizer = try model.loadTokenizer()
        let transformer = try model.loadModel(loading)
        let referenceModel = try reference.map { try loading.load($0) }
        let tokens = tokenizer.encode(text)
        let chunk = min(context ?? 512, transformer.config.maxPositionEmbeddings)
        let report = try Perplexity.evaluate(model: transformer, reference: referenceModel, tokens: tokens, context: chunk,
                                             batch: batchSize)
        if json {
            var fields: [(String, JSONValue)] = [
                ("tokens", .int(tokens.count)), ("scored_tokens", .int(report.scoredTokens)), ("chunks", .int(report.chunks)),
                ("context", .int(chunk)), ("batch_size", .int(batchSize ?? chunk)), ("perplexity", .double(report.perplexity)),
            ]
            if let r = report.referencePerplexity, let kl = report.meanKL, let maxKL = report.maxKL, let top1 = report.top1Agreement {
                fields += [("reference_perplexity", .double(r)), ("mean_kl", .double(kl)), ("max_kl", .double(maxKL)), ("top1_agreement", .double(top1))]
            }
            Output.json(.object(JSONObject(fields)))
            return
        }
        Output.print(String(format: "tokens: %d in %d chunks of ≤ %d, %d scored", tokens.count, report.chunks, chunk, report.scoredTokens))
        Output.print(String(format: "perplexity: %.4f", report.perplexity))
        if let r = report.referencePerplexity, let kl = report.meanKL, let maxKL = report.maxKL, let top1 = report.top1Agreement {
            Output.print(String(format: "reference perplexity: %.4f", r))
            Output.print(String(format: "KL divergence: mean %.6f, max %.6f nats", kl, maxKL))
            Output.print(String(format: "top-1 agreement: %.2f%%", top1 * 100))
        }
    }
}
