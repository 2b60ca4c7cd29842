import JSON
import Foundation

/// Which `StorageFormat` each class of weight matrix is written in: `--format` for the linear layers
/// and `--mixed` per class, for example `experts=q4,attention=q8,shared=q8,embedding=bf16,head=bf16`.
public struct QuantizationRecipe: Sendable, Equatable {
    /// The classes of weight matrices a recipe can set.
    public enum TensorClass: String, Sendable, CaseIterable {
        /// The token embedding table.
        case embedding
        /// The output head (`lm_head`).
        case head
        /// MLA projections (`q_proj`/`q_a_proj`/`q_b_proj`, `kv_a_proj_with_mqa`, `kv_b_proj`, `o_proj`).
        case attention
        /// The routed experts' projections.
        case experts
        /// The shared experts' projections.
        case shared
        /// The dense MLP of the first `first_k_dense_replace` layers.
        case dense
        /// The router's weight (`mlp.gate`).
        case router
    }

    public private(set) var formats: [TensorClass: StorageFormat]

    /// `format` for the linear layers; embedding, head and router in `bf16` unless `format` is a wider
    /// float (their size is small and their precision matters most); then `mixed` overrides per class.
    /// - Parameter mixed: `class=format` pairs separated by commas.
    public init(format: StorageFormat, mixed: String? = nil) throws(ModelError) {
        let keep: StorageFormat = format == .f32 || format == .f16 ? format : .bf16
        formats = [.embedding: keep, .head: keep, .router: keep, .attention: format, .experts: format, .shared: format, .dense: format]
        guard let mixed else { return }
        for item in mixed.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let classes = TensorClass.allCases.map(\.rawValue).joined(separator: ", ")
            let names = StorageFormat.allCases.map(\.rawValue).joined(separator: ", ")
            guard parts.count == 2, let tensorClass = TensorClass(rawValue: parts[0]) else {
                throw .invalidOption(option: "--mixed", detail: "'\(item)' is not CLASS=FORMAT with CLASS one of \(classes)")
            }
            guard let chosen = StorageFormat(rawValue: parts[1]) else {
                throw .invalidOption(option: "--mixed", detail: "'\(parts[1])' is not a format (\(names))")
            }
            formats[tensorClass] = chosen
        }
    }

    /// The class of a weight matrix, or nil for tensors that are not matrices (norms, biases).
    public static func tensorClass(of spec: ParameterSpec) -> TensorClass? {
        switch spec.role {
        case .embedding: return .embedding
        case .head: return .head
        case .router: return .router
        case .norm, .bias, .routerBias: return nil
        case .linear:
            if spec.name.contains(".self_attn.") { return .attention }
            if spec.name.contains(".mlp.experts.") { return .experts }
            if spec.name.contains(".mlp.shared_experts.") { return .shared }
            return .dense
        }
    }

    /// The format `spec` is written in, or nil when it is not a matrix.
    public func format(for spec: ParameterSpec) -> StorageFormat? {
        Self.tensorClass(of: spec).map { formats[$0]! }
    }

    /// `class=format` for every class, in declaration order (for reports and config.json).
    public var summary: String {
        TensorClass.allCases.map { "\($0.rawValue)=\(formats[$0]!.rawValue)" }.joined(separator: ",")
    }

    /// config.json's `quantization_config` for a checkpoint written with this recipe: the official FP8
    /// entry when FP8 is the only non-float format, this project's entry when integer formats are used
    /// (`quant_method` "deepseek-swift", the group size and the recipe), nil for plain floats.
    public var configEntry: JSONValue? {
        let used = Set(formats.values)
        let integer = !used.isDisjoint(with: [.q8, .q4, .q4a])
        guard integer || used.contains(.fp8) else { return nil }
        var entry: [(String, JSONValue)] = [("activation_scheme", .string("dynamic")), ("fmt", .string("e4m3")),
                                            ("quant_method", .string(integer ? Self.quantMethod : "fp8")),
                                            ("weight_block_size", .array([.int(StorageFormat.fp8Block), .int(StorageFormat.fp8Block)]))]
        if integer { entry += [("group_size", .int(32)), ("formats", .string(summary))] }
        return .object(JSONObject(entry))
    }

    /// `quant_method` of checkpoints with integer formats.
    public static let quantMethod = "deepseek-swift"
}
