import Foundation
import Testing

/// `deepseek train` as a user runs it: a run that is killed mid-step with SIGKILL and resumed ends exactly
/// where the uninterrupted run does, and bad input is a one-line error.
struct TrainCommandTests {
    static let text = CLI.fixtures.appendingPathComponent("text/sample.txt").path
    static let config = CLI.model("v3-trained") + "/config.json"

    static func arguments(out: String, steps: Int = 16) -> [String] {
        ["train", "--config", config, "--data", text, "--out", out, "--steps", "\(steps)", "--sequence-length", "32",
         "--batch-sequences", "4", "--lr", "3e-3", "--save-every", "4", "--eval-every", "8", "--seed", "3"]
    }

    /// The last metrics row without the throughput column (timing differs between runs).
    static func lastRow(_ out: String) throws -> String {
        let csv = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8)
        var fields = csv.split(separator: "\n").last!.split(separator: ",", omittingEmptySubsequences: false)
        fields.remove(at: 6)
        return fields.joined(separator: ",")
    }

    @Test func aRunKilledMidStepResumesToTheSameResult() throws {
        let straight = CLI.temporaryPath("train"), killed = CLI.temporaryPath("train")
        defer { for path in [straight, killed] { try? FileManager.default.removeItem(atPath: path) } }
        let uninterrupted = try CLI.run(Self.arguments(out: straight))
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderr)")

        // Kill as soon as the step-8 checkpoint is in place: the run is then inside step 9 or 10.
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = Self.arguments(out: killed)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: killed + "/checkpoint-000008") && process.isRunning && Date() < deadline {
            usleep(2_000)
        }
        #expect(process.isRunning, "the run finished before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(!FileManager.default.fileExists(atPath: killed + "/model.safetensors"))

        let resumed = try CLI.run(Self.arguments(out: killed) + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resumed from"))
        #expect(try Self.lastRow(killed) == Self.lastRow(straight))
        let a = FileManager.default.contents(atPath: straight + "/model.safetensors")
        let b = FileManager.default.contents(atPath: killed + "/model.safetensors")
        #expect(a != nil && a == b)
        // The output is a model the other commands load.
        let generated = try CLI.run(["generate", "--model", killed, "--prompt", "The", "--max-tokens", "4"])
        #expect(generated.status == 0, "\(generated.stderr)")
    }

    @Test(arguments: [
        (["--data", "/nonexistent.txt"], "cannot read training data"),
        (["--steps", "0"], "--steps"),
        (["--batch-tokens", "33"], "--batch-tokens"),
        (["--resume"], "no checkpoint"),
        (["--save-dtype", "q4"], "--save-dtype"),
        (["--precision", "fp8"], "--precision"),
    ])
    func badInputIsAOneLineError(change: [String], message: String) throws {
        let out = CLI.temporaryPath("train")
        defer { try? FileManager.default.removeItem(atPath: out) }
        var arguments = Self.arguments(out: out, steps: 2)
        var i = 0
        while i < change.count {
            if let at = arguments.firstIndex(of: change[i]), i + 1 < change.count, !change[i + 1].hasPrefix("--") {
                arguments[at + 1] = change[i + 1]
                i += 2
            } else if i + 1 < change.count, !change[i + 1].hasPrefix("--") {
                arguments += [change[i], change[i + 1]]
                i += 2
            } else {
                arguments.append(change[i])
                i += 1
            }
        }
        let result = try CLI.run(arguments)
        #expect(result.status != 0 && result.exitedNormally)
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func aBadJSONLineIsNamed() throws {
        let out = CLI.temporaryPath("train"), data = CLI.temporaryPath("data") + ".jsonl"
        defer { for path in [out, data] { try? FileManager.default.removeItem(atPath: path) } }
        try "{\"text\": \"hello there\"}\nnot json\n".write(toFile: data, atomically: true, encoding: .utf8)
        var arguments = Self.arguments(out: out, steps: 2)
        arguments[arguments.firstIndex(of: "--data")! + 1] = data
        let result = try CLI.run(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains("line 2"), "\(result.stderr)")
    }
}
