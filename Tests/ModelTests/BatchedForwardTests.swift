import Foundation
import Kernels
import Testing
@testable import Model

/// A batch of sequences sharing one paged cache gets, for every sequence, the same logits bit for bit as
/// that sequence run alone: prompts of 1 to 3 tokens (7 rows through the decoding products) and of 6, 9 and
/// 13 tokens (prompt chunks sharing one blocked pass) start together, then all 7 decode together, their
/// blocks scattered through the pool.
@Suite struct BatchedForwardTests {
    static let prompts = [[5, 9, 2, 7, 1, 3, 8, 6, 4], [11, 3, 12], [2], [7, 7], [13], [4, 8, 15, 16, 23, 42], Array(20..<33)]

    /// Greedy steps of one sequence alone: the logits of its prompt, then of each chosen token.
    func alone(_ model: Transformer, prompt: [Int], steps: Int) throws -> [[Float]] {
        var cache = try model.makeCache(capacity: 64)
        var logits = [try model.forward(tokens: prompt, cache: &cache)]
        for _ in 0..<steps { logits.append(try model.forward(tokens: [argmax(logits.last![...])], cache: &cache)) }
        return logits
    }

    func batched(_ model: Transformer, steps: Int, blockSize: Int) throws -> [[[Float]]] {
        var cache = try LatentCache(config: model.config, blocks: 30, blockSize: blockSize)
        // Blocks handed out interleaved and out of order.
        let tables = [[7, 2, 9, 3], [0, 11, 4, 6], [5, 1, 10, 8], [19, 12, 15, 13], [14, 18, 16, 17], [20, 22, 24, 26, 27], [21, 23, 25, 28, 29]]
        var positions = Self.prompts.map(\.count)
        var logits = try model.forward(zip(Self.prompts, tables).map { BatchSegment(tokens: $0, start: 0, blocks: $1, logits: .last) },
                                       cache: &cache).map { [$0] }
        for _ in 0..<steps {
            let segments = logits.indices.map { s in
                BatchSegment(tokens: [argmax(logits[s].last![...])], start: positions[s], blocks: tables[s], logits: .last)
            }
            for (s, output) in try model.forward(segments, cache: &cache).enumerated() { logits[s].append(output) }
            positions = positions.map { $0 + 1 }
        }
        return logits
    }

    @Test(arguments: ["v3-trained", "v3-fp8-real-heads", "v2-group-limited"], [1, 2])
    func batchedEqualsAlone(fixture: String, threads: Int) throws {
        let saved = ThreadPool.threads
        ThreadPool.threads = threads
        defer { ThreadPool.threads = saved }
        let model = try Transformer(directory: Fixtures.model(fixture))
        let steps = 5
        let together = try batched(model, steps: steps, blockSize: LatentCache.defaultBlockSize)
        for (s, prompt) in Self.prompts.enumerated() {
            let single = try alone(model, prompt: prompt, steps: steps)
            if blockedMatmulIsTokenInvariant {
                #expect(together[s] == single, "\(fixture): sequence \(s)")
            } else {
                // OpenBLAS's sgemm splits its work by shape and thread: prompt tokens agree to rounding only.
                #expect(relativeError(together[s].flatMap { $0 }, single.flatMap { $0 }) < 1e-5, "\(fixture): sequence \(s)")
            }
        }
        // Blocks of 4 positions cut the attention's key blocks elsewhere: the same up to rounding.
        let small = try batched(model, steps: steps, blockSize: 4)
        for s in Self.prompts.indices {
            #expect(relativeError(small[s].flatMap { $0 }, together[s].flatMap { $0 }) < 1e-5, "\(fixture): sequence \(s), blocks of 4")
        }
    }

    @Test func blockTablesThatDoNotCoverTheTokensAreErrors() throws {
        let model = try Transformer(directory: Fixtures.model("v3-trained"))
        var cache = try LatentCache(config: model.config, blocks: 2, blockSize: 4)
        #expect(throws: ModelError.self) {
            _ = try model.forward([BatchSegment(tokens: [1, 2, 3, 4, 5], start: 0, blocks: [0], logits: .last)], cache: &cache)
        }
        #expect(throws: ModelError.self) {
            _ = try model.forward([BatchSegment(tokens: [1], start: 0, blocks: [2], logits: .last)], cache: &cache)
        }
    }
}
