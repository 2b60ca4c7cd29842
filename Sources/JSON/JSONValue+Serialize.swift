/// Rendering `JSONValue`s back to text.
extension JSONValue {
    /// JSON text. Default: compact (no spaces), non-ASCII kept. `pythonSeparators` uses `", "` and
    /// `": "` as Python's `json.dumps` does; `asciiOnly` escapes everything past U+007F; `indent`
    /// pretty-prints as `json.dumps(indent=n)` (with `","` between items).
    public func serialized(pythonSeparators: Bool = false, asciiOnly: Bool = false, sortKeys: Bool = false, indent: Int? = nil) -> String {
        var out = ""
        let style = Style(itemSeparator: indent != nil ? "," : (pythonSeparators ? ", " : ","),
                          keySeparator: pythonSeparators || indent != nil ? ": " : ":",
                          asciiOnly: asciiOnly, sortKeys: sortKeys, indent: indent)
        write(into: &out, style: style, level: 0)
        return out
    }

    private struct Style {
        let itemSeparator: String
        let keySeparator: String
        let asciiOnly: Bool
        let sortKeys: Bool
        let indent: Int?
    }

    private func newline(_ out: inout String, _ style: Style, _ level: Int) {
        guard let indent = style.indent else { return }
        out += "\n" + String(repeating: " ", count: indent * level)
    }

    private func write(into out: inout String, style: Style, level: Int) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d):
            if d.isFinite {
                out += d == d.rounded() && abs(d) < 1e16 ? "\(Int(d)).0" : "\(d)"
            } else {
                out += d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")
            }
        case let .string(s): Self.writeString(s, into: &out, asciiOnly: style.asciiOnly)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += style.itemSeparator }
                newline(&out, style, level + 1)
                item.write(into: &out, style: style, level: level + 1)
            }
            if !items.isEmpty { newline(&out, style, level) }
            out += "]"
        case let .object(object):
            out += "{"
            let keys = style.sortKeys ? object.keys.sorted() : object.keys
            for (i, key) in keys.enumerated() {
                if i > 0 { out += style.itemSeparator }
                newline(&out, style, level + 1)
                Self.writeString(key, into: &out, asciiOnly: style.asciiOnly)
                out += style.keySeparator
                object[key]!.write(into: &out, style: style, level: level + 1)
            }
            if !keys.isEmpty { newline(&out, style, level) }
            out += "}"
        }
    }

    /// Writes `text` as a JSON string literal; `asciiOnly` escapes everything past U+007F.
    static func writeString(_ text: String, into out: inout String, asciiOnly: Bool) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7F) {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += hex4(scalar.value)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
    }
}
