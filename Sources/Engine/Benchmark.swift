import Foundation
import Kernels
import Model
import Sampling

/// Measures prefill and decode speed of a model against this machine's roofline.
public enum Benchmark {
    public struct Options: Sendable {
        public var promptTokens = 512
        public var generatedTokens = 128
        /// Also decode with this many positions already cached.
        public var depth: Int?
        public var repetitions = 3
        public var seed: UInt64 = 0

        public init() {}
    }

    /// Median and range of repeated measurements.
    public struct Statistic: Sendable {
        public let median: Double
        public let minimum: Double
        public let maximum: Double

        init(_ values: [Double]) {
            let sorted = values.sorted()
            median = sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            minimum = sorted.first ?? 0
            maximum = sorted.last ?? 0
        }
    }

    /// Decoding measured at one cache depth, with the bytes and work behind it.
    public struct Decode: Sendable {
        public let depth: Int
        public let tokensPerSecond: Statistic
        public let weightBytesPerToken: Int
        public let cacheBytesPerToken: Int
        public let flopsPerToken: Double
        /// Time per token the slower ceiling allows: max(bytes ÷ bandwidth, work ÷ peak).
        public let rooflineSecondsPerToken: Double

        public var bandwidthUsed: Double { Double(weightBytesPerToken + cacheBytesPerToken) * tokensPerSecond.median }
        public var fractionOfRoofline: Double { tokensPerSecond.median * rooflineSecondsPerToken }
    }

    public struct Result: Sendable {
        public let threads: Int
        public let readBandwidth: Double
        public let multiplyAddPeak: Double
        public let promptTokens: Int
        public let prefillTokensPerSecond: Statistic
        public let prefillFLOPs: Double
        public let decode: [Decode]
        public let peakResidentBytes: Int
        public let checkpointBytes: Int

        /// Share of the machine's floating-point peak the prefill reached.
        public var prefillFractionOfPeak: Double { prefillFLOPs * prefillTokensPerSecond.median / Double(promptTokens) / multiplyAddPeak }
    }

    /// Runs the measurements, reporting each phase to `progress`.
    public static func run(model: Transformer, options o: Options, progress: (String) -> Void) throws -> Result {
        let c = model.config
        let needed = max(o.promptTokens, (o.depth ?? 0) + o.generatedTokens + 1)
        guard needed <= c.maxPositionEmbeddings else { throw ModelError.contextOverflow(tokens: needed, limit: c.maxPositionEmbeddings) }
        guard o.repetitions > 0, o.promptTokens > 0, o.generatedTokens > 0 else {
            throw EngineError.invalidBenchmark("prompt tokens, generated tokens and repetitions must be positive")
        }
        progress("measuring memory bandwidth and multiply-add peak")
        let bandwidth = MachineProbe.readBandwidth()
        let peak = MachineProbe.multiplyAddPeak()
        // Peak memory is the model's: the probe's buffer (1 GiB, freed) is left out where the OS allows.
        MachineProbe.resetPeakResident()
        let cost = ComputeCost(config: c, checkpoint: model.checkpoint, absorbedKeyBytes: model.absorbedKeyBytes)
        var random = RandomSource(seed: o.seed)
        let tokens = { (n: Int) in (0..<n).map { _ in Int(random.next() % UInt64(c.vocabSize)) } }

        progress("warming up")
        // A short prompt, within the cache the run needs.
        var warm = try model.makeCache(capacity: needed)
        _ = try model.forward(tokens: tokens(min(8, needed)), cache: &warm)

        var prefillRates: [Double] = []
        for r in 1...o.repetitions {
            progress("prefill \(o.promptTokens) tokens, run \(r)/\(o.repetitions)")
            var cache = try model.makeCache(capacity: needed)
            let prompt = tokens(o.promptTokens)
            prefillRates.append(Double(o.promptTokens) / (try time { _ = try model.forward(tokens: prompt, cache: &cache) }))
        }

        var decodes: [Decode] = []
        for depth in [0] + (o.depth.map { [$0] } ?? []) {
            var filled = try model.makeCache(capacity: needed)
            if depth > 0 {
                progress("filling the cache to depth \(depth)")
                _ = try model.forward(tokens: tokens(depth), cache: &filled)
            }
            var rates: [Double] = []
            for r in 1...o.repetitions {
                progress("decode \(o.generatedTokens) tokens at depth \(depth), run \(r)/\(o.repetitions)")
                var next = tokens(1)[0]
                rates.append(Double(o.generatedTokens) / (try time {
                    for _ in 0..<o.generatedTokens {
                        let logits = try model.forward(tokens: [next], cache: &filled)
                        next = Sampler.argmax(logits)
                    }
                }))
                // Back to the filled depth in place (a copy per run would hold the cache twice).
                filled.truncate(to: depth)
            }
            // Average cache depth over the measured tokens.
            let meanDepth = depth + o.generatedTokens / 2
            let bytes = cost.weightBytesPerToken + cost.cacheBytesPerToken(depth: meanDepth)
            let flops = cost.decodeFLOPs(depth: meanDepth)
            decodes.append(Decode(depth: depth, tokensPerSecond: Statistic(rates), weightBytesPerToken: cost.weightBytesPerToken,
                                  cacheBytesPerToken: cost.cacheBytesPerToken(depth: meanDepth), flopsPerToken: flops,
                                  rooflineSecondsPerToken: max(Double(bytes) / bandwidth, flops / peak)))
        }
        return Result(threads: ThreadPool.threads, readBandwidth: bandwidth, multiplyAddPeak: peak, promptTokens: o.promptTokens,
                      prefillTokensPerSecond: Statistic(prefillRates), prefillFLOPs: cost.prefillFLOPs(tokens: o.promptTokens),
                      decode: decodes, peakResidentBytes: MachineProbe.peakResidentBytes(),
                      checkpointBytes: model.checkpoint.dataBytes)
    }

    private static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return max(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, 1e-9)
    }
}
