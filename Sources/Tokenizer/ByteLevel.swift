/// GPT-2's reversible map between bytes and printable Unicode scalars, which lets byte-level
/// BPE vocabularies be stored as JSON text (byte 0x20, a space, is "Ġ").
enum ByteLevel {
    /// Scalar for each byte value.
    static let scalarForByte: [Unicode.Scalar] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var scalars = [UInt32](repeating: 0, count: 256)
        for b in printable { scalars[b] = UInt32(b) }
        var next: UInt32 = 256
        for b in 0..<256 where !printable.contains(b) {
            scalars[b] = next
            next += 1
            printable.append(b)
        }
        return scalars.map { Unicode.Scalar($0)! }
    }()

    /// Byte for each mapped scalar.
    static let byteForScalar: [Unicode.Scalar: UInt8] = {
        var table: [Unicode.Scalar: UInt8] = [:]
        for (b, s) in scalarForByte.enumerated() { table[s] = UInt8(b) }
        return table
    }()

    /// The mapped form of `text`'s UTF-8 bytes.
    static func encode(_ text: Substring) -> String {
        var out = String.UnicodeScalarView()
        for byte in text.utf8 { out.append(scalarForByte[Int(byte)]) }
        return String(out)
    }

    /// The bytes a token stands for: each scalar's byte when all map, else the token's own UTF-8
    /// (as tokenizers' ByteLevel decoder treats added tokens).
    static func bytes(of token: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = byteForScalar[s] else { return Array(token.utf8) }
            bytes.append(b)
        }
        return bytes
    }
}
