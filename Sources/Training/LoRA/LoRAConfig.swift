import Foundation
import JSON
import Model

/// Low-rank adapters (Hu et al. 2021) on chosen linear layers: `W x` becomes `W x + (α / r) · B A dropout(x)`
/// with `A` `[r, in]` and `B` `[out, r]` trained and `W` frozen. Names and file layout follow PEFT, so
/// `adapter_config.json` holds exactly these fields and the tensors are `<module>.lora_A.weight` and
/// `<module>.lora_B.weight`.
public struct LoRAConfig: Sendable, Equatable {
    public let rank: Int
    public let alpha: Float
    public let dropout: Float
    /// PEFT `target_modules`: a module's last name (`q_a_proj`, `kv_b_proj`, `gate_proj`, …), or `experts`
    /// for the three projections of every routed expert.
    public let targets: [String]

    /// The module names a target may be (besides `experts`).
    public static let moduleNames = ["q_proj", "q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj",
                                     "gate_proj", "up_proj", "down_proj"]
    public static let defaultTargets = ["q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"]

    public init(rank: Int, alpha: Float, dropout: Float, targets: [String]) throws {
        guard rank > 0 else { throw TrainingError.invalidOption(name: "--lora-rank", detail: "must be positive, got \(rank)") }
        guard alpha > 0, alpha.isFinite else { throw TrainingError.invalidOption(name: "--lora-alpha", detail: "must be positive, got \(alpha)") }
        guard (0..<1).contains(dropout) else { throw TrainingError.invalidOption(name: "--lora-dropout", detail: "must be in [0, 1), got \(dropout)") }
        guard !targets.isEmpty else { throw TrainingError.invalidOption(name: "--lora-targets", detail: "name at least one module") }
        for target in targets where target != "experts" && !Self.moduleNames.contains(target) {
            throw TrainingError.invalidOption(name: "--lora-targets", detail: "unknown module '\(target)' (one of \((Self.moduleNames + ["experts"]).joined(separator: ", ")))")
        }
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
    }

    /// The factor on `B A x`.
    public var scaling: Float { alpha / Float(rank) }

    /// The name of `weight`'s module: `model.layers.0.self_attn.q_a_proj` for `….q_a_proj.weight`.
    static func module(of weight: String) -> String { String(weight.dropLast(".weight".count)) }

    static let aSuffix = ".lora_A.weight", bSuffix = ".lora_B.weight"

    public static func aName(_ weight: String) -> String { module(of: weight) + aSuffix }
    public static func bName(_ weight: String) -> String { module(of: weight) + bSuffix }

    /// Whether the linear weight `spec` gets an adapter.
    public func targets(_ spec: ParameterSpec) -> Bool {
        guard spec.role == .linear, spec.name.hasSuffix(".weight") else { return false }
        let module = Self.module(of: spec.name)
        let last = module.split(separator: ".").last.map(String.init) ?? module
        if targets.contains("experts"), module.contains(".mlp.experts."), ["gate_proj", "up_proj", "down_proj"].contains(last) { return true }
        // A plain name matches wherever PEFT's suffix match would, routed experts included.
        return targets.contains(last)
    }

    /// Each targeted weight of `base` with its `A` and `B`.
    public func adapters(of base: [ParameterSpec]) -> [(weight: ParameterSpec, a: ParameterSpec, b: ParameterSpec)] {
        base.filter(targets).map { spec in
            (spec, ParameterSpec(name: Self.aName(spec.name), shape: [rank, spec.shape[1]], role: .linear),
             ParameterSpec(name: Self.bName(spec.name), shape: [spec.shape[0], rank], role: .linear))
        }
    }

    /// adapter_config.json as PEFT writes it.
    public func json(baseModel: String) -> JSONValue {
        .object(JSONObject([
            ("peft_type", .string("LORA")), ("task_type", .string("CAUSAL_LM")),
            ("base_model_name_or_path", .string(baseModel)), ("r", .int(rank)), ("lora_alpha", .double(Self.decimal(alpha))),
            ("lora_dropout", .double(Self.decimal(dropout))), ("target_modules", .array(targets.map { .string($0) })),
            ("bias", .string("none")), ("fan_in_fan_out", .bool(false)), ("use_rslora", .bool(false)),
            ("modules_to_save", .null), ("inference_mode", .bool(true)),
        ]))
    }

    /// `value` as the shortest decimal that reads back as it (0.1, not 0.10000000149).
    private static func decimal(_ value: Float) -> Double { Double("\(value)") ?? Double(value) }

    /// The config in `json` (adapter_config.json), read at `path`.
    public init(json: JSONValue, path: String) throws {
        guard json["peft_type"]?.stringValue == "LORA" else { throw TrainingError.invalidAdapter(path: path, detail: "peft_type is not LORA") }
        guard let rank = json["r"]?.intValue, let alpha = json["lora_alpha"]?.doubleValue else {
            throw TrainingError.invalidAdapter(path: path, detail: "r or lora_alpha is missing")
        }
        for flag in ["use_rslora", "fan_in_fan_out", "use_dora"] where json[flag]?.boolValue == true {
            throw TrainingError.invalidAdapter(path: path, detail: "\(flag) is not supported")
        }
        for pattern in ["rank_pattern", "alpha_pattern"] where (json[pattern]?.objectValue?.count ?? 0) > 0 {
            throw TrainingError.invalidAdapter(path: path, detail: "\(pattern) is not supported (one rank and alpha for every module)")
        }
        if let layers = json["layers_to_transform"], !layers.isNull {
            throw TrainingError.invalidAdapter(path: path, detail: "layers_to_transform is not supported")
        }
        let targets = json["target_modules"]?.arrayValue?.compactMap(\.stringValue) ?? json["target_modules"]?.stringValue.map { [$0] } ?? []
        do {
            try self.init(rank: rank, alpha: Float(alpha), dropout: Float(json["lora_dropout"]?.doubleValue ?? 0), targets: targets)
        } catch {
            throw TrainingError.invalidAdapter(path: path, detail: "\(error)")
        }
    }
}
