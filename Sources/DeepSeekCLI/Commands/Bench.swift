import ArgumentParser
import Engine
import Foundation
import JSON

/// `deepseek bench`: prefill and decode speed against this machine's measured roofline.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prefill and decode speed, memory, and the share of this machine's roofline reached.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var loading: LoadOptions
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for the prefill measurement.") var promptTokens = 512
    @Option(name: .customLong("gen-tokens"), help: "Tokens decoded per decode measurement.") var genTokens = 128
    @Option(help: "Also decode with this many positions already in the cache.") var depth: Int?
    @Option(help: "Runs of each measurement (median and range are reported).") var repetitions = 3
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func validate() throws {
        guard promptTokens > 0, genTokens > 0, repetitions > 0 else {
            throw ValidationError("--prompt-tokens, --gen-tokens and --repetitions must be positive")
        }
        if let depth, depth < 0 { throw ValidationError("--depth must be ≥ 0, got \(depth)") }
    }

    func run() throws {
        runtime.apply()
        let transformer = try model.loadModel(loading)
        var options = Benchmark.Options()
        options.promptTokens = promptTokens
        options.generatedTokens = genTokens
        options.depth = depth
        options.repetitions = repetitions
        let result = try Benchmark.run(model: transformer, options: options) { Output.status("… \($0)") }
        if json { Output.json(result.json) } else { print(result) }
    }

    private func print(_ r: Benchmark.Result) {
        let gb = { (bytes: Double) in String(format: "%.1f GB/s", bytes / 1e9) }
        let rate = { (s: Benchmark.Statistic) in String(format: "%.1f tokens/s (%.1f–%.1f)", s.median, s.minimum, s.maximum) }
        Output.print("machine       \(r.threads) threads; streaming read \(gb(r.readBandwidth)); multiply-add peak \(String(format: "%.1f GFLOP/s", r.multiplyAddPeak / 1e9))")
        Output.print("prefill       \(r.promptTokens) tokens: \(rate(r.prefillTokensPerSecond)), " +
                     String(format: "%.1f GFLOP/s = %.0f%% of peak", r.prefillFLOPs * r.prefillTokensPerSecond.median / Double(r.promptTokens) / 1e9,
                            100 * r.prefillFractionOfPeak))
        for d in r.decode {
            Output.print("decode @\(d.depth)".padding(toLength: 14, withPad: " ", startingAt: 0) + rate(d.tokensPerSecond) +
                         String(format: "; reads %.1f MB weights + %.1f MB cache per token = %@; %.0f%% of roofline",
                                Double(d.weightBytesPerToken) / 1e6, Double(d.cacheBytesPerToken) / 1e6, gb(d.bandwidthUsed),
                                100 * d.fractionOfRoofline))
        }
        Output.print(String(format: "memory        peak resident %.2f GB; checkpoint %.2f GB", Double(r.peakResidentBytes) / 1e9,
                            Double(r.checkpointBytes) / 1e9))
    }
}

extension Benchmark.Statistic {
    var json: JSONValue { .object(JSONObject([("median", .double(median)), ("min", .double(minimum)), ("max", .double(maximum))])) }
}

extension Benchmark.Result {
    var json: JSONValue {
        .object(JSONObject([
            ("threads", .int(threads)), ("read_bandwidth_bytes_per_second", .double(readBandwidth)),
            ("multiply_add_peak_flops", .double(multiplyAddPeak)),
            ("prefill", .object(JSONObject([
                ("prompt_tokens", .int(promptTokens)), ("tokens_per_second", prefillTokensPerSecond.json),
                ("flops", .double(prefillFLOPs)), ("fraction_of_peak", .double(prefillFractionOfPeak)),
            ]))),
            ("decode", .array(decode.map { d in
                .object(JSONObject([
                    ("depth", .int(d.depth)), ("tokens_per_second", d.tokensPerSecond.json),
                    ("weight_bytes_per_token", .int(d.weightBytesPerToken)), ("cache_bytes_per_token", .int(d.cacheBytesPerToken)),
                    ("flops_per_token", .double(d.flopsPerToken)), ("bandwidth_bytes_per_second", .double(d.bandwidthUsed)),
                    ("roofline_seconds_per_token", .double(d.rooflineSecondsPerToken)), ("fraction_of_roofline", .double(d.fractionOfRoofline)),
                ]))
            })),
            ("peak_resident_bytes", .int(peakResidentBytes)), ("checkpoint_bytes", .int(checkpointBytes)),
        ]))
    }
}
