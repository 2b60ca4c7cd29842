import Foundation
import JSON
import Testing

@Suite struct BenchCommandTests {
    @Test func benchReportsEveryMeasurementAsJSON() throws {
        let result = try CLI.run(["bench", "--model", CLI.model("v3-fp8-real-heads"), "--prompt-tokens", "8", "--gen-tokens", "4",
                                  "--depth", "16", "--repetitions", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(result.stdout)
        #expect((json["read_bandwidth_bytes_per_second"]?.doubleValue ?? 0) > 1e8)
        #expect((json["multiply_add_peak_flops"]?.doubleValue ?? 0) > 1e8)
        #expect((json["prefill"]?["tokens_per_second"]?["median"]?.doubleValue ?? 0) > 0)
        let decode = try #require(json["decode"]?.arrayValue)
        #expect(decode.map { $0["depth"]?.intValue } == [0, 16])
        for d in decode {
            #expect((d["tokens_per_second"]?["median"]?.doubleValue ?? 0) > 0)
            #expect((d["weight_bytes_per_token"]?.intValue ?? 0) > 0)
            let fraction = d["fraction_of_roofline"]?.doubleValue ?? -1
            #expect(fraction > 0 && fraction.isFinite)
        }
        #expect(decode[1]["cache_bytes_per_token"]!.intValue! > decode[0]["cache_bytes_per_token"]!.intValue!)
        #expect((json["peak_resident_bytes"]?.intValue ?? 0) > 0)
    }

    @Test func benchRejectsBadArgumentsAndOverlongRuns() throws {
        let zero = try CLI.run(["bench", "--model", CLI.model(), "--gen-tokens", "0"])
        #expect(zero.status != 0 && zero.stderr.contains("must be positive"))
        let long = try CLI.run(["bench", "--model", CLI.model(), "--depth", "100", "--gen-tokens", "4", "--prompt-tokens", "4"])
        #expect(long.exitedNormally && long.status != 0 && long.stderr.contains("exceed the context of 64"))
    }

    /// A run shorter than the warm-up prompt (8 tokens) warms up within its own cache.
    @Test func benchRunsShorterThanTheWarmUp() throws {
        let short = try CLI.run(["bench", "--model", CLI.model(), "--prompt-tokens", "2", "--gen-tokens", "1", "--repetitions", "1"])
        #expect(short.status == 0, "\(short.stderr)")
        #expect(short.stdout.contains("decode @0"))
    }
}
