import JSON

/// A value while a chat template runs: JSON data plus Jinja's undefined and namespaces.
indirect enum TemplateValue: Sendable {
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case object([(key: String, value: TemplateValue)])
    case namespace(Namespace)

    /// A `namespace(...)` object: the one mutable value templates have.
    final class Namespace: @unchecked Sendable {
        var attributes: [String: TemplateValue]
        init(_ attributes: [String: TemplateValue]) { self.attributes = attributes }
    }

    init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case let .bool(b): self = .bool(b)
        case let .int(i): self = .int(i)
        case let .double(d): self = .double(d)
        case let .string(s): self = .string(s)
        case let .array(items): self = .array(items.map(TemplateValue.init))
        case let .object(object): self = .object(object.pairs.map { ($0.key, TemplateValue($0.value)) })
        }
    }

    var json: JSONValue {
        switch self {
        case .undefined, .none, .namespace: .null
        case let .bool(b): .bool(b)
        case let .int(i): .int(i)
        case let .double(d): .double(d)
        case let .string(s): .string(s)
        case let .array(items): .array(items.map(\.json))
        case let .object(pairs): .object(JSONObject(pairs.map { ($0.key, $0.value.json) }))
        }
    }

    var isUndefined: Bool { if case .undefined = self { true } else { false } }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: false
        case let .bool(b): b
        case let .int(i): i != 0
        case let .double(d): d != 0
        case let .string(s): !s.isEmpty
        case let .array(a): !a.isEmpty
        case let .object(o): !o.isEmpty
        case .namespace: true
        }
    }

    /// `str(value)` as Python prints it (what `{{ … }}` writes).
    var rendered: String {
        switch self {
        case .undefined: ""
        case let .string(s): s
        default: repr
        }
    }

    /// Python's `repr`, used inside containers.
    var repr: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case let .bool(b): b ? "True" : "False"
        case let .int(i): String(i)
        case let .double(d): d == d.rounded() && abs(d) < 1e16 ? "\(Int(d)).0" : "\(d)"
        case let .string(s): "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            .replacingOccurrences(of: "\n", with: "\\n") + "'"
        case let .array(items): "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case let .object(pairs): "{" + pairs.map { "'\($0.key)': \($0.value.repr)" }.joined(separator: ", ") + "}"
        case .namespace: "<Namespace>"
        }
    }

    var number: Double? {
        switch self {
        case let .int(i): Double(i)
        case let .double(d): d
        case let .bool(b): b ? 1 : 0
        default: nil
        }
    }

    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        case .namespace: "Namespace"
        }
    }

    func member(_ key: String) -> TemplateValue {
        switch self {
        case let .object(pairs): pairs.first { $0.key == key }?.value ?? .undefined(key)
        case let .namespace(ns): ns.attributes[key] ?? .undefined(key)
        default: .undefined(key)
        }
    }

    /// Python `==`.
    static func equal(_ a: TemplateValue, _ b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && x.allSatisfy { pair in y.contains { $0.key == pair.key && equal($0.value, pair.value) } }
        default:
            if let x = a.number, let y = b.number, !(a.isString || b.isString) { return x == y }
            return false
        }
    }

    var isString: Bool { if case .string = self { true } else { false } }
}
