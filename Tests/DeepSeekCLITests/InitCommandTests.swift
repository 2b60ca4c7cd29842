import Foundation
import JSON
import Testing

@Suite struct InitCommandTests {
    func temporaryFolder() -> String { CLI.temporaryPath("init") }

    @Test(arguments: ["f32", "f16", "bf16", "fp8", "q8", "q4", "q4a"])
    func writesALoadableCheckpoint(dtype: String) throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let config = URL(fileURLWithPath: CLI.model("v3-fp8-real-heads")).appendingPathComponent("config.json").path
        let made = try CLI.run(["init", "--config", config, "--out", out, "--dtype", dtype, "--seed", "7"])
        #expect(made.status == 0, "\(made.stderr)")
        let info = try CLI.run(["info", "--model", out])
        #expect(info.status == 0)
        let stored = ["fp8": "F8_E4M3", "q8": "I8", "q4": "U8", "q4a": "U8"][dtype] ?? dtype.uppercased()
        #expect(info.stdout.contains(stored), "\(info.stdout)")
        let logits = try CLI.run(["logits", "--model", out, "--ids", "3,4", "--json"])
        #expect(logits.status == 0, "\(logits.stderr)")
        let row = try JSONValue.parse(logits.stdout)["logits"]!.arrayValue![0].arrayValue!
        #expect(row.count == 512 && row.allSatisfy { $0.doubleValue?.isFinite == true })
    }

    @Test func sameSeedSameFileOtherSeedOtherFile() throws {
        let config = URL(fileURLWithPath: CLI.model()).appendingPathComponent("config.json").path
        let (a, b, c) = (temporaryFolder(), temporaryFolder(), temporaryFolder())
        defer { for folder in [a, b, c] { try? FileManager.default.removeItem(atPath: folder) } }
        for (out, seed, threads) in [(a, "1", "1"), (b, "1", "2"), (c, "2", "2")] {
            #expect(try CLI.run(["init", "--config", config, "--out", out, "--seed", seed, "--threads", threads]).status == 0)
        }
        let file = { (folder: String) in try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("model.safetensors")) }
        #expect(try file(a) == file(b))
        #expect(try file(a) != file(c))
    }

    @Test func badArgumentsAreOneLineErrors() throws {
        let config = URL(fileURLWithPath: CLI.model()).appendingPathComponent("config.json").path
        let badType = try CLI.run(["init", "--config", config, "--out", temporaryFolder(), "--dtype", "q3"])
        #expect(badType.status != 0 && badType.stderr.contains("--dtype must be one of"))
        let missing = try CLI.run(["init", "--config", "/no/config.json", "--out", temporaryFolder()])
        #expect(missing.status != 0 && missing.stderr.contains("/no/config.json"))
    }
}
