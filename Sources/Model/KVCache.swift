import Foundation

/// The attention cache of one sequence: for every layer and every past position, the
/// compressed MLA latent — `kv_lora_rank` normalised values of `c_KV` followed by the
/// `qk_rope_head_dim` rotated values of the shared key `k_rope`. Never the expanded per-head K/V.
///
/// Each layer's rows live in address space reserved with `mmap` for the whole capacity at creation:
/// memory is taken only as rows are written and rows never move, so a growing cache is never copied
/// and resident memory is what the filled positions hold. The cache owns that memory, so it cannot be
/// copied (`~Copyable`); it is returned when the cache goes away. Being the only owner of that memory,
/// it may move between threads (`Sendable`).
public struct KVCache: ~Copyable, @unchecked Sendable {
    /// Values per position per layer (`kv_lora_rank + qk_rope_head_dim`).
    public let width: Int
    /// Positions the cache may hold.
    public let capacity: Int
    /// One reservation of `capacity × width` Floats per layer.
    private let layers: [UnsafeMutablePointer<Float>]
    private let reservedBytes: Int
    /// Positions each layer has written (ahead of `count` while a step runs through the layers).
    private var written: [Int]
    /// Positions filled so far.
    public private(set) var count: Int = 0

    /// - Throws: `ModelError.cacheReservation` when the address space for `capacity` positions is not there.
    public init(config: ModelConfig, capacity: Int? = nil) throws {
        let width = config.latentCacheWidth, capacity = capacity ?? config.maxPositionEmbeddings
        let (values, overflow) = capacity.multipliedReportingOverflow(by: width)
        let (bytes, overflowBytes) = max(values, 1).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        var layers: [UnsafeMutablePointer<Float>] = []
        for _ in 0..<config.numHiddenLayers {
            let address = overflow || overflowBytes ? nil
                : mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            guard let address, address != MAP_FAILED else {
                for layer in layers { munmap(layer, bytes) }
                throw ModelError.cacheReservation(positions: capacity, bytes: Double(capacity) * Double(width * 4 * config.numHiddenLayers))
            }
            layers.append(address.bindMemory(to: Float.self, capacity: bytes / MemoryLayout<Float>.stride))
        }
        self.width = width
        self.capacity = capacity
        self.layers = layers
        reservedBytes = bytes
        written = Array(repeating: 0, count: config.numHiddenLayers)
    }

    deinit {
        for layer in layers { munmap(layer, reservedBytes) }
    }

    /// Bytes the cache holds now (F32 values).
    public var bytes: Int { written.reduce(0) { $0 + $1 * width * 4 } }

    /// Layer `layer`'s written rows `[positions, width]`, valid until the cache next changes.
    func rows(layer: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: layers[layer], count: written[layer] * width)
    }

    /// Layer `layer`'s filled rows as an array (tests and tools).
    public func latents(layer: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: layers[layer], count: count * width))
    }

    /// Appends `tokens` latent rows `[tokens, width]` for `layer`.
    mutating func append(layer: Int, latents: [Float]) {
        precondition(latents.count % width == 0, "latent rows of \(latents.count) values, not a multiple of \(width)")
        let tokens = latents.count / width
        precondition(written[layer] + tokens <= capacity, "KV cache of \(capacity) positions overflows")
        latents.withUnsafeBufferPointer { (layers[layer] + written[layer] * width).update(from: $0.baseAddress!, count: $0.count) }
        written[layer] += tokens
    }

    /// Marks `tokens` positions as filled once every layer has appended them.
    mutating func advance(by tokens: Int) {
        count += tokens
        precondition(written.allSatisfy { $0 == count }, "KV cache layers out of step at \(count) positions")
    }

    /// Drops every position at and after `position` (for re-running a suffix).
    public mutating func truncate(to position: Int) {
        precondition(position >= 0 && position <= count, "cannot truncate a cache of \(count) to \(position)")
        for l in written.indices { written[l] = position }
        count = position
    }
}
