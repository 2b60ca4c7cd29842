import Testing
@testable import Model

/// The latent cache: rows stay where they were written, truncation rewinds, and a capacity the address
/// space cannot hold is an error rather than a crash.
@Suite struct KVCacheTests {
    static func rows(_ tokens: Int, width: Int, first: Float) -> [Float] {
        (0..<(tokens * width)).map { first + Float($0) }
    }

    @Test func appendAndTruncate() throws {
        let config = try ModelConfig.load(directory: Fixtures.model("v3-yarn"))
        var cache = try KVCache(config: config, capacity: 10)
        let width = cache.width, layers = config.numHiddenLayers
        for layer in 0..<layers { cache.append(layer: layer, latents: Self.rows(3, width: width, first: Float(layer))) }
        cache.advance(by: 3)
        #expect(cache.count == 3 && cache.bytes == 3 * width * 4 * layers)
        #expect(cache.latents(layer: 1) == Self.rows(3, width: width, first: 1))
        #expect(cache.rows(layer: 1).count == 3 * width)

        // Rows after the truncation point are written over; those before it stay.
        cache.truncate(to: 1)
        for layer in 0..<layers { cache.append(layer: layer, latents: Self.rows(9, width: width, first: 100)) }
        cache.advance(by: 9)
        #expect(cache.count == 10)
        #expect(cache.latents(layer: 0) == Self.rows(1, width: width, first: 0) + Self.rows(9, width: width, first: 100))
    }

    @Test func unreservableCapacityIsAnError() throws {
        let config = try ModelConfig.load(directory: Fixtures.model("v3-yarn"))
        #expect(throws: ModelError.self) { _ = try KVCache(config: config, capacity: Int.max / 8) }
    }
}
