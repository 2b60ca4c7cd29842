import Foundation

/// Runs the built `deepseek` executable and captures what it prints.
enum CLI {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func model(_ name: String = "v3-yarn") -> String { fixtures.appendingPathComponent("models/\(name)").path }

    /// The executable beside the test bundle (SwiftPM builds it because this target depends on it).
    static let executable: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !directory.path.hasSuffix("/debug") && !directory.path.hasSuffix("/release") && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("deepseek")
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        /// Ended with an exit status rather than a signal (a trap is a signal).
        let exitedNormally: Bool
    }

    static func run(_ arguments: [String], stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self),
                      exitedNormally: process.terminationReason == .exit)
    }

    /// A fresh path in the temporary directory (not created); callers remove what they make there.
    static func temporaryPath(_ prefix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    }

    /// A writable copy of a fixture checkpoint; callers remove it.
    static func copyOfModel(_ name: String = "v3-yarn") throws -> URL {
        let target = URL(fileURLWithPath: temporaryPath("cli"))
        try FileManager.default.copyItem(at: URL(fileURLWithPath: model(name)), to: target)
        return target
    }
}
