import Testing
@testable import Tokenizer

/// The regex engine on the constructs tokenizer patterns use.
@Suite struct PatternRegexTests {
    func pieces(_ pattern: String, _ text: String) throws -> [String] {
        let scalars = Array(text.unicodeScalars)
        return try PatternRegex(pattern).matches(in: scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    @Test func digitRunsOfOneToThree() throws {
        #expect(try pieces("\\p{N}{1,3}", "a1234567b") == ["123", "456", "7"])
    }

    @Test func negativeLookaheadLeavesLastSpace() throws {
        #expect(try pieces("\\s+(?!\\S)|\\s+", "a   b") == ["  ", " "])
    }

    @Test func caseInsensitiveGroup() throws {
        #expect(try pieces("(?i:'s|'t)", "IT'S it's") == ["'S", "'s"])
    }

    @Test func possessiveAndLazy() throws {
        #expect(try pieces("a+?", "aaa") == ["a", "a", "a"])
        #expect(try pieces("[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+", " hello") == [" hello"])
    }

    @Test func classesWithRangesAndEscapes() throws {
        #expect(try pieces("[一-龥\u{3040}-ゟ]+", "ab中文かなx") == ["中文かな"])
        #expect(try pieces("[!\\-./]+", "a-b./c") == ["-", "./"])
    }

    @Test func malformedPatternsAreErrors() {
        for bad in ["(abc", "[abc", "a{3,1}", "*a", "\\p{Nope}", "(?<name>x)"] {
            #expect(throws: TokenizerError.self) { try PatternRegex(bad) }
        }
    }

    @Test func longRunsDoNotRecurse() throws {
        let spaces = String(repeating: " ", count: 200_000)
        #expect(try pieces("\\s+(?!\\S)|\\s+", spaces + "x").map(\.count) == [199_999, 1])
    }
}

@Suite struct StreamingDecoderTests {
    @Test func holdsIncompleteSequences() {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        #expect(StreamingDecoder.completePrefixLength(Array(euro.prefix(1))) == 0)
        #expect(StreamingDecoder.completePrefixLength(Array(euro.prefix(2))) == 0)
        #expect(StreamingDecoder.completePrefixLength(euro) == 3)
        #expect(StreamingDecoder.completePrefixLength([0x41, 0xF0, 0x9F]) == 1)
        #expect(StreamingDecoder.completePrefixLength([0x80]) == 1)
    }
}
