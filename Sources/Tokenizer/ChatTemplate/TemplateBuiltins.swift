import Foundation

/// Operators, filters, tests, methods and globals available to chat templates, with the Python
/// behaviour transformers' Jinja environment gives them.
enum Builtins {
    typealias Value = TemplateValue

    static func binary(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        switch op {
        case "==": return .bool(Value.equal(a, b))
        case "!=": return .bool(!Value.equal(a, b))
        case "~": return .string(a.rendered + b.rendered)
        case "in": return .bool(try contains(b, a))
        case "<", ">", "<=", ">=":
            let ordered: Bool
            if case let .string(x) = a, case let .string(y) = b {
                ordered = op == "<" ? x < y : op == ">" ? x > y : op == "<=" ? x <= y : x >= y
            } else if let x = a.number, let y = b.number {
                ordered = op == "<" ? x < y : op == ">" ? x > y : op == "<=" ? x <= y : x >= y
            } else {
                throw TemplateError.runtime("cannot compare \(a.typeName) and \(b.typeName) with \(op)")
            }
            return .bool(ordered)
        case "+":
            switch (a, b) {
            case let (.string(x), .string(y)): return .string(x + y)
            case let (.array(x), .array(y)): return .array(x + y)
            default: return try arithmetic(op, a, b)
            }
        default: return try arithmetic(op, a, b)
        }
    }

    private static func arithmetic(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        if case .undefined(let name) = a { throw TemplateError.runtime("'\(name)' is undefined") }
        if case .undefined(let name) = b { throw TemplateError.runtime("'\(name)' is undefined") }
        if op == "*", case let .string(s) = a, case let .int(n) = b { return .string(String(repeating: s, count: max(n, 0))) }
        guard let x = a.number, let y = b.number, !a.isString, !b.isString else {
            throw TemplateError.runtime("unsupported operand types for \(op): \(a.typeName) and \(b.typeName)")
        }
        let integers: Bool = { if case .int = a, case .int = b { true } else { false } }()
        switch op {
        case "+": return integers ? .int(Int(x) + Int(y)) : .double(x + y)
        case "-": return integers ? .int(Int(x) - Int(y)) : .double(x - y)
        case "*": return integers ? .int(Int(x) * Int(y)) : .double(x * y)
        case "/":
            guard y != 0 else { throw TemplateError.runtime("division by zero") }
            return .double(x / y)
        case "//":
            guard y != 0 else { throw TemplateError.runtime("division by zero") }
            return integers ? .int(Int((x / y).rounded(.down))) : .double((x / y).rounded(.down))
        case "%":
            guard y != 0 else { throw TemplateError.runtime("modulo by zero") }
            return integers ? .int(((Int(x) % Int(y)) + Int(y)) % Int(y)) : .double(x - y * (x / y).rounded(.down))
        default: throw TemplateError.runtime("unsupported operator \(op)")
        }
    }

    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case let .string(s):
            guard case let .string(part) = item else { throw TemplateError.runtime("'in <string>' needs a string") }
            return part.isEmpty || s.contains(part)
        case let .array(items): return items.contains { Value.equal($0, item) }
        case let .object(pairs): if case let .string(key) = item { return pairs.contains { $0.key == key } }; return false
        case let .namespace(ns): if case let .string(key) = item { return ns.attributes[key] != nil }; return false
        case .undefined(let name): throw TemplateError.runtime("'\(name)' is undefined")
        default: throw TemplateError.runtime("argument of type \(container.typeName) is not iterable")
        }
    }

    static func index(_ base: Value, _ key: Value) throws -> Value {
        switch (base, key) {
        case let (.array(items), .int(i)):
            let position = i < 0 ? items.count + i : i
            guard items.indices.contains(position) else { throw TemplateError.runtime("list index \(i) out of range") }
            return items[position]
        case let (.string(s), .int(i)):
            let chars = Array(s)
            let position = i < 0 ? chars.count + i : i
            guard chars.indices.contains(position) else { throw TemplateError.runtime("string index \(i) out of range") }
            return .string(String(chars[position]))
        case let (_, .string(name)): return base.member(name)
        case (.undefined(let name), _): throw TemplateError.runtime("'\(name)' is undefined")
        default: return .undefined("[\(key.rendered)]")
        }
    }

    static func slice(_ base: Value, _ start: Value?, _ end: Value?) throws -> Value {
        func bounds(_ count: Int) -> Range<Int> {
            func clamp(_ v: Value?, _ fallback: Int) -> Int {
                guard case let .int(i)? = v else { return fallback }
                return min(max(i < 0 ? count + i : i, 0), count)
            }
            let low = clamp(start, 0), high = clamp(end, count)
            return low..<max(low, high)
        }
        switch base {
        case let .array(items): return .array(Array(items[bounds(items.count)]))
        case let .string(s): let chars = Array(s); return .string(String(chars[bounds(chars.count)]))
        default: throw TemplateError.runtime("cannot slice \(base.typeName)")
        }
    }

    static func method(_ base: Value, _ name: String, _ args: [Value], _ kwargs: [(String, Value)]) throws -> Value {
        switch (base, name) {
        case let (.string(s), "strip"), let (.string(s), "lstrip"), let (.string(s), "rstrip"):
            let characters: Set<Character>? = args.first.flatMap { if case let .string(c) = $0 { Set(c) } else { nil } }
            let strip = { (c: Character) in characters?.contains(c) ?? c.isWhitespace }
            var result = Substring(s)
            if name != "rstrip" { result = result.drop(while: strip) }
            if name != "lstrip" { while let last = result.last, strip(last) { result = result.dropLast() } }
            return .string(String(result))
        case let (.string(s), "split"):
            if case let .string(separator)? = args.first {
                guard !separator.isEmpty else { throw TemplateError.runtime("empty separator") }
                return .array(s.components(separatedBy: separator).map { .string($0) })
            }
            return .array(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) })
        case let (.string(s), "startswith"), let (.string(s), "endswith"):
            guard case let .string(affix)? = args.first else { throw TemplateError.runtime("\(name) needs a string") }
            return .bool(name == "startswith" ? s.hasPrefix(affix) : s.hasSuffix(affix))
        case let (.string(s), "lower"): return .string(s.lowercased())
        case let (.string(s), "upper"): return .string(s.uppercased())
        case let (.string(s), "title"): return .string(s.capitalized)
        case let (.string(s), "replace"):
            guard args.count >= 2, case let .string(old) = args[0], case let .string(new) = args[1] else {
                throw TemplateError.runtime("replace needs two strings")
            }
            return .string(s.replacingOccurrences(of: old, with: new))
        case let (.string(s), "join"):
            guard case let .array(items)? = args.first else { throw TemplateError.runtime("join needs a list") }
            return .string(items.map(\.rendered).joined(separator: s))
        case let (.object(pairs), "items"): return .array(pairs.map { .array([.string($0.key), $0.value]) })
        case let (.object(pairs), "keys"): return .array(pairs.map { .string($0.key) })
        case let (.object(pairs), "values"): return .array(pairs.map(\.value))
        case (.object, "get"):
            guard case let .string(key)? = args.first else { throw TemplateError.runtime("get needs a key") }
            let value = base.member(key)
            return value.isUndefined ? (args.count > 1 ? args[1] : .none) : value
        default:
            throw TemplateError.runtime("\(base.typeName) has no method '\(name)'")
        }
    }

    static func filter(_ name: String, _ value: Value, _ args: [Value], _ kwargs: [(String, Value)]) throws -> Value {
        switch name {
        case "tojson":
            // transformers: json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys).
            let indent = kwargs.first { $0.0 == "indent" }?.1.number.map(Int.init) ?? args.first?.number.map(Int.init)
            let sort = kwargs.first { $0.0 == "sort_keys" }?.1.truthy ?? false
            return .string(value.json.serialized(pythonSeparators: true, sortKeys: sort, indent: indent))
        case "length", "count":
            switch value {
            case let .string(s): return .int(s.count)
            case let .array(a): return .int(a.count)
            case let .object(o): return .int(o.count)
            default: throw TemplateError.runtime("object of type \(value.typeName) has no length")
            }
        case "trim": return try method(value, "strip", args, [])
        case "string": return .string(value.rendered)
        case "lower", "upper", "title": return try method(.string(value.rendered), name, [], [])
        case "capitalize":
            let s = value.rendered
            return .string(s.prefix(1).uppercased() + s.dropFirst().lowercased())
        case "first", "last":
            guard case let .array(items) = value else { return try index(value, .int(name == "first" ? 0 : -1)) }
            return (name == "first" ? items.first : items.last) ?? .undefined(name)
        case "join":
            guard case let .array(items) = value else { throw TemplateError.runtime("join needs a list") }
            return .string(items.map(\.rendered).joined(separator: args.first?.rendered ?? ""))
        case "default", "d":
            let useForFalsy = args.count > 1 && args[1].truthy
            return value.isUndefined || (useForFalsy && !value.truthy) ? (args.first ?? .string("")) : value
        case "list":
            if case let .object(pairs) = value { return .array(pairs.map { .string($0.key) }) }
            if case let .string(s) = value { return .array(s.map { .string(String($0)) }) }
            return value
        case "items": return try method(value, "items", [], [])
        case "replace": return try method(.string(value.rendered), "replace", args, [])
        case "int": return .int(value.number.map { Int($0) } ?? Int(value.rendered) ?? 0)
        case "float": return .double(value.number ?? Double(value.rendered) ?? 0)
        case "abs": return value.number.map { .double(abs($0)) } ?? value
        case "safe", "e", "escape": return value
        default: throw TemplateError.runtime("unknown filter '\(name)'")
        }
    }

    static func test(_ name: String, _ value: Value, _ args: [Value]) throws -> Bool {
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true }; return false
        case "string": return value.isString
        case "number": if case .int = value { return true }; if case .double = value { return true }; return false
        case "integer": if case .int = value { return true }; return false
        case "float": if case .double = value { return true }; return false
        case "boolean": if case .bool = value { return true }; return false
        case "true": if case .bool(true) = value { return true }; return false
        case "false": if case .bool(false) = value { return true }; return false
        case "mapping": if case .object = value { return true }; return false
        case "sequence", "iterable":
            switch value { case .array, .string, .object: return true; default: return false }
        case "equalto", "eq", "sameas": return Value.equal(value, args.first ?? .none)
        case "odd", "even":
            guard case let .int(i) = value else { throw TemplateError.runtime("\(name) needs an integer") }
            return (i % 2 != 0) == (name == "odd")
        case "in": return try contains(args.first ?? .none, value)
        default: throw TemplateError.runtime("unknown test '\(name)'")
        }
    }

    static func global(_ name: String, _ args: [Value], _ kwargs: [(String, Value)]) throws -> Value {
        switch name {
        case "namespace":
            var attributes: [String: Value] = [:]
            for (key, value) in kwargs { attributes[key] = value }
            return .namespace(Value.Namespace(attributes))
        case "raise_exception":
            throw TemplateError.raised(args.first?.rendered ?? "error")
        case "range":
            let numbers = args.compactMap { $0.number.map(Int.init) }
            let (start, end, step) = numbers.count == 1 ? (0, numbers[0], 1)
                : (numbers[0], numbers.count > 1 ? numbers[1] : 0, numbers.count > 2 ? numbers[2] : 1)
            guard step != 0 else { throw TemplateError.runtime("range() step must not be zero") }
            return .array(stride(from: start, to: end, by: step).map { .int($0) })
        case "strftime_now":
            let formatter = DateFormatter()
            formatter.dateFormat = strftimeToDateFormat(args.first?.rendered ?? "%Y-%m-%d")
            return .string(formatter.string(from: Date()))
        default:
            throw TemplateError.runtime("unknown function '\(name)'")
        }
    }

    private static func strftimeToDateFormat(_ format: String) -> String {
        let map: [Character: String] = ["Y": "yyyy", "m": "MM", "d": "dd", "H": "HH", "M": "mm", "S": "ss", "B": "MMMM", "b": "MMM",
                                        "A": "EEEE", "a": "EEE", "y": "yy", "p": "a"]
        var out = ""
        var chars = Array(format)[...]
        while let c = chars.popFirst() {
            if c == "%", let code = chars.popFirst() { out += map[code] ?? String(code) } else if c.isLetter { out += "'\(c)'" } else { out.append(c) }
        }
        return out
    }
}
