/// Rendering `JSONValue`s back to text.
extension JSONValue {
    /// Compact JSON text (no spaces); with `pythonStyle`, `", "` and `": "` separators and
    /// non-ASCII escaped, as Python's `json.dumps` writes by default.
    public func serialized(pythonStyle: Bool = false, sortKeys: Bool = false) -> String {
        var out = ""
        write(into: &out, pythonStyle: pythonStyle, sortKeys: sortKeys)
        return out
    }

    private func write(into out: inout String, pythonStyle: Bool, sortKeys: Bool) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d):
            if d.isFinite {
                out += d == d.rounded() && abs(d) < 1e16 ? String(format: d) : "\(d)"
            } else {
                out += d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")
            }
        case let .string(s): Self.writeString(s, into: &out, asciiOnly: pythonStyle)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += pythonStyle ? ", " : "," }
                item.write(into: &out, pythonStyle: pythonStyle, sortKeys: sortKeys)
            }
            out += "]"
        case let .object(object):
            out += "{"
            let keys = sortKeys ? object.keys.sorted() : object.keys
            for (i, key) in keys.enumerated() {
                if i > 0 { out += pythonStyle ? ", " : "," }
                Self.writeString(key, into: &out, asciiOnly: pythonStyle)
                out += pythonStyle ? ": " : ":"
                object[key]!.write(into: &out, pythonStyle: pythonStyle, sortKeys: sortKeys)
            }
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

private extension String {
    /// A whole-valued double the way Python prints it (`1.0`, `-3.0`).
    init(format value: Double) { self = "\(Int(value)).0" }
}
