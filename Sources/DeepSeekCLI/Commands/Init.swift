import ArgumentParser
import Foundation
import Model

/// `deepseek init`: a random-weight checkpoint of any config, for benchmarks and tests.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a checkpoint of random weights for a config.")

    @Option(help: "A config.json (for example ../shared/bench/dsv3-bench.json).") var config: String
    @Option(help: "Folder to write config.json and model.safetensors into.") var out: String
    @Option(help: "Weight format: f32, f16, bf16, fp8 (E4M3, 128×128 block scales), q8, q4 or q4a (see the README).") var dtype: String = "bf16"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard StorageFormat(rawValue: dtype) != nil else {
            throw ValidationError("--dtype must be one of \(StorageFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(dtype)'")
        }
    }

    func run() throws {
        runtime.apply()
        guard let data = FileManager.default.contents(atPath: config) else { throw ValidationError("\(config): no such file") }
        let start = Date()
        try RandomCheckpoint.write(configJSON: data, to: out, format: StorageFormat(rawValue: dtype)!, seed: seed)
        Output.status(String(format: "wrote %@ in %.1f s", out, Date().timeIntervalSince(start)))
    }
}
