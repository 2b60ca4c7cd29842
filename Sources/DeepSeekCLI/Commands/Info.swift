import ArgumentParser
import Foundation
import Model
import Tensors

/// `deepseek info`: the architecture and sizes of a checkpoint, read from its headers only.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe a checkpoint: architecture, parameters, dtypes, memory.")

    @OptionGroup var model: ModelOptions

    func run() throws {
        let config = try ModelConfig.load(directory: try model.folder())
        let summary = ModelSummary(config: config, checkpoint: try Checkpoint(directory: try model.folder()))
        let c = config
        var lines = [
            "model_type          \(c.modelType.rawValue)",
            "layers              \(c.numHiddenLayers) (\(summary.denseLayers) dense, \(summary.moeLayers) MoE)" +
                (c.numNextnPredictLayers > 0 ? " + \(c.numNextnPredictLayers) MTP (not loaded)" : ""),
            "hidden              \(c.hiddenSize), dense MLP \(c.intermediateSize), vocab \(c.vocabSize)",
            "attention           MLA, \(c.numAttentionHeads) heads, q_lora_rank \(c.qLoraRank.map(String.init) ?? "none"), " +
                "kv_lora_rank \(c.kvLoraRank), qk_nope \(c.qkNopeHeadDim), qk_rope \(c.qkRopeHeadDim), v_head \(c.vHeadDim)",
        ]
        if let experts = c.nRoutedExperts {
            lines.append("experts             \(experts) routed (\(c.numExpertsPerTok) per token, MLP \(c.moeIntermediateSize)), " +
                         "\(c.nSharedExperts) shared; \(c.scoringFunc.rawValue) scoring, \(c.topkMethod.rawValue), " +
                         "\(c.nGroup) groups keep \(c.topkGroup), norm_topk_prob \(c.normTopkProb), scale \(c.routedScalingFactor)")
        }
        let rope = c.ropeScaling.map { "\($0.kind.rawValue) ×\($0.factor) from \($0.originalMaxPositionEmbeddings)" } ?? "none"
        lines += [
            "context             \(c.maxPositionEmbeddings) (rope_theta \(c.ropeTheta), scaling \(rope))",
            "parameters          \(Self.count(summary.totalParameters)) total, \(Self.count(summary.activeParameters)) active per token" +
                (summary.mtpParameters > 0 ? ", \(Self.count(summary.mtpParameters)) MTP" : ""),
            "dtypes              " + summary.dtypes.sorted { $0.value.bytes > $1.value.bytes }
                .map { "\($0.key.rawValue) \($0.value.tensors) tensors \(Self.bytes($0.value.bytes))" }.joined(separator: ", "),
            "memory              weights \(Self.bytes(summary.checkpointBytes)) (memory-mapped); KV cache " +
                "\(Self.bytes(summary.cacheBytesPerToken))/token, \(Self.bytes(summary.cacheBytesPerToken * c.maxPositionEmbeddings)) at full context",
        ]
        if let q = c.quantization { lines.append("quantization        fp8 e4m3, \(q.blockRows)×\(q.blockColumns) block scales") }
        lines.forEach { Output.print($0) }
    }

    static func count(_ n: Int) -> String {
        switch n {
        case 1_000_000_000...: String(format: "%.2fB", Double(n) / 1e9)
        case 1_000_000...: String(format: "%.2fM", Double(n) / 1e6)
        case 1_000...: String(format: "%.1fK", Double(n) / 1e3)
        default: "\(n)"
        }
    }

    static func bytes(_ n: Int) -> String {
        switch n {
        case (1 << 30)...: String(format: "%.2f GiB", Double(n) / Double(1 << 30))
        case (1 << 20)...: String(format: "%.2f MiB", Double(n) / Double(1 << 20))
        case (1 << 10)...: String(format: "%.1f KiB", Double(n) / Double(1 << 10))
        default: "\(n) B"
        }
    }
}
