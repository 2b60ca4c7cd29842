/// A set of Unicode scalars as a regex class denotes it (`[a-z\p{L}]`, `\s`, `\p{N}`), with
/// Oniguruma's Unicode meanings: `\s` is the White_Space property, `\d` is `\p{Nd}`, `\w` is
/// letters, marks, numbers and connector punctuation.
struct ScalarClass: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case categories(Set<Unicode.GeneralCategory>, negated: Bool)
        case whitespace(negated: Bool)
        case digit(negated: Bool)
        case word(negated: Bool)
        case nested(ScalarClass)
    }

    var items: [Item] = []
    var negated = false
    var caseInsensitive = false

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        var hit = items.contains { Self.matches($0, scalar) }
        if !hit && caseInsensitive {
            let variants = [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping]
                .compactMap { $0.unicodeScalars.count == 1 ? $0.unicodeScalars.first : nil }
            hit = variants.contains { v in items.contains { Self.matches($0, v) } }
        }
        return hit != negated
    }

    private static func matches(_ item: Item, _ s: Unicode.Scalar) -> Bool {
        switch item {
        case let .range(low, high): return s.value >= low && s.value <= high
        case let .categories(set, negated): return set.contains(s.properties.generalCategory) != negated
        case let .whitespace(negated): return s.properties.isWhitespace != negated
        case let .digit(negated): return (s.properties.generalCategory == .decimalNumber) != negated
        case let .word(negated): return isWord(s) != negated
        case let .nested(inner): return inner.contains(s)
        }
    }

    static func isWord(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation: return true
        default: return false
        }
    }

    /// General categories named by a `\p{…}` property (one- or two-letter names, long names for the groups).
    static func categories(named name: String) -> Set<Unicode.GeneralCategory>? {
        let table: [String: [Unicode.GeneralCategory]] = [
            "L": [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter],
            "Lu": [.uppercaseLetter], "Ll": [.lowercaseLetter], "Lt": [.titlecaseLetter], "Lm": [.modifierLetter], "Lo": [.otherLetter],
            "M": [.nonspacingMark, .spacingMark, .enclosingMark], "Mn": [.nonspacingMark], "Mc": [.spacingMark], "Me": [.enclosingMark],
            "N": [.decimalNumber, .letterNumber, .otherNumber], "Nd": [.decimalNumber], "Nl": [.letterNumber], "No": [.otherNumber],
            "P": [.connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
                  .finalPunctuation, .otherPunctuation],
            "Pc": [.connectorPunctuation], "Pd": [.dashPunctuation], "Ps": [.openPunctuation], "Pe": [.closePunctuation],
            "Pi": [.initialPunctuation], "Pf": [.finalPunctuation], "Po": [.otherPunctuation],
            "S": [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol],
            "Sm": [.mathSymbol], "Sc": [.currencySymbol], "Sk": [.modifierSymbol], "So": [.otherSymbol],
            "Z": [.spaceSeparator, .lineSeparator, .paragraphSeparator], "Zs": [.spaceSeparator], "Zl": [.lineSeparator],
            "Zp": [.paragraphSeparator],
            "C": [.control, .format, .surrogate, .privateUse, .unassigned], "Cc": [.control], "Cf": [.format],
            "Co": [.privateUse], "Cn": [.unassigned], "Cs": [.surrogate],
        ]
        let aliases = ["Letter": "L", "Mark": "M", "Number": "N", "Punctuation": "P", "Symbol": "S", "Separator": "Z", "Other": "C"]
        return table[aliases[name] ?? name].map(Set.init)
    }
}
