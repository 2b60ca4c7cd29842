import ArgumentParser
import Foundation
import Model

/// A config.json as the training commands need it: its bytes (written back into their output) and its decoded form.
enum ConfigFile {
    static func read(_ path: String) throws -> (json: Data, config: ModelConfig) {
        guard let json = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): no such file") }
        return (json, try ModelConfig.decode(json, path: path))
    }

    /// The config.json of the checkpoint folder `folder`.
    static func read(folder: String) throws -> (json: Data, config: ModelConfig) {
        try read(URL(fileURLWithPath: folder).appendingPathComponent("config.json").path)
    }
}
