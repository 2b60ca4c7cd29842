/// Splits a Jinja template into text and tags, applying whitespace control (`{%-`, `-%}`) and
/// the `trim_blocks` / `lstrip_blocks` settings transformers renders chat templates with.
struct TemplateLexer {
    enum Piece: Equatable {
        case text(String)
        case output([Token])
        case statement([Token])
    }

    enum Token: Equatable {
        case name(String)
        case string(String)
        case int(Int)
        case double(Double)
        case symbol(String)
    }

    static func pieces(_ source: String) throws -> [Piece] {
        var pieces: [Piece] = []
        var rest = Substring(source)
        var stripNextLeading = false
        var trimNextNewline = false
        while !rest.isEmpty {
            guard let open = nextTag(in: rest) else {
                pieces.append(.text(adjust(String(rest), stripLeading: stripNextLeading, trimNewline: trimNextNewline)))
                break
            }
            var text = adjust(String(rest[..<open.start]), stripLeading: stripNextLeading, trimNewline: trimNextNewline)
            let afterOpen = rest.index(open.start, offsetBy: 2)
            var body = rest[afterOpen...]
            let kind = open.kind
            let closer = kind == "{" ? "}}" : (kind == "%" ? "%}" : "#}")
            var stripBefore = false
            if body.first == "-" { stripBefore = true; body = body.dropFirst() } else if body.first == "+" { body = body.dropFirst() }
            guard let close = body.firstRange(of: closer) else {
                throw TemplateError.syntax("unclosed '{\(kind)' tag")
            }
            var inner = body[..<close.lowerBound]
            var stripAfter = false
            if inner.last == "-" { stripAfter = true; inner = inner.dropLast() } else if inner.last == "+" { inner = inner.dropLast() }
            if stripBefore {
                text = String(text.reversed().drop { $0.isWhitespace }.reversed())
            } else if kind != "{", rest[afterOpen] != "+" {
                // lstrip_blocks: spaces and tabs from the line start up to a block tag go.
                let lineStart = text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
                if text[lineStart...].allSatisfy({ $0 == " " || $0 == "\t" }) { text.removeSubrange(lineStart...) }
            }
            if !text.isEmpty { pieces.append(.text(text)) }
            switch kind {
            case "{": pieces.append(.output(try tokens(String(inner))))
            case "%": pieces.append(.statement(try tokens(String(inner))))
            default: break
            }
            stripNextLeading = stripAfter
            trimNextNewline = kind != "{" && !stripAfter
            rest = body[close.upperBound...]
        }
        return pieces
    }

    private static func nextTag(in text: Substring) -> (start: String.Index, kind: Character)? {
        var index = text.startIndex
        while let brace = text[index...].firstIndex(of: "{") {
            let next = text.index(after: brace)
            if next < text.endIndex, ["{", "%", "#"].contains(text[next]) { return (brace, text[next]) }
            index = next
        }
        return nil
    }

    private static func adjust(_ text: String, stripLeading: Bool, trimNewline: Bool) -> String {
        if stripLeading { return String(text.drop { $0.isWhitespace }) }
        if trimNewline, text.hasPrefix("\n") { return String(text.dropFirst()) }
        if trimNewline, text.hasPrefix("\r\n") { return String(text.dropFirst()) }
        return text
    }

    static func tokens(_ source: String) throws -> [Token] {
        var tokens: [Token] = []
        let chars = Array(source)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            if c.isLetter || c == "_" {
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                tokens.append(.name(String(chars[i..<j])))
                i = j
            } else if c.isNumber {
                var j = i
                while j < chars.count, chars[j].isNumber || (chars[j] == "." && j + 1 < chars.count && chars[j + 1].isNumber) { j += 1 }
                let text = String(chars[i..<j])
                tokens.append(text.contains(".") ? .double(Double(text) ?? 0) : .int(Int(text) ?? 0))
                i = j
            } else if c == "'" || c == "\"" {
                var j = i + 1
                var value = ""
                while j < chars.count, chars[j] != c {
                    if chars[j] == "\\", j + 1 < chars.count {
                        j += 1
                        switch chars[j] {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        default: value.append(chars[j])
                        }
                    } else {
                        value.append(chars[j])
                    }
                    j += 1
                }
                guard j < chars.count else { throw TemplateError.syntax("unterminated string") }
                tokens.append(.string(value))
                i = j + 1
            } else {
                let two = i + 1 < chars.count ? String(chars[i...(i + 1)]) : ""
                if ["==", "!=", "<=", ">=", "//", "**"].contains(two) {
                    tokens.append(.symbol(two))
                    i += 2
                } else if "()[]{}.,:|~+-*/%<>=".contains(c) {
                    tokens.append(.symbol(String(c)))
                    i += 1
                } else {
                    throw TemplateError.syntax("unexpected character '\(c)'")
                }
            }
        }
        return tokens
    }
}

/// A chat template that cannot be parsed or rendered; one line.
public enum TemplateError: Error, CustomStringConvertible, Equatable {
    case syntax(String)
    case runtime(String)
    /// The template called `raise_exception(message)`.
    case raised(String)

    public var description: String {
        switch self {
        case let .syntax(detail): "chat template syntax error: \(detail)"
        case let .runtime(detail): "chat template error: \(detail)"
        case let .raised(message): "chat template: \(message)"
        }
    }
}
