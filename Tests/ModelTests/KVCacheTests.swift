import Kernels
import Testing
@testable import Model

/// The latent cache: rows land in the blocks a table names and read back as written (or within INT8's
/// rounding), truncation rewinds, and a capacity the address space cannot hold is an error, not a crash.
@Suite struct KVCacheTests {
    static func rows(_ tokens: Int, width: Int, first: Float) -> [Float] {
        (0..<(tokens * width)).map { first + Float($0) }
    }

    @Test func appendAndTruncate() throws {
        let config = try ModelConfig.load(directory: Fixtures.model("v3-yarn"))
        var cache = try KVCache(config: config, capacity: 10)
        let width = cache.width, layers = config.numHiddenLayers
        for layer in 0..<layers { cache.storage.write(layer: layer, table: cache.table, start: 0, latents: Self.rows(3, width: width, first: Float(layer))) }
        cache.advance(by: 3)
        #expect(cache.count == 3 && cache.bytes == 3 * width * 4 * layers)
        #expect(cache.latents(layer: 1) == Self.rows(3, width: width, first: 1))

        // Rows after the truncation point are written over; those before it stay.
        cache.truncate(to: 1)
        for layer in 0..<layers { cache.storage.write(layer: layer, table: cache.table, start: 1, latents: Self.rows(9, width: width, first: 100)) }
        cache.advance(by: 9)
        #expect(cache.count == 10)
        #expect(cache.latents(layer: 0) == Self.rows(1, width: width, first: 0) + Self.rows(9, width: width, first: 100))
    }

    /// Two sequences in one pool of blocks of 4 positions, their tables interleaved and out of order.
    @Test(arguments: [LatentEncoding.f32, .int8])
    func sequencesKeepTheirRowsInSharedBlocks(encoding: LatentEncoding) throws {
        let config = try ModelConfig.load(directory: Fixtures.model("v3-yarn"))
        var cache = try LatentCache(config: config, blocks: 6, blockSize: 4, encoding: encoding)
        let width = cache.width
        let a = [5, 0, 3], b = [1, 4]
        let rowsA = Self.rows(11, width: width, first: 0).map { $0 / 100 }, rowsB = Self.rows(7, width: width, first: -50).map { $0 / 100 }
        cache.write(layer: 1, table: a, start: 0, latents: Array(rowsA[..<(6 * width)]))
        cache.write(layer: 1, table: b, start: 0, latents: rowsB)
        cache.write(layer: 1, table: a, start: 6, latents: Array(rowsA[(6 * width)...]))
        for (table, rows, count) in [(a, rowsA, 11), (b, rowsB, 7)] {
            let read = cache.latents(layer: 1, table: table, positions: count)
            let worst = zip(read, rows).map { abs($0 - $1) }.max()!
            #expect(encoding == .f32 ? worst == 0 : worst < 0.5 * (rows.map(abs).max()! / 127) + 1e-6, "\(encoding): \(worst)")
        }
        #expect(cache.bytesPerPosition == (encoding == .f32 ? width * 4 : Int8LatentLayout(parts: [config.kvLoraRank, config.qkRopeHeadDim]).rowBytes) * config.numHiddenLayers)
    }

    @Test func unreservableCapacityIsAnError() throws {
        let config = try ModelConfig.load(directory: Fixtures.model("v3-yarn"))
        #expect(throws: ModelError.self) { _ = try KVCache(config: config, capacity: Int.max / 8) }
    }
}
