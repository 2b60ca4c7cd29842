/// Turns generated token ids into text as they arrive, never splitting a UTF-8 sequence: bytes
/// of an incomplete trailing character are held until the token that completes it.
public struct StreamingDecoder: Sendable {
    let tokenizer: Tokenizer
    let skipSpecialTokens: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// The text that token `id` completes (possibly empty). An id the tokenizer does not have (checkpoints
    /// pad `vocab_size` past the tokenizer) contributes nothing, as tokenizers' decode treats it.
    public mutating func append(_ id: Int) throws -> String {
        pending += (try? tokenizer.bytes(of: id, skipSpecialTokens: skipSpecialTokens)) ?? []
        let ready = Self.completePrefixLength(pending)
        defer { pending.removeFirst(ready) }
        return String(decoding: pending[..<ready], as: UTF8.self)
    }

    /// Whatever is still held, with an unfinished character as U+FFFD.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix of `bytes` that ends on a character boundary (an unfinished but so far
    /// valid multi-byte sequence at the end is excluded).
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        var start = bytes.count - 1
        var continuation = 0
        while start >= 0, bytes[start] & 0xC0 == 0x80, continuation < 3 {
            start -= 1
            continuation += 1
        }
        guard start >= 0 else { return bytes.count }
        let lead = bytes[start]
        let needed: Int
        switch lead {
        case 0xC2...0xDF: needed = 1
        case 0xE0...0xEF: needed = 2
        case 0xF0...0xF4: needed = 3
        default: return bytes.count
        }
        return continuation < needed ? start : bytes.count
    }
}
