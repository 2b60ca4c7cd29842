import ArgumentParser
import Foundation

/// The small model the repository ships (models/kjv-small, made by scripts/make_default_model.sh),
/// which commands use when no `--model` is given.
enum BundledModel {
    static let relativePath = "models/kjv-small"

    /// The first of: the checkout this binary was built from, the checkout around the binary
    /// (`.build/<configuration>/deepseek`), and the current directory.
    static func folder() throws -> String {
        let source = URL(fileURLWithPath: #filePath)  // <root>/Sources/DeepSeekCLI/Options/BundledModel.swift
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for root in [source, executable, current] {
            let folder = root.appendingPathComponent(relativePath)
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) { return folder.path }
        }
        throw ValidationError("no --model given and the bundled model (\(relativePath) of the checkout) was not found; pass --model DIR")
    }
}
