/// Parses the regex dialect of tokenizer.json patterns into `PatternRegex.Node`s.
struct PatternParser {
    typealias Node = PatternRegex.Node
    let pattern: String
    let scalars: [Unicode.Scalar]
    var index = 0
    var caseInsensitive = false

    init(pattern: String) {
        self.pattern = pattern
        scalars = Array(pattern.unicodeScalars)
    }

    private func fail(_ detail: String) -> TokenizerError {
        .invalidPattern(pattern: pattern, detail: "\(detail) at offset \(index)")
    }

    private var atEnd: Bool { index >= scalars.count }
    private var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }

    mutating func parse() throws -> Node {
        let node = try alternation()
        guard atEnd else { throw fail("unbalanced ')'") }
        return node
    }

    private mutating func alternation() throws -> Node {
        var options = [try sequence()]
        while peek == "|" {
            index += 1
            options.append(try sequence())
        }
        return options.count == 1 ? options[0] : .alternation(options)
    }

    private mutating func sequence() throws -> Node {
        var items: [Node] = []
        while let c = peek, c != "|", c != ")" {
            items.append(try quantified(try atom()))
        }
        return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .sequence(items))
    }

    private mutating func quantified(_ atom: Node) throws -> Node {
        guard let c = peek else { return atom }
        var bounds: (Int, Int?)
        switch c {
        case "*": bounds = (0, nil); index += 1
        case "+": bounds = (1, nil); index += 1
        case "?": bounds = (0, 1); index += 1
        case "{":
            guard let parsed = try braces() else { return atom }
            bounds = parsed
        default: return atom
        }
        var mode = PatternRegex.Mode.greedy
        if peek == "?" { mode = .lazy; index += 1 } else if peek == "+" { mode = .possessive; index += 1 }
        return .repetition(atom, min: bounds.0, max: bounds.1, mode: mode)
    }

    /// `{n}`, `{n,}` or `{n,m}`; nil (and no input consumed) when the brace is a literal.
    private mutating func braces() throws -> (Int, Int?)? {
        let start = index
        index += 1
        func number() -> Int? {
            var digits = ""
            while let c = peek, ("0"..."9").contains(c) { digits.unicodeScalars.append(c); index += 1 }
            return Int(digits)
        }
        guard let low = number() else { index = start; return nil }
        var high: Int? = low
        if peek == "," { index += 1; high = number() }
        guard peek == "}" else { index = start; return nil }
        index += 1
        if let high, high < low { throw fail("bad repetition bounds") }
        return (low, high)
    }

    private mutating func atom() throws -> Node {
        let c = scalars[index]
        index += 1
        switch c {
        case "(": return try group()
        case "[": return .set(try bracket())
        case ".": return .any
        case "^": return .start
        case "$": return .end
        case "\\": return try escape(inClass: false).node(caseInsensitive: caseInsensitive)
        case "*", "+", "?": throw fail("nothing to repeat")
        default: return .scalar(c, caseInsensitive: caseInsensitive)
        }
    }

    private mutating func group() throws -> Node {
        let saved = caseInsensitive
        defer { caseInsensitive = saved }
        var lookahead: Bool?
        if peek == "?" {
            index += 1
            switch peek {
            case ":": index += 1
            case "=": index += 1; lookahead = false
            case "!": index += 1; lookahead = true
            case "i":
                index += 1
                guard peek == ":" else { throw fail("only (?i:…) flag groups are supported") }
                index += 1
                caseInsensitive = true
            default: throw fail("unsupported group")
            }
        }
        let inner = try alternation()
        guard peek == ")" else { throw fail("missing ')'") }
        index += 1
        if let negative = lookahead { return .lookahead(inner, negative: negative) }
        return inner
    }

    private mutating func bracket() throws -> ScalarClass {
        var set = ScalarClass()
        set.caseInsensitive = caseInsensitive
        if peek == "^" { set.negated = true; index += 1 }
        var first = true
        while true {
            guard let c = peek else { throw fail("missing ']'") }
            if c == "]" && !first { index += 1; break }
            first = false
            index += 1
            var low: Unicode.Scalar
            if c == "\\" {
                switch try escape(inClass: true) {
                case let .scalar(s): low = s
                case let .set(item): set.items.append(item); continue
                }
            } else if c == "[" {
                set.items.append(.nested(try bracket()))
                continue
            } else {
                low = c
            }
            // A range `a-z` (a trailing '-' is literal).
            if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                var high = scalars[index]
                index += 1
                if high == "\\" {
                    guard case let .scalar(s) = try escape(inClass: true) else { throw fail("class in a range") }
                    high = s
                }
                guard low.value <= high.value else { throw fail("reversed range") }
                set.items.append(.range(low.value, high.value))
            } else {
                set.items.append(.range(low.value, low.value))
            }
        }
        return set
    }

    enum Escaped {
        case scalar(Unicode.Scalar)
        case set(ScalarClass.Item)

        func node(caseInsensitive: Bool) -> Node {
            switch self {
            case let .scalar(s): return .scalar(s, caseInsensitive: caseInsensitive)
            case let .set(item): return .set(ScalarClass(items: [item]))
            }
        }
    }

    private mutating func escape(inClass: Bool) throws -> Escaped {
        guard let c = peek else { throw fail("trailing '\\'") }
        index += 1
        switch c {
        case "n": return .scalar("\n")
        case "r": return .scalar("\r")
        case "t": return .scalar("\t")
        case "f": return .scalar("\u{0C}")
        case "v": return .scalar("\u{0B}")
        case "0": return .scalar("\0")
        case "s", "S": return .set(.whitespace(negated: c == "S"))
        case "d", "D": return .set(.digit(negated: c == "D"))
        case "w", "W": return .set(.word(negated: c == "W"))
        case "p", "P":
            var name = ""
            if peek == "{" {
                index += 1
                while let n = peek, n != "}" { name.unicodeScalars.append(n); index += 1 }
                guard peek == "}" else { throw fail("missing '}' in \\p{…}") }
                index += 1
            } else if let n = peek {
                name = String(n); index += 1
            }
            var negated = c == "P"
            if name.hasPrefix("^") { negated.toggle(); name.removeFirst() }
            guard let categories = ScalarClass.categories(named: name) else { throw fail("unknown property \\p{\(name)}") }
            return .set(.categories(categories, negated: negated))
        case "x":
            return .scalar(try hexScalar(braced: peek == "{", fixed: 2))
        case "u":
            return .scalar(try hexScalar(braced: peek == "{", fixed: 4))
        case "U":
            return .scalar(try hexScalar(braced: false, fixed: 8))
        default:
            if c.properties.isAlphabetic || ("0"..."9").contains(c) { throw fail("unsupported escape '\\\(c)'") }
            return .scalar(c)
        }
    }

    private mutating func hexScalar(braced: Bool, fixed: Int) throws -> Unicode.Scalar {
        var digits = ""
        if braced {
            index += 1
            while let n = peek, n != "}" { digits.unicodeScalars.append(n); index += 1 }
            index += 1
        } else {
            for _ in 0..<fixed {
                guard let n = peek else { break }
                digits.unicodeScalars.append(n); index += 1
            }
        }
        guard let value = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(value) else { throw fail("bad hex escape") }
        return scalar
    }
}
