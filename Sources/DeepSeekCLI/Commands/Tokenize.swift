import ArgumentParser
import Foundation
import JSON

/// `deepseek tokenize`: text to token ids (needs only the tokenizer files).
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Turn text into token ids.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Text to tokenize.") var text: String?
    @Option(help: "File whose contents to tokenize.") var file: String?
    @Flag(name: .customLong("no-special"), help: "Do not add BOS/EOS.") var noSpecial = false
    @Flag(help: "Print {\"ids\": [...]}.") var json = false

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text and --file") }
    }

    func run() throws {
        let tokenizer = try model.loadTokenizer()
        let input: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file): cannot read") }
            input = String(decoding: data, as: UTF8.self)
        } else {
            input = text ?? ""
        }
        let ids = tokenizer.encode(input, addSpecialTokens: !noSpecial)
        if json {
            Output.json(.object(JSONObject([("ids", .ints(ids))])))
        } else {
            Output.print(ids.map(String.init).joined(separator: ","))
        }
    }
}

/// `deepseek detokenize`: token ids to text.
struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Turn token ids into text.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Token ids, e.g. 1,2,3.") var ids: TokenIDList
    @Flag(name: .customLong("skip-special"), help: "Leave out special tokens such as BOS.") var skipSpecial = false
    @Flag(help: "Print {\"text\": \"...\"}.") var json = false

    func run() throws {
        let text = try model.loadTokenizer().decode(ids.ids, skipSpecialTokens: skipSpecial)
        if json {
            Output.json(.object(JSONObject([("text", .string(text))])))
        } else {
            Output.print(text)
        }
    }
}
