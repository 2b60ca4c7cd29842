import JSON
import Kernels

/// Typed access to the keys of a parsed config.json, with errors that name the key.
/// A key whose value is `null` counts as absent, as Hugging Face treats it.
struct ConfigReader {
    let object: JSONObject
    let path: String

    private func value(_ key: String, in dictionary: JSONObject?) -> JSONValue? {
        let value = (dictionary ?? object)[key]
        return value == .null ? nil : value
    }

    private func invalid(_ key: String, _ detail: String) -> ModelError {
        .invalidConfig(path: path, key: key, detail: detail)
    }

    func requireInt(_ key: String) throws -> Int {
        guard let value = try int(key) else { throw invalid(key, "missing") }
        return value
    }

    func int(_ key: String, in dictionary: JSONObject? = nil, prefix: String = "") throws -> Int? {
        guard let raw = value(key, in: dictionary) else { return nil }
        guard let number = raw.intValue else { throw invalid(prefix + key, "expected an integer, got \(raw.brief)") }
        return number
    }

    func double(_ key: String, in dictionary: JSONObject? = nil, prefix: String = "") throws -> Double? {
        guard let raw = value(key, in: dictionary) else { return nil }
        guard let number = raw.doubleValue else { throw invalid(prefix + key, "expected a number, got \(raw.brief)") }
        return number
    }

    func bool(_ key: String, in dictionary: JSONObject? = nil, prefix: String = "") throws -> Bool? {
        guard let raw = value(key, in: dictionary) else { return nil }
        guard let flag = raw.boolValue else { throw invalid(prefix + key, "expected true or false, got \(raw.brief)") }
        return flag
    }

    func string(_ key: String, in dictionary: JSONObject? = nil, prefix: String = "") throws -> String? {
        guard let raw = value(key, in: dictionary) else { return nil }
        guard let text = raw.stringValue else { throw invalid(prefix + key, "expected a string, got \(raw.brief)") }
        return text
    }

    func enumeration<E: RawRepresentable>(_ key: String, default fallback: E) throws -> E where E.RawValue == String {
        guard let name = try string(key) else { return fallback }
        guard let value = E(rawValue: name) else { throw invalid(key, "unsupported value '\(name)'") }
        return value
    }

    /// An integer or a list of integers (`eos_token_id`).
    func intList(_ key: String) throws -> [Int] {
        guard let raw = value(key, in: nil) else { return [] }
        if let list = raw.arrayValue {
            return try list.map { item in
                guard let number = item.intValue else { throw invalid(key, "expected integers, got \(item.brief)") }
                return number
            }
        }
        return try int(key).map { [$0] } ?? []
    }

    /// `rope_scaling` (Hugging Face 4.x) or `rope_parameters` (5.x, which may also carry `rope_theta`).
    func ropeScaling() throws -> (scaling: RopeScaling?, theta: Double?) {
        let key = value("rope_scaling", in: nil) == nil ? "rope_parameters" : "rope_scaling"
        guard let raw = value(key, in: nil) else { return (nil, nil) }
        guard let dictionary = raw.objectValue else { throw invalid(key, "expected an object") }
        let prefix = key + "."
        let theta = try double("rope_theta", in: dictionary, prefix: prefix)
        let typeName = try string("rope_type", in: dictionary, prefix: prefix)
            ?? string("type", in: dictionary, prefix: prefix) ?? "default"
        let kind: RopeScaling.Kind
        switch typeName {
        case "default": return (nil, theta)
        case "yarn": kind = .yarn
        case "linear": kind = .linear
        default:
            throw ModelError.unsupportedConfig(key: prefix + "type", value: "'\(typeName)'", supported: "default, yarn, linear")
        }
        guard let factor = try double("factor", in: dictionary, prefix: prefix) else {
            throw invalid(prefix + "factor", "missing")
        }
        let original = try int("original_max_position_embeddings", in: dictionary, prefix: prefix)
        if kind == .yarn && original == nil {
            throw invalid(prefix + "original_max_position_embeddings", "missing")
        }
        return (RopeScaling(
            kind: kind, factor: factor, originalMaxPositionEmbeddings: original ?? 0,
            betaFast: try double("beta_fast", in: dictionary, prefix: prefix) ?? 32,
            betaSlow: try double("beta_slow", in: dictionary, prefix: prefix) ?? 1,
            mscale: try double("mscale", in: dictionary, prefix: prefix),
            mscaleAllDim: try double("mscale_all_dim", in: dictionary, prefix: prefix),
            attentionFactor: try double("attention_factor", in: dictionary, prefix: prefix),
            truncate: try bool("truncate", in: dictionary, prefix: prefix) ?? true
        ), theta)
    }

    /// `quantization_config`: FP8 E4M3 with block scales (the official release), or this project's
    /// integer formats (whose tensors say their format by dtype; see `StorageFormat`).
    func quantization() throws -> QuantizationConfig? {
        let key = "quantization_config"
        guard let raw = value(key, in: nil) else { return nil }
        guard let dictionary = raw.objectValue else { throw invalid(key, "expected an object") }
        let prefix = key + "."
        let method = try string("quant_method", in: dictionary, prefix: prefix) ?? "(missing)"
        guard method == "fp8" || method == QuantizationRecipe.quantMethod else {
            throw ModelError.unsupportedConfig(key: prefix + "quant_method", value: "'\(method)'", supported: "fp8, \(QuantizationRecipe.quantMethod)")
        }
        if method == QuantizationRecipe.quantMethod, let group = try int("group_size", in: dictionary, prefix: prefix), group != WeightFormat.groupSize {
            throw ModelError.unsupportedConfig(key: prefix + "group_size", value: "\(group)", supported: "\(WeightFormat.groupSize)")
        }
        if let format = try string("fmt", in: dictionary, prefix: prefix), format != "e4m3" {
            throw ModelError.unsupportedConfig(key: prefix + "fmt", value: "'\(format)'", supported: "e4m3")
        }
        let block = dictionary["weight_block_size"]?.arrayValue?.compactMap(\.intValue) ?? []
        guard block.count == 2, block.allSatisfy({ $0 > 0 }) else {
            throw invalid(prefix + "weight_block_size", "expected two positive integers")
        }
        return QuantizationConfig(blockRows: block[0], blockColumns: block[1])
    }
}
