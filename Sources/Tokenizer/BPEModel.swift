import Foundation
import Synchronization

/// Byte-pair encoding: a word (already byte-mapped) is split into scalars and the adjacent pair
/// with the lowest merge rank is joined, leftmost first, until no listed merge applies.
final class BPEModel: Sendable {
    let vocabulary: [String: Int]
    let tokens: [Int: String]
    private let ranks: [Pair: Int]
    let ignoreMerges: Bool
    private let cache = Mutex<[String: [Int]]>([:])
    static let cacheLimit = 50_000

    struct Pair: Hashable, Sendable {
        let left: String
        let right: String
    }

    init(vocabulary: [String: Int], merges: [(String, String)], ignoreMerges: Bool) {
        self.vocabulary = vocabulary
        var tokens: [Int: String] = [:]
        for (token, id) in vocabulary { tokens[id] = token }
        self.tokens = tokens
        var ranks: [Pair: Int] = [:]
        for (rank, merge) in merges.enumerated() where ranks[Pair(left: merge.0, right: merge.1)] == nil {
            ranks[Pair(left: merge.0, right: merge.1)] = rank
        }
        self.ranks = ranks
        self.ignoreMerges = ignoreMerges
    }

    /// Token ids of one pre-tokenized, byte-mapped word. Symbols missing from the vocabulary are dropped,
    /// as tokenizers does for a BPE without an unknown token.
    func encode(word: String) -> [Int] {
        if let cached = cache.withLock({ $0[word] }) { return cached }
        var ids: [Int]
        if ignoreMerges, let id = vocabulary[word] {
            ids = [id]
        } else {
            ids = merge(word).compactMap { vocabulary[$0] }
        }
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[word] = ids
        }
        return ids
    }

    private func merge(_ word: String) -> [String] {
        var symbols = word.unicodeScalars.map { String($0) }
        while symbols.count > 1 {
            var best: (rank: Int, index: Int)?
            for i in 0..<(symbols.count - 1) {
                if let rank = ranks[Pair(left: symbols[i], right: symbols[i + 1])], rank < (best?.rank ?? .max) {
                    best = (rank, i)
                }
            }
            guard let (_, i) = best else { break }
            symbols[i] += symbols[i + 1]
            symbols.remove(at: i + 1)
        }
        return symbols
    }
}
