import Foundation
import Testing

/// The model the repository ships (models/kjv-small) is what commands use without `--model`.
struct BundledModelTests {
    @Test func generateWithoutAModelUsesTheBundledOne() throws {
        let result = try CLI.run(["generate", "--prompt", "And God said", "--max-tokens", "12", "--temperature", "0"])
        #expect(result.status == 0, "\(result.stderr)")
        let words = result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        #expect(words.count >= 5, "\(result.stdout)")
        let info = try CLI.run(["info"])
        #expect(info.status == 0 && info.stdout.contains("8 routed"), "\(info.stderr)")
    }
}
