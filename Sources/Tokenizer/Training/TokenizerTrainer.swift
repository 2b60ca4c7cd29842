import Foundation
import JSON

/// Trains a byte-level BPE tokenizer in DeepSeek-V3's configuration (`DeepSeekTokenizerFormat`):
/// text is split by the same pre-tokenizer that encoding uses, words are counted, and `BPETrainer`
/// learns merges until the vocabulary, special and added tokens included, reaches its size.
public struct TokenizerTrainer: Sendable {
    /// The vocabulary size asked for: specials, the 256 byte symbols, merges and added tokens.
    public let vocabularySize: Int
    public let minimumFrequency: Int
    /// Each pre-tokenized word's UTF-8 bytes and its count so far.
    public private(set) var words: [[UInt8]: Int] = [:]
    private let preTokenizer = DeepSeekTokenizerFormat.preTokenizer()

    /// The smallest vocabulary: specials, bytes and added tokens without any merge.
    public static let minimumVocabularySize =
        DeepSeekTokenizerFormat.specialTokens.count + 256 + DeepSeekTokenizerFormat.addedTokens.count

    public init(vocabularySize: Int, minimumFrequency: Int = 2) throws {
        guard vocabularySize >= Self.minimumVocabularySize else {
            throw TokenizerError.invalidVocabularySize(vocabularySize, minimum: Self.minimumVocabularySize)
        }
        guard minimumFrequency >= 1 else { throw TokenizerError.invalidMinimumFrequency(minimumFrequency) }
        self.vocabularySize = vocabularySize
        self.minimumFrequency = minimumFrequency
    }

    /// Counts the words of `text`, a line at a time (each keeps its newline, `\n` or `\r\n`), as tokenizers'
    /// trainer reads files.
    public mutating func add(text: String) {
        var lineStart = text.startIndex
        while lineStart < text.endIndex {
            // "\r\n" is one Character, so it is looked for as well as "\n".
            let lineEnd = text[lineStart...].firstIndex { $0 == "\n" || $0 == "\r\n" }.map { text.index(after: $0) } ?? text.endIndex
            for word in preTokenizer.apply([text[lineStart..<lineEnd]]) { words[Array(word.utf8), default: 0] += 1 }
            lineStart = lineEnd
        }
    }

    /// The tokenizer the counted words give.
    public func train() -> TrainedTokenizer {
        let format = DeepSeekTokenizerFormat.self
        let merges = BPETrainer(merges: vocabularySize - Self.minimumVocabularySize, minimumFrequency: minimumFrequency)
            .train(words: words)
        // Symbol s (a byte, or 256 + a merge's index) as its byte-mapped string.
        var symbols = ByteLevel.scalarForByte.map { String($0) }
        var mergeStrings: [(String, String)] = []
        for merge in merges {
            let pair = (symbols[Int(merge.left)], symbols[Int(merge.right)])
            mergeStrings.append(pair)
            symbols.append(pair.0 + pair.1)
        }
        return TrainedTokenizer(tokens: format.specialTokens + symbols + format.addedTokens, merges: mergeStrings)
    }
}

/// A trained tokenizer's vocabulary (in id order) and merges, ready to be written.
public struct TrainedTokenizer: Sendable {
    public let tokens: [String]
    public let merges: [(String, String)]

    /// tokenizer.json's text.
    public var tokenizerJSON: String {
        DeepSeekTokenizerFormat.tokenizerJSON(tokens: tokens, merges: merges).serialized(indent: 2) + "\n"
    }

    /// tokenizer_config.json's text, with `maxLength` as `model_max_length`.
    public func configJSON(maxLength: Int = 16384) -> String {
        DeepSeekTokenizerFormat.configJSON(maxLength: maxLength).serialized(indent: 2) + "\n"
    }

    /// Writes tokenizer.json and tokenizer_config.json into `directory` (created if missing), each
    /// through a temporary file and a rename.
    public func write(to directory: String) throws {
        let folder = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in [("tokenizer.json", tokenizerJSON), ("tokenizer_config.json", configJSON())] {
            try Data(text.utf8).write(to: folder.appendingPathComponent(name), options: .atomic)
        }
    }
}
