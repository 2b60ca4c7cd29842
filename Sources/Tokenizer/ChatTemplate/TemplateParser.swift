/// Parses lexed template pieces into a tree of nodes and expressions.
struct TemplateParser {
    indirect enum Expression: Sendable {
        case literal(TemplateValue)
        case name(String)
        case list([Expression])
        case dictionary([(Expression, Expression)])
        case member(Expression, String)
        case subscriptIndex(Expression, Expression)
        case slice(Expression, Expression?, Expression?)
        case call(Expression, [Expression], [(String, Expression)])
        case filter(Expression, String, [Expression], [(String, Expression)])
        case test(Expression, String, [Expression], negated: Bool)
        case unary(String, Expression)
        case binary(String, Expression, Expression)
        case conditional(Expression, condition: Expression, otherwise: Expression?)
    }

    indirect enum Node: Sendable {
        case text(String)
        case output(Expression)
        case conditional([(Expression, [Node])], otherwise: [Node])
        case loop(targets: [String], iterable: Expression, body: [Node], otherwise: [Node])
        case assign(target: String, attribute: String?, value: Expression)
    }

    typealias Token = TemplateLexer.Token
    let pieces: [TemplateLexer.Piece]
    var index = 0

    static func parse(_ source: String) throws -> [Node] {
        var parser = TemplateParser(pieces: try TemplateLexer.pieces(source))
        let (nodes, end) = try parser.block(until: [])
        if let end { throw TemplateError.syntax("unexpected '{% \(end) %}'") }
        return nodes
    }

    /// Nodes up to a statement whose keyword is in `terminators` (returned, its tokens consumed later).
    private mutating func block(until terminators: Set<String>) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while index < pieces.count {
            let piece = pieces[index]
            index += 1
            switch piece {
            case let .text(text): nodes.append(.text(text))
            case let .output(tokens):
                var expression = ExpressionParser(tokens: tokens)
                nodes.append(.output(try expression.parseAll()))
            case let .statement(tokens):
                guard case let .name(keyword)? = tokens.first else { throw TemplateError.syntax("empty statement") }
                if terminators.contains(keyword) { index -= 1; return (nodes, keyword) }
                if let node = try statement(keyword, Array(tokens.dropFirst())) { nodes.append(node) }
            }
        }
        guard terminators.isEmpty else { throw TemplateError.syntax("missing '{% \(terminators.sorted().joined(separator: " or ")) %}'") }
        return (nodes, nil)
    }

    private mutating func statementTokens() -> [Token] {
        guard case let .statement(tokens) = pieces[index] else { return [] }
        index += 1
        return tokens
    }

    private mutating func statement(_ keyword: String, _ tokens: [Token]) throws -> Node? {
        switch keyword {
        case "if":
            var branches: [(Expression, [Node])] = []
            var condition = try ExpressionParser.parse(tokens)
            var otherwise: [Node] = []
            while true {
                let (body, end) = try block(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                let next = statementTokens()
                if end == "elif" { condition = try ExpressionParser.parse(Array(next.dropFirst())); continue }
                if end == "else" {
                    (otherwise, _) = try block(until: ["endif"])
                    _ = statementTokens()
                }
                break
            }
            return .conditional(branches, otherwise: otherwise)
        case "for":
            guard let inIndex = tokens.firstIndex(of: .name("in")) else { throw TemplateError.syntax("for without 'in'") }
            let targets = tokens[..<inIndex].compactMap { if case let .name(n) = $0 { n } else { nil } }
            guard !targets.isEmpty else { throw TemplateError.syntax("for without a loop variable") }
            let iterable = try ExpressionParser.parse(Array(tokens[(inIndex + 1)...]))
            let (body, end) = try block(until: ["else", "endfor"])
            _ = statementTokens()
            var otherwise: [Node] = []
            if end == "else" {
                (otherwise, _) = try block(until: ["endfor"])
                _ = statementTokens()
            }
            return .loop(targets: targets, iterable: iterable, body: body, otherwise: otherwise)
        case "set":
            guard case let .name(target)? = tokens.first else { throw TemplateError.syntax("set without a name") }
            var rest = tokens.dropFirst()
            var attribute: String?
            if rest.first == .symbol("."), case let .name(a)? = rest.dropFirst().first {
                attribute = a
                rest = rest.dropFirst(2)
            }
            guard rest.first == .symbol("=") else { throw TemplateError.syntax("block 'set' is not supported") }
            return .assign(target: target, attribute: attribute, value: try ExpressionParser.parse(Array(rest.dropFirst())))
        case "generation", "endgeneration":
            return nil  // transformers' marker for assistant masks; no output of its own.
        default:
            throw TemplateError.syntax("unsupported statement '\(keyword)'")
        }
    }
}

/// Expression parser, with Jinja's precedence: conditional, or, and, not, comparisons and `in`,
/// `~`, `+ -`, `* / // %`, unary minus, then postfix member, subscript, call, filter and test.
struct ExpressionParser {
    typealias Expression = TemplateParser.Expression
    typealias Token = TemplateLexer.Token
    let tokens: [Token]
    var index = 0

    init(tokens: [Token]) { self.tokens = tokens }

    static func parse(_ tokens: [Token]) throws -> Expression {
        var parser = ExpressionParser(tokens: tokens)
        return try parser.parseAll()
    }

    mutating func parseAll() throws -> Expression {
        let expression = try conditional()
        guard index == tokens.count else { throw TemplateError.syntax("unexpected \(tokens[index]) in expression") }
        return expression
    }

    private var peek: Token? { index < tokens.count ? tokens[index] : nil }
    private mutating func accept(_ token: Token) -> Bool {
        if peek == token { index += 1; return true }
        return false
    }
    private mutating func expect(_ token: Token) throws {
        guard accept(token) else { throw TemplateError.syntax("expected \(token), found \(peek.map { "\($0)" } ?? "end")") }
    }

    private mutating func conditional() throws -> Expression {
        let value = try or()
        guard accept(.name("if")) else { return value }
        let condition = try or()
        let otherwise = accept(.name("else")) ? try conditional() : nil
        return .conditional(value, condition: condition, otherwise: otherwise)
    }

    private mutating func or() throws -> Expression {
        var left = try and()
        while accept(.name("or")) { left = .binary("or", left, try and()) }
        return left
    }

    private mutating func and() throws -> Expression {
        var left = try not()
        while accept(.name("and")) { left = .binary("and", left, try not()) }
        return left
    }

    private mutating func not() throws -> Expression {
        accept(.name("not")) ? .unary("not", try not()) : try comparison()
    }

    private mutating func comparison() throws -> Expression {
        var left = try concatenation()
        while true {
            if case let .symbol(s)? = peek, ["==", "!=", "<", ">", "<=", ">="].contains(s) {
                index += 1
                left = .binary(s, left, try concatenation())
            } else if accept(.name("in")) {
                left = .binary("in", left, try concatenation())
            } else if peek == .name("not"), index + 1 < tokens.count, tokens[index + 1] == .name("in") {
                index += 2
                left = .unary("not", .binary("in", left, try concatenation()))
            } else {
                return left
            }
        }
    }

    private mutating func concatenation() throws -> Expression {
        var left = try additive()
        while accept(.symbol("~")) { left = .binary("~", left, try additive()) }
        return left
    }

    private mutating func additive() throws -> Expression {
        var left = try multiplicative()
        while case let .symbol(s)? = peek, s == "+" || s == "-" {
            index += 1
            left = .binary(s, left, try multiplicative())
        }
        return left
    }

    private mutating func multiplicative() throws -> Expression {
        var left = try unary()
        while case let .symbol(s)? = peek, ["*", "/", "//", "%"].contains(s) {
            index += 1
            left = .binary(s, left, try unary())
        }
        return left
    }

    private mutating func unary() throws -> Expression {
        if accept(.symbol("-")) { return .unary("-", try unary()) }
        if accept(.symbol("+")) { return try unary() }
        return try postfix(try primary())
    }

    private mutating func arguments(closing: Token) throws -> ([Expression], [(String, Expression)]) {
        var positional: [Expression] = [], named: [(String, Expression)] = []
        while !accept(closing) {
            if case let .name(n)? = peek, index + 1 < tokens.count, tokens[index + 1] == .symbol("=") {
                index += 2
                named.append((n, try conditional()))
            } else {
                positional.append(try conditional())
            }
            if !accept(.symbol(",")) { try expect(closing); break }
        }
        return (positional, named)
    }

    private mutating func postfix(_ base: Expression) throws -> Expression {
        var node = base
        while true {
            if accept(.symbol(".")) {
                guard case let .name(n)? = peek else { throw TemplateError.syntax("expected a name after '.'") }
                index += 1
                node = .member(node, n)
            } else if accept(.symbol("[")) {
                var start: Expression?
                if peek != .symbol(":") { start = try conditional() }
                if accept(.symbol(":")) {
                    let end = peek == .symbol("]") ? nil : try conditional()
                    try expect(.symbol("]"))
                    node = .slice(node, start, end)
                } else {
                    try expect(.symbol("]"))
                    node = .subscriptIndex(node, start!)
                }
            } else if accept(.symbol("(")) {
                let (positional, named) = try arguments(closing: .symbol(")"))
                node = .call(node, positional, named)
            } else if accept(.symbol("|")) {
                guard case let .name(name)? = peek else { throw TemplateError.syntax("expected a filter name") }
                index += 1
                var positional: [Expression] = [], named: [(String, Expression)] = []
                if accept(.symbol("(")) { (positional, named) = try arguments(closing: .symbol(")")) }
                node = .filter(node, name, positional, named)
            } else if accept(.name("is")) {
                let negated = accept(.name("not"))
                guard case let .name(name)? = peek else { throw TemplateError.syntax("expected a test name") }
                index += 1
                var positional: [Expression] = []
                if accept(.symbol("(")) {
                    positional = try arguments(closing: .symbol(")")).0
                } else if let next = peek, case .name = next, !["and", "or", "else", "if", "in", "not", "is"].contains(nameOf(next)) {
                    positional = [try primary()]
                } else if let next = peek, case .string = next {
                    positional = [try primary()]
                }
                node = .test(node, name, positional, negated: negated)
            } else {
                return node
            }
        }
    }

    private func nameOf(_ token: Token) -> String { if case let .name(n) = token { n } else { "" } }

    private mutating func primary() throws -> Expression {
        guard let token = peek else { throw TemplateError.syntax("unexpected end of expression") }
        index += 1
        switch token {
        case let .name(n):
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case let .string(s):
            var text = s
            while case let .string(more)? = peek { text += more; index += 1 }
            return .literal(.string(text))
        case let .int(i): return .literal(.int(i))
        case let .double(d): return .literal(.double(d))
        case .symbol("("):
            let inner = try conditional()
            if accept(.symbol(",")) {
                var items = [inner]
                while !accept(.symbol(")")) {
                    items.append(try conditional())
                    if !accept(.symbol(",")) { try expect(.symbol(")")); break }
                }
                return .list(items)
            }
            try expect(.symbol(")"))
            return inner
        case .symbol("["):
            var items: [Expression] = []
            while !accept(.symbol("]")) {
                items.append(try conditional())
                if !accept(.symbol(",")) { try expect(.symbol("]")); break }
            }
            return .list(items)
        case .symbol("{"):
            var pairs: [(Expression, Expression)] = []
            while !accept(.symbol("}")) {
                let key = try conditional()
                try expect(.symbol(":"))
                pairs.append((key, try conditional()))
                if !accept(.symbol(",")) { try expect(.symbol("}")); break }
            }
            return .dictionary(pairs)
        default:
            throw TemplateError.syntax("unexpected \(token)")
        }
    }
}
