import Kernels

/// The attention cache of one sequence: a `LatentCache` of its own whose blocks are its positions in order.
///
/// It serves callers that run one sequence at a time (`Transformer.forward(tokens:cache:)`: perplexity,
/// benchmarks, tools); the serving engine shares one `LatentCache` among many sequences instead. The
/// address space for the whole capacity is reserved at creation and memory is taken as rows are written,
/// so resident memory is what the filled positions hold.
public struct KVCache: ~Copyable, Sendable {
    public var storage: LatentCache
    /// Positions the cache may hold.
    public let capacity: Int
    /// The block table: block `i` holds positions `i·blockSize ..< (i+1)·blockSize`.
    let table: [Int]
    /// Positions filled so far.
    public private(set) var count: Int = 0

    /// - Throws: `ModelError.cacheReservation` when the address space for `capacity` positions is not there.
    public init(config: ModelConfig, capacity: Int? = nil, encoding: LatentEncoding = .f32) throws {
        let capacity = capacity ?? config.maxPositionEmbeddings
        let blockSize = LatentCache.defaultBlockSize
        let (padded, overflow) = capacity.addingReportingOverflow(blockSize - 1)
        guard !overflow, capacity > 0 else {
            throw ModelError.cacheReservation(positions: capacity, bytes: Double(capacity) * Double(config.latentCacheWidth * 4 * config.numHiddenLayers))
        }
        storage = try LatentCache(config: config, blocks: padded / blockSize, blockSize: blockSize, encoding: encoding)
        self.capacity = capacity
        table = Array(0..<storage.blocks)
    }

    /// Values per position per layer.
    public var width: Int { storage.width }
    /// Bytes the filled positions hold.
    public var bytes: Int { count * storage.bytesPerPosition }

    /// Layer `layer`'s filled rows as an array (tests and tools).
    public func latents(layer: Int) -> [Float] {
        storage.latents(layer: layer, table: table, positions: count)
    }

    /// Marks `tokens` more positions as filled.
    mutating func advance(by tokens: Int) {
        precondition(count + tokens <= capacity, "KV cache of \(capacity) positions overflows")
        count += tokens
    }

    /// Drops every position at and after `position` (for re-running a suffix).
    public mutating func truncate(to position: Int) {
        precondition(position >= 0 && position <= count, "cannot truncate a cache of \(count) to \(position)")
        count = position
    }
}
