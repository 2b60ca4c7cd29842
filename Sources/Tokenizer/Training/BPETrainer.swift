/// Learns byte-level BPE merges from word counts: every word starts as its UTF-8 bytes, and the
/// most frequent adjacent pair over the whole corpus is merged into a new symbol, repeatedly
/// (Sennrich et al. 2016; GPT-2's byte-level form).
///
/// Counts are kept incrementally: merging a pair rewrites only the words that contain it, and a
/// max-heap of pairs is corrected lazily (a popped entry whose count has changed goes back in).
/// Ties go to the pair whose symbols were made first, so a corpus always gives the same merges.
public struct BPETrainer: Sendable {
    /// Merges to learn at most.
    public let merges: Int
    /// Pairs seen fewer times than this are never merged.
    public let minimumFrequency: Int

    public init(merges: Int, minimumFrequency: Int = 2) {
        precondition(merges >= 0 && minimumFrequency >= 1, "merges \(merges), minimumFrequency \(minimumFrequency)")
        self.merges = merges
        self.minimumFrequency = minimumFrequency
    }

    /// A learnt merge: symbols are byte values (0..<256) or 256 + the index of an earlier merge.
    public struct Merge: Equatable, Sendable {
        public let left: Int32
        public let right: Int32
    }

    /// The merges learnt from `words` (a word's UTF-8 bytes and how often it occurs), in order.
    public func train(words: [[UInt8]: Int]) -> [Merge] {
        // Sorted so that symbol ids, and therefore ties, do not depend on dictionary order.
        let entries = words.filter { $0.key.count > 1 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var symbols = entries.map { $0.key.map(Int32.init) }
        let counts = entries.map(\.value)
        var pairCounts: [Pair: Int] = [:]
        var containing: [Pair: [Int32]] = [:]
        for (w, word) in symbols.enumerated() {
            for i in 0..<(word.count - 1) {
                let pair = Pair(left: word[i], right: word[i + 1])
                pairCounts[pair, default: 0] += counts[w]
                if containing[pair]?.last != Int32(w) { containing[pair, default: []].append(Int32(w)) }
            }
        }
        var heap = PairHeap()
        for (pair, count) in pairCounts { heap.push(.init(count: count, pair: pair)) }

        var learnt: [Merge] = []
        while learnt.count < merges, let top = heap.pop() {
            let current = pairCounts[top.pair] ?? 0
            if current != top.count {
                if current > 0 { heap.push(.init(count: current, pair: top.pair)) }
                continue
            }
            if current < minimumFrequency { break }
            let merged = Int32(256 + learnt.count)
            learnt.append(Merge(left: top.pair.left, right: top.pair.right))
            var grown: Set<Pair> = []
            for w in containing[top.pair] ?? [] {
                let before = symbols[Int(w)]
                let after = Self.apply(top.pair, as: merged, to: before)
                guard after.count != before.count else { continue }
                symbols[Int(w)] = after
                let count = counts[Int(w)]
                for i in 0..<(before.count - 1) { pairCounts[Pair(left: before[i], right: before[i + 1])]! -= count }
                for i in 0..<(after.count - 1) {
                    let pair = Pair(left: after[i], right: after[i + 1])
                    pairCounts[pair, default: 0] += count
                    if after[i] == merged || after[i + 1] == merged {
                        grown.insert(pair)
                        if containing[pair]?.last != w { containing[pair, default: []].append(w) }
                    }
                }
            }
            pairCounts[top.pair] = nil
            containing[top.pair] = nil
            for pair in grown { if let count = pairCounts[pair], count > 0 { heap.push(.init(count: count, pair: pair)) } }
        }
        return learnt
    }

    /// `word` with every non-overlapping occurrence of `pair`, left to right, replaced by `symbol`.
    static func apply(_ pair: Pair, as symbol: Int32, to word: [Int32]) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(word.count)
        var i = 0
        while i < word.count {
            if i + 1 < word.count, word[i] == pair.left, word[i + 1] == pair.right {
                out.append(symbol)
                i += 2
            } else {
                out.append(word[i])
                i += 1
            }
        }
        return out
    }

    struct Pair: Hashable {
        let left: Int32
        let right: Int32
    }

    /// A binary max-heap of pair counts; among equal counts the pair with the smaller symbols wins.
    struct PairHeap {
        struct Entry {
            let count: Int
            let pair: Pair

            func outranks(_ other: Entry) -> Bool {
                if count != other.count { return count > other.count }
                if pair.left != other.pair.left { return pair.left < other.pair.left }
                return pair.right < other.pair.right
            }
        }

        private var items: [Entry] = []

        mutating func push(_ entry: Entry) {
            items.append(entry)
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard items[i].outranks(items[parent]) else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }

        mutating func pop() -> Entry? {
            guard let first = items.first else { return nil }
            let last = items.removeLast()
            guard !items.isEmpty else { return first }
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count, items[l].outranks(items[best]) { best = l }
                if r < items.count, items[r].outranks(items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
            return first
        }
    }
}
