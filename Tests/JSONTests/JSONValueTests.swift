import Testing
@testable import JSON

@Suite struct JSONValueTests {
    @Test func keepsTypesApartAndKeyOrder() throws {
        let value = try JSONValue.parse(#"{"b": true, "a": 1, "c": 1.5, "d": null, "e": [1, "x"], "f": 1e2}"#)
        #expect(value["b"] == .bool(true) && value["a"] == .int(1) && value["c"] == .double(1.5) && value["d"] == .null)
        #expect(value["f"] == .double(100) && value["f"]?.intValue == 100)
        #expect(value.objectValue?.keys == ["b", "a", "c", "d", "e", "f"])
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONValue.parse(#""a\n\"\u00e9\ud83d\ude00\/""#) == .string("a\n\"é😀/"))
        #expect(try JSONValue.parse(#""\ud800x""#) == .string("\u{FFFD}x"))
    }

    @Test func rejectsMalformedInputWithOffsets() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01x", "\"\u{01}\"", "tru", "[1] 2", "{\"a\":}", "\"\\q\""] {
            #expect(throws: JSONError.self) { try JSONValue.parse(bad) }
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
    }

    @Test func serializesCompactPythonAndIndented() throws {
        let value = try JSONValue.parse(#"{"k": ["é", 1, 2.5, null, true]}"#)
        #expect(value.serialized() == #"{"k":["é",1,2.5,null,true]}"#)
        #expect(value.serialized(pythonSeparators: true) == #"{"k": ["é", 1, 2.5, null, true]}"#)
        #expect(value.serialized(pythonSeparators: true, asciiOnly: true) == #"{"k": ["\u00e9", 1, 2.5, null, true]}"#)
        #expect(value.serialized(indent: 2) == "{\n  \"k\": [\n    \"é\",\n    1,\n    2.5,\n    null,\n    true\n  ]\n}")
        #expect(try JSONValue.parse(value.serialized()) == value)
    }
}
