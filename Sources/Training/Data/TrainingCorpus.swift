import Foundation
import JSON
import Tokenizer

/// Reads training text: plain text files (each one document) and JSON Lines files (`.jsonl`, one document
/// per line in its `"text"` field), tokenised with the model's tokenizer — its BOS token first when it adds
/// one — and each document ended with the EOS token so documents never run together unmarked.
public enum TrainingCorpus {
    /// The documents of `files`, tokenised.
    public static func documents(files: [String], tokenizer: Tokenizer) throws -> [[Int]] {
        guard !files.isEmpty else { throw TrainingError.invalidOption(name: "--data", detail: "give at least one file") }
        var documents: [[Int]] = []
        for path in files {
            for text in try texts(path) {
                var ids = tokenizer.encode(text, addSpecialTokens: true)
                if let eos = tokenizer.eosID { ids.append(eos) }
                documents.append(ids)
            }
        }
        return documents
    }

    /// The texts in one file.
    public static func texts(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.unreadableData(path: path, detail: "no such file")
        }
        guard let content = String(data: data, encoding: .utf8) else {
            throw TrainingError.unreadableData(path: path, detail: "not UTF-8 text")
        }
        guard path.hasSuffix(".jsonl") else { return [content] }
        var texts: [String] = []
        for (number, line) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let object = try? JSONValue.parse(Data(line.utf8)), let text = object["text"]?.stringValue else {
                throw TrainingError.unreadableData(path: path, detail: "line \(number + 1) is not a JSON object with a \"text\" string")
            }
            texts.append(text)
        }
        return texts
    }
}
