import Testing
@testable import Engine

/// Block accounting of the paged KV cache: allocation, release, prefix registration and LRU reuse.
struct KVBlockPoolTests {
    @Test func allocatesEveryBlockOnceThenNothing() {
        var pool = KVBlockPool(blocks: 3, blockSize: 4)
        let taken = (0..<3).compactMap { _ in pool.allocate() }
        #expect(Set(taken).count == 3 && pool.available == 0 && pool.used == 3)
        #expect(pool.allocate() == nil)
        pool.release(taken[1])
        #expect(pool.allocate() == taken[1])
        taken.forEach { pool.release($0) }
        #expect(pool.available == 3)
    }

    @Test func registeredBlocksServeALaterPromptWithTheSamePrefix() {
        var pool = KVBlockPool(blocks: 4, blockSize: 2)
        let tokens = [5, 6, 7, 8, 9]
        let a = pool.allocate()!, b = pool.allocate()!
        pool.register(a, tokens: tokens[0..<2], after: nil)
        pool.register(b, tokens: tokens[2..<4], after: a)
        pool.release(a); pool.release(b)
        #expect(pool.available == 4 && pool.cached == 2)
        // The same first four tokens: both blocks; a different second block: only the first.
        #expect(pool.takeCachedPrefix(of: tokens, limit: 2) == [a, b])
        #expect(pool.takeCachedPrefix(of: [5, 6, 0, 8, 9], limit: 2) == [a])
        // The same tokens after a different first block do not match.
        #expect(pool.takeCachedPrefix(of: [7, 8, 5, 6], limit: 2) == [])
        #expect(pool.prefixHits == 3 && pool.prefixQueries == 5)
        #expect(pool.used == 2)
        [a, b, a].forEach { pool.release($0) }
        #expect(pool.available == 4)
    }

    @Test func theLeastRecentlyReleasedCachedBlockIsReusedFirst() {
        var pool = KVBlockPool(blocks: 2, blockSize: 1)
        let a = pool.allocate()!, b = pool.allocate()!
        pool.register(a, tokens: [1], after: nil)
        pool.register(b, tokens: [2], after: nil)
        pool.release(b)
        pool.release(a)
        // b was released first, so it goes first and forgets its content; a is still found.
        #expect(pool.allocate() == b)
        #expect(!pool.isRegistered(b) && pool.isRegistered(a))
        #expect(pool.takeCachedPrefix(of: [2, 0], limit: 1) == [])
        #expect(pool.takeCachedPrefix(of: [1, 0], limit: 1) == [a])
    }

    @Test func aBlockAfterAnUnregisteredOneIsNotRegistered() {
        var pool = KVBlockPool(blocks: 2, blockSize: 1)
        let a = pool.allocate()!, b = pool.allocate()!
        pool.register(b, tokens: [2], after: a)
        #expect(!pool.isRegistered(b))
    }
}
