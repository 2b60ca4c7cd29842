/// The regular expressions tokenizer.json pre-tokenizers use, compiled once and matched over
/// Unicode scalars with Oniguruma's semantics (leftmost match, first alternative wins, greedy,
/// lazy and possessive quantifiers, look-ahead, `(?i:…)`, `\p{…}` classes).
///
/// A backtracking matcher; quantified single-scalar terms (all that tokenizer patterns
/// quantify) scan iteratively, so long runs of spaces or digits cost no recursion.
public struct PatternRegex: Sendable {
    indirect enum Node: Sendable {
        case empty
        case scalar(Unicode.Scalar, caseInsensitive: Bool)
        case any
        case set(ScalarClass)
        case sequence([Node])
        case alternation([Node])
        case repetition(Node, min: Int, max: Int?, mode: Mode)
        case lookahead(Node, negative: Bool)
        case start
        case end
    }

    enum Mode: Sendable { case greedy, lazy, possessive }

    public let pattern: String
    let root: Node

    public init(_ pattern: String) throws {
        self.pattern = pattern
        var parser = PatternParser(pattern: pattern)
        root = try parser.parse()
    }

    /// Compiles a pattern written in this source code; a typo is a programmer error.
    init(constant pattern: String) {
        do { try self.init(pattern) } catch { preconditionFailure("built-in pattern does not compile: \(error)") }
    }

    /// Byte-free match ranges (in scalar offsets) of every non-overlapping, non-empty match, left to right.
    func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var position = 0
        while position < scalars.count {
            if let end = matchEnd(at: position, in: scalars), end > position {
                result.append(position..<end)
                position = end
            } else {
                position += 1
            }
        }
        return result
    }

    /// The end of the match starting exactly at `start`, if any.
    func matchEnd(at start: Int, in scalars: [Unicode.Scalar]) -> Int? {
        var found: Int?
        _ = Self.match(root, start, scalars) { end in found = end; return true }
        return found
    }

    private static func single(_ node: Node, _ s: Unicode.Scalar) -> Bool? {
        switch node {
        case let .scalar(c, insensitive):
            if c == s { return true }
            guard insensitive else { return false }
            return c.properties.lowercaseMapping == s.properties.lowercaseMapping
        case .any: return s != "\n"
        case let .set(set): return set.contains(s)
        default: return nil
        }
    }

    private static func match(_ node: Node, _ i: Int, _ text: [Unicode.Scalar], _ k: (Int) -> Bool) -> Bool {
        switch node {
        case .empty:
            return k(i)
        case .scalar, .any, .set:
            guard i < text.count, single(node, text[i]) == true else { return false }
            return k(i + 1)
        case let .sequence(nodes):
            return sequence(nodes[...], i, text, k)
        case let .alternation(options):
            for option in options where match(option, i, text, k) { return true }
            return false
        case let .repetition(inner, min, max, mode):
            if single(inner, " ") != nil {
                return repeatSingle(inner, min, max, mode, i, text, k)
            }
            return repeatGeneral(inner, min, max, mode, count: 0, i, text, k)
        case let .lookahead(inner, negative):
            let found = match(inner, i, text) { _ in true }
            return found != negative ? k(i) : false
        case .start:
            return i == 0 ? k(i) : false
        case .end:
            return i == text.count ? k(i) : false
        }
    }

    private static func sequence(_ nodes: ArraySlice<Node>, _ i: Int, _ text: [Unicode.Scalar], _ k: (Int) -> Bool) -> Bool {
        guard let first = nodes.first else { return k(i) }
        return match(first, i, text) { next in sequence(nodes.dropFirst(), next, text, k) }
    }

    private static func repeatSingle(_ inner: Node, _ min: Int, _ max: Int?, _ mode: Mode, _ i: Int,
                                     _ text: [Unicode.Scalar], _ k: (Int) -> Bool) -> Bool {
        var run = 0
        let limit = max ?? Int.max
        while run < limit, i + run < text.count, single(inner, text[i + run]) == true { run += 1 }
        guard run >= min else { return false }
        switch mode {
        case .possessive: return k(i + run)
        case .greedy:
            for n in stride(from: run, through: min, by: -1) where k(i + n) { return true }
            return false
        case .lazy:
            for n in min...run where k(i + n) { return true }
            return false
        }
    }

    private static func repeatGeneral(_ inner: Node, _ min: Int, _ max: Int?, _ mode: Mode, count: Int, _ i: Int,
                                      _ text: [Unicode.Scalar], _ k: (Int) -> Bool) -> Bool {
        let canStop = count >= min
        let canGo = max.map { count < $0 } ?? true
        func more() -> Bool {
            canGo && match(inner, i, text) { next in
                next != i && repeatGeneral(inner, min, max, mode, count: count + 1, next, text, k)
            }
        }
        switch mode {
        case .lazy: return (canStop && k(i)) || more()
        case .greedy, .possessive: return more() || (canStop && k(i))
        }
    }
}
