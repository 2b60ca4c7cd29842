import JSON

/// The pre-tokenizers of tokenizer.json that byte-level BPE models use, applied in order to
/// split text into words before BPE.
indirect enum PreTokenizer: Sendable {
    enum Behavior: String, Sendable {
        case isolated = "Isolated", removed = "Removed", mergedWithPrevious = "MergedWithPrevious"
        case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
    }

    case sequence([PreTokenizer])
    case split(PatternRegex, Behavior)
    /// Maps bytes to printable scalars; with `useRegex`, first splits with GPT-2's pattern.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case digits(individual: Bool)

    /// GPT-2's word pattern, used by `ByteLevel` when `use_regex` is true.
    static let gpt2Pattern = PatternRegex(constant:
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+")
    static let digitRun = PatternRegex(constant: "\\p{Nd}+")
    static let digit = PatternRegex(constant: "\\p{Nd}")

    init(json: JSONValue, path: String) throws {
        let type = json["type"]?.stringValue ?? "(missing)"
        switch type {
        case "Sequence":
            let items = json["pretokenizers"]?.arrayValue ?? []
            self = .sequence(try items.map { try PreTokenizer(json: $0, path: path) })
        case "Split":
            guard let pattern = json["pattern"]?["Regex"]?.stringValue ?? json["pattern"]?["String"]?.stringValue.map(Self.escape) else {
                throw TokenizerError.invalidFile(path: path, detail: "Split pre-tokenizer without a pattern")
            }
            if json["invert"]?.boolValue == true {
                throw TokenizerError.unsupported(path: path, component: "pre-tokenizer", detail: "Split with invert=true")
            }
            let name = json["behavior"]?.stringValue ?? "Isolated"
            guard let behavior = Behavior(rawValue: name) else {
                throw TokenizerError.unsupported(path: path, component: "Split behavior", detail: name)
            }
            self = .split(try PatternRegex(pattern), behavior)
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: json["add_prefix_space"]?.boolValue ?? true,
                              useRegex: json["use_regex"]?.boolValue ?? true)
        case "Digits":
            self = .digits(individual: json["individual_digits"]?.boolValue ?? false)
        default:
            throw TokenizerError.unsupported(path: path, component: "pre-tokenizer", detail: type)
        }
    }

    /// A literal string pattern as a regex.
    private static func escape(_ literal: String) -> String {
        literal.unicodeScalars.map { "\\^$.|?*+()[]{}-".unicodeScalars.contains($0) ? "\\\($0)" : String($0) }.joined()
    }

    /// Splits every piece further; byte-level mapping happens last and only once.
    func apply(_ pieces: [Substring]) -> [Substring] {
        switch self {
        case let .sequence(steps):
            return steps.reduce(pieces) { $1.apply($0) }
        case let .split(regex, behavior):
            return pieces.flatMap { Self.split($0, regex: regex, behavior: behavior) }
        case let .byteLevel(addPrefixSpace, useRegex):
            var pieces = pieces
            if addPrefixSpace, let first = pieces.first, !first.hasPrefix(" ") {
                pieces[0] = Substring(" " + first)
            }
            return useRegex ? pieces.flatMap { Self.split($0, regex: Self.gpt2Pattern, behavior: .isolated) } : pieces
        case let .digits(individual):
            return pieces.flatMap { Self.split($0, regex: individual ? Self.digit : Self.digitRun, behavior: .isolated) }
        }
    }

    /// Whether the pipeline ends by byte-mapping words.
    var mapsBytes: Bool {
        switch self {
        case let .sequence(steps): steps.contains { $0.mapsBytes }
        case .byteLevel: true
        default: false
        }
    }

    static func split(_ text: Substring, regex: PatternRegex, behavior: Behavior) -> [Substring] {
        let scalars = Array(text.unicodeScalars)
        let matches = regex.matches(in: scalars)
        guard !matches.isEmpty else { return behavior == .removed && text.isEmpty ? [] : [text] }
        // Scalar offsets to string indices.
        var indices: [String.Index] = []
        indices.reserveCapacity(scalars.count + 1)
        var index = text.startIndex
        for _ in 0...scalars.count {
            indices.append(index)
            if index < text.endIndex { index = text.unicodeScalars.index(after: index) }
        }
        var spans: [(Range<Int>, isMatch: Bool)] = []
        var cursor = 0
        for m in matches {
            if m.lowerBound > cursor { spans.append((cursor..<m.lowerBound, false)) }
            spans.append((m, true))
            cursor = m.upperBound
        }
        if cursor < scalars.count { spans.append((cursor..<scalars.count, false)) }

        var out: [Range<Int>] = []
        switch behavior {
        case .isolated: out = spans.map(\.0)
        case .removed: out = spans.filter { !$0.isMatch }.map(\.0)
        case .mergedWithPrevious:
            for (range, isMatch) in spans {
                if isMatch, let last = out.last { out[out.count - 1] = last.lowerBound..<range.upperBound } else { out.append(range) }
            }
        case .mergedWithNext:
            var pending: Range<Int>?
            for (range, isMatch) in spans {
                let merged = pending.map { $0.lowerBound..<range.upperBound } ?? range
                if isMatch { pending = merged } else { out.append(merged); pending = nil }
            }
            if let pending { out.append(pending) }
        case .contiguous:
            var previousWasMatch = false
            for (range, isMatch) in spans {
                if isMatch && previousWasMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<range.upperBound
                } else { out.append(range) }
                previousWasMatch = isMatch
            }
        }
        return out.map { text[indices[$0.lowerBound]..<indices[$0.upperBound]] }
    }
}
