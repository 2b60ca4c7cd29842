/// Accounting of the paged latent KV cache: which fixed-size blocks are free, which sequences hold
/// which, and which full blocks keep a prompt prefix that a later request may reuse.
///
/// A block holds `blockSize` positions of every layer's latent rows; the rows themselves live in the
/// cache storage, indexed by block id. This type only decides ids, so the scheduler that uses it stays
/// pure and testable without a model.
///
/// Prefix caching: a full block whose positions were computed is registered under its content, the
/// tokens it holds and the block before it (`BlockKey`), so a request whose prompt starts with the same
/// tokens takes the same blocks instead of computing them again. A registered block that no sequence
/// holds stays cached until a free block is needed; then the least recently used one is taken.
public struct KVBlockPool: Sendable {
    /// Positions per block.
    public let blockSize: Int
    public let totalBlocks: Int
    /// Blocks holding nothing, taken from the end.
    private var free: [Int]
    /// Sequences holding each block.
    private var holders: [Int]
    /// The content each registered block holds, and the block registered for each content.
    private var keyOfBlock: [Int: BlockKey] = [:]
    private var blockOfKey: [BlockKey: Int] = [:]
    /// Registered blocks no sequence holds, least recently released first.
    private var unused: LRUList
    /// Identity of each registered block's content, never reused, so a key can name its parent exactly.
    private var contentID: [Int: UInt64] = [:]
    private var nextContentID: UInt64 = 1

    /// Lookups of prompt blocks, and those answered from the cache.
    public private(set) var prefixQueries = 0
    public private(set) var prefixHits = 0

    public init(blocks: Int, blockSize: Int) {
        precondition(blocks > 0 && blockSize > 0, "a KV block pool needs blocks and positions, got \(blocks) × \(blockSize)")
        self.blockSize = blockSize
        totalBlocks = blocks
        free = Array((0..<blocks).reversed())
        holders = Array(repeating: 0, count: blocks)
        unused = LRUList(capacity: blocks)
    }

    /// Blocks that can be handed out now: free ones and cached ones nobody holds.
    public var available: Int { free.count + unused.count }
    /// Blocks some sequence holds.
    public var used: Int { totalBlocks - available }
    /// Blocks holding a reusable prefix (held or not).
    public var cached: Int { keyOfBlock.count }

    /// Blocks needed for `positions` positions.
    public func blocks(for positions: Int) -> Int { (positions + blockSize - 1) / blockSize }

    /// A block for a sequence to write into: a free one, else the least recently used cached one
    /// (forgetting its content); nil when every block is held.
    public mutating func allocate() -> Int? {
        let block: Int
        if let next = free.popLast() {
            block = next
        } else if let oldest = unused.popFirst() {
            forget(oldest)
            block = oldest
        } else {
            return nil
        }
        holders[block] = 1
        return block
    }

    /// A sequence lets go of `block`; a registered block stays cached, any other becomes free.
    public mutating func release(_ block: Int) {
        precondition(holders[block] > 0, "block \(block) released more often than it was taken")
        holders[block] -= 1
        guard holders[block] == 0 else { return }
        if keyOfBlock[block] != nil { unused.append(block) } else { free.append(block) }
    }

    /// The cached blocks holding the longest whole-block prefix of `tokens`, each taken for the caller.
    /// At most `limit` blocks are returned (a sequence must compute at least its last token itself).
    public mutating func takeCachedPrefix(of tokens: [Int], limit: Int) -> [Int] {
        var taken: [Int] = []
        var parent: UInt64 = 0
        while taken.count < limit, (taken.count + 1) * blockSize <= tokens.count {
            let start = taken.count * blockSize
            let key = BlockKey(parent: parent, tokens: Array(tokens[start..<(start + blockSize)]))
            prefixQueries += 1
            guard let block = blockOfKey[key] else { break }
            prefixHits += 1
            if holders[block] == 0 { unused.remove(block) }
            holders[block] += 1
            taken.append(block)
            parent = contentID[block]!
        }
        return taken
    }

    /// Records that `block`, following `previous` (nil for a sequence's first block), now holds the
    /// computed positions of `tokens` (exactly `blockSize` of them), so later prompts may reuse it. A block
    /// already registered under the same content elsewhere leaves this one unregistered.
    public mutating func register(_ block: Int, tokens: ArraySlice<Int>, after previous: Int?) {
        precondition(tokens.count == blockSize, "a block is registered full: \(tokens.count) of \(blockSize) tokens")
        guard keyOfBlock[block] == nil else { return }
        let parent = previous.map { contentID[$0] } ?? 0
        guard let parent else { return }  // the previous block holds no registered content
        let key = BlockKey(parent: parent, tokens: Array(tokens))
        guard blockOfKey[key] == nil else { return }
        keyOfBlock[block] = key
        blockOfKey[key] = block
        contentID[block] = nextContentID
        nextContentID += 1
    }

    /// Whether `block` holds registered content (for tests and metrics).
    public func isRegistered(_ block: Int) -> Bool { keyOfBlock[block] != nil }

    private mutating func forget(_ block: Int) {
        if let key = keyOfBlock.removeValue(forKey: block) { blockOfKey[key] = nil }
        contentID[block] = nil
    }
}

/// What a full block holds: its tokens, after the content `parent` (0 at the start of a sequence).
struct BlockKey: Hashable, Sendable {
    let parent: UInt64
    let tokens: [Int]
}

/// A least-recently-used order over block ids, as a doubly linked list in arrays: O(1) to append, remove
/// or take the oldest.
struct LRUList: Sendable {
    private var previous: [Int]
    private var next: [Int]
    private var present: [Bool]
    private var head = -1, tail = -1
    private(set) var count = 0

    init(capacity: Int) {
        previous = Array(repeating: -1, count: capacity)
        next = Array(repeating: -1, count: capacity)
        present = Array(repeating: false, count: capacity)
    }

    mutating func append(_ id: Int) {
        precondition(!present[id], "block \(id) is already in the list")
        present[id] = true
        previous[id] = tail
        next[id] = -1
        if tail >= 0 { next[tail] = id } else { head = id }
        tail = id
        count += 1
    }

    mutating func remove(_ id: Int) {
        precondition(present[id], "block \(id) is not in the list")
        present[id] = false
        if previous[id] >= 0 { next[previous[id]] = next[id] } else { head = next[id] }
        if next[id] >= 0 { previous[next[id]] = previous[id] } else { tail = previous[id] }
        count -= 1
    }

    mutating func popFirst() -> Int? {
        guard head >= 0 else { return nil }
        let id = head
        remove(id)
        return id
    }
}
