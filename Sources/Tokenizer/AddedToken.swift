/// A token matched in raw text before pre-tokenization (`added_tokens` of tokenizer.json).
public struct AddedToken: Sendable, Equatable {
    public let id: Int
    public let content: String
    /// Special tokens (BOS, EOS, padding) are dropped by `decode(skipSpecialTokens: true)`.
    public let special: Bool
    let lstrip: Bool
    let rstrip: Bool
    let singleWord: Bool
}

/// Finds added tokens in text, leftmost first and longest at a position.
struct AddedTokenMatcher: Sendable {
    private let byFirstScalar: [Unicode.Scalar: [(scalars: [Unicode.Scalar], token: AddedToken)]]

    init(_ tokens: [AddedToken]) {
        var table: [Unicode.Scalar: [(scalars: [Unicode.Scalar], token: AddedToken)]] = [:]
        for token in tokens {
            let scalars = Array(token.content.unicodeScalars)
            guard let first = scalars.first else { continue }
            table[first, default: []].append((scalars, token))
        }
        byFirstScalar = table.mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
    }

    enum Segment: Equatable {
        case text(Range<Int>)
        case token(AddedToken)
    }

    /// Splits `scalars` into plain-text ranges and added tokens, applying each token's strip rules.
    func segments(_ scalars: [Unicode.Scalar]) -> [Segment] {
        guard !byFirstScalar.isEmpty else { return scalars.isEmpty ? [] : [.text(0..<scalars.count)] }
        var out: [Segment] = []
        var textStart = 0
        var i = 0
        while i < scalars.count {
            guard let match = match(at: i, in: scalars) else { i += 1; continue }
            var textEnd = i
            if match.lstrip { while textEnd > textStart, scalars[textEnd - 1].properties.isWhitespace { textEnd -= 1 } }
            if textEnd > textStart { out.append(.text(textStart..<textEnd)) }
            out.append(.token(match))
            i += match.content.unicodeScalars.count
            if match.rstrip { while i < scalars.count, scalars[i].properties.isWhitespace { i += 1 } }
            textStart = i
        }
        if textStart < scalars.count { out.append(.text(textStart..<scalars.count)) }
        return out
    }

    private func match(at i: Int, in scalars: [Unicode.Scalar]) -> AddedToken? {
        guard let candidates = byFirstScalar[scalars[i]] else { return nil }
        for (pattern, token) in candidates where i + pattern.count <= scalars.count {
            guard scalars[i..<(i + pattern.count)].elementsEqual(pattern) else { continue }
            if token.singleWord {
                let before = i > 0 && ScalarClass.isWord(scalars[i - 1])
                let after = i + pattern.count < scalars.count && ScalarClass.isWord(scalars[i + pattern.count])
                if before || after { continue }
            }
            return token
        }
        return nil
    }
}
