/// Runs a parsed template: Jinja's scoping (a `for` body's `set` stays inside it; namespaces are
/// the way out), Python's truthiness, equality, `+`, `in`, indexing and `str()`.
struct TemplateRenderer {
    typealias Expression = TemplateParser.Expression
    typealias Node = TemplateParser.Node
    private var scopes: [[String: TemplateValue]]
    private(set) var output = ""

    init(globals: [String: TemplateValue]) { scopes = [globals] }

    mutating func render(_ nodes: [Node]) throws {
        for node in nodes {
            switch node {
            case let .text(text): output += text
            case let .output(expression): output += try evaluate(expression).rendered
            case let .conditional(branches, otherwise):
                if let branch = try branches.first(where: { try evaluate($0.0).truthy }) {
                    try render(branch.1)
                } else {
                    try render(otherwise)
                }
            case let .loop(targets, iterable, body, otherwise):
                try loop(targets, try evaluate(iterable), body, otherwise)
            case let .assign(target, attribute, value):
                let result = try evaluate(value)
                if let attribute {
                    guard case let .namespace(ns) = lookup(target) else {
                        throw TemplateError.runtime("cannot set attribute '\(attribute)' of \(target), which is not a namespace")
                    }
                    ns.attributes[attribute] = result
                } else {
                    scopes[scopes.count - 1][target] = result
                }
            }
        }
    }

    private mutating func loop(_ targets: [String], _ sequence: TemplateValue, _ body: [Node], _ otherwise: [Node]) throws {
        let items: [TemplateValue]
        switch sequence {
        case let .array(values): items = values
        case let .object(pairs): items = pairs.map { .string($0.key) }
        case let .string(s): items = s.map { .string(String($0)) }
        case .undefined, .none: items = []
        default: throw TemplateError.runtime("cannot iterate over \(sequence.typeName)")
        }
        if items.isEmpty { return try render(otherwise) }
        for (i, item) in items.enumerated() {
            var scope: [String: TemplateValue] = [:]
            if targets.count == 1 {
                scope[targets[0]] = item
            } else {
                guard case let .array(parts) = item, parts.count == targets.count else {
                    throw TemplateError.runtime("cannot unpack \(item.typeName) into \(targets.count) names")
                }
                for (name, part) in zip(targets, parts) { scope[name] = part }
            }
            scope["loop"] = .object([
                ("index", .int(i + 1)), ("index0", .int(i)), ("first", .bool(i == 0)), ("last", .bool(i == items.count - 1)),
                ("length", .int(items.count)), ("revindex", .int(items.count - i)), ("revindex0", .int(items.count - i - 1)),
                ("previtem", i > 0 ? items[i - 1] : .undefined("previtem")),
                ("nextitem", i + 1 < items.count ? items[i + 1] : .undefined("nextitem")),
            ])
            scopes.append(scope)
            defer { scopes.removeLast() }
            try render(body)
        }
    }

    func lookup(_ name: String) -> TemplateValue {
        for scope in scopes.reversed() { if let value = scope[name] { return value } }
        return .undefined(name)
    }

    mutating func evaluate(_ expression: Expression) throws -> TemplateValue {
        switch expression {
        case let .literal(value): return value
        case let .name(name): return lookup(name)
        case let .list(items): return .array(try items.map { try evaluate($0) })
        case let .dictionary(pairs):
            return .object(try pairs.map { pair in
                guard case let .string(key) = try evaluate(pair.0) else { throw TemplateError.runtime("dictionary keys must be strings") }
                return (key, try evaluate(pair.1))
            })
        case let .member(base, name): return try evaluate(base).member(name)
        case let .subscriptIndex(base, key): return try Builtins.index(try evaluate(base), try evaluate(key))
        case let .slice(base, start, end):
            return try Builtins.slice(try evaluate(base), try start.map { try evaluate($0) }, try end.map { try evaluate($0) })
        case let .call(callee, positional, named):
            let args = try positional.map { try evaluate($0) }
            let kwargs = try named.map { ($0.0, try evaluate($0.1)) }
            if case let .member(base, method) = callee {
                return try Builtins.method(try evaluate(base), method, args, kwargs)
            }
            guard case let .name(function) = callee else { throw TemplateError.runtime("only named functions can be called") }
            return try Builtins.global(function, args, kwargs)
        case let .filter(base, name, positional, named):
            let value = try evaluate(base)
            return try Builtins.filter(name, value, try positional.map { try evaluate($0) }, try named.map { ($0.0, try evaluate($0.1)) })
        case let .test(base, name, positional, negated):
            let result = try Builtins.test(name, try evaluate(base), try positional.map { try evaluate($0) })
            return .bool(result != negated)
        case let .unary(op, operand):
            let value = try evaluate(operand)
            if op == "not" { return .bool(!value.truthy) }
            switch value {
            case let .int(i): return .int(-i)
            case let .double(d): return .double(-d)
            default: throw TemplateError.runtime("bad operand for unary -: \(value.typeName)")
            }
        case let .binary(op, left, right):
            if op == "and" { let l = try evaluate(left); return l.truthy ? try evaluate(right) : l }
            if op == "or" { let l = try evaluate(left); return l.truthy ? l : try evaluate(right) }
            return try Builtins.binary(op, try evaluate(left), try evaluate(right))
        case let .conditional(value, condition, otherwise):
            if try evaluate(condition).truthy { return try evaluate(value) }
            return try otherwise.map { try evaluate($0) } ?? .undefined("else")
        }
    }
}
