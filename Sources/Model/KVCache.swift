import Foundation

/// The attention cache of one sequence: for every layer and every past position, the
/// compressed MLA latent — `kv_lora_rank` normalised values of `c_KV` followed by the
/// `qk_rope_head_dim` rotated values of the shared key `k_rope`. Never the expanded per-head K/V.
///
/// Each layer's rows live in address space reserved for the whole capacity at creation
/// (`LatentRows`): memory is taken only as rows are written and rows never move, so a growing
/// cache is never copied and resident memory is what the filled positions hold.
public struct KVCache: Sendable {
    /// Values per position per layer (`kv_lora_rank + qk_rope_head_dim`).
    public let width: Int
    /// Positions the cache may hold.
    public let capacity: Int
    private var layers: [LatentRows]
    /// Positions each layer has written (ahead of `count` while a step runs through the layers).
    private var written: [Int]
    /// Positions filled so far.
    public private(set) var count: Int = 0

    /// - Throws: `ModelError.cacheReservation` when the address space for `capacity` positions is not there.
    public init(config: ModelConfig, capacity: Int? = nil) throws {
        let width = config.latentCacheWidth, capacity = capacity ?? config.maxPositionEmbeddings
        self.width = width
        self.capacity = capacity
        let (values, overflow) = capacity.multipliedReportingOverflow(by: width)
        layers = try (0..<config.numHiddenLayers).map { _ in
            guard !overflow, let rows = LatentRows(values: values) else {
                throw ModelError.cacheReservation(positions: capacity, bytes: Double(capacity) * Double(width * 4 * config.numHiddenLayers))
            }
            return rows
        }
        written = Array(repeating: 0, count: config.numHiddenLayers)
    }

    /// Bytes the cache holds now (F32 values).
    public var bytes: Int { written.reduce(0) { $0 + $1 * width * 4 } }

    /// Layer `layer`'s written rows `[positions, width]`, valid until the cache next changes.
    func rows(layer: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: layers[layer].base, count: written[layer] * width)
    }

    /// Layer `layer`'s filled rows as an array (tests and tools).
    public func latents(layer: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: layers[layer].base, count: count * width))
    }

    /// Appends `tokens` latent rows `[tokens, width]` for `layer`.
    mutating func append(layer: Int, latents: [Float]) {
        precondition(latents.count % width == 0, "latent rows of \(latents.count) values, not a multiple of \(width)")
        let tokens = latents.count / width
        precondition(written[layer] + tokens <= capacity, "KV cache of \(capacity) positions overflows")
        if !isKnownUniquelyReferenced(&layers[layer]) {
            layers[layer] = layers[layer].copy(values: written[layer] * width)
        }
        latents.withUnsafeBufferPointer { (layers[layer].base + written[layer] * width).update(from: $0.baseAddress!, count: $0.count) }
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

/// Address space for `values` Floats reserved with `mmap` and handed back when released; pages are
/// taken from the system only when first written.
final class LatentRows: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    private let bytes: Int

    /// Nil when the system refuses the reservation.
    init?(values: Int) {
        let (size, overflow) = max(values, 1).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow else { return nil }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, address != MAP_FAILED else { return nil }
        bytes = size
        base = address.bindMemory(to: Float.self, capacity: size / MemoryLayout<Float>.stride)
    }

    /// A reservation of the same size holding the first `values` Floats of this one (the cache was
    /// copied and one copy is written); this one's size was granted, so the system normally grants it again.
    func copy(values: Int) -> LatentRows {
        guard let other = LatentRows(values: bytes / MemoryLayout<Float>.stride) else {
            fatalError("could not reserve \(bytes) bytes again for a copied KV cache")
        }
        other.base.update(from: base, count: values)
        return other
    }

    deinit { munmap(base, bytes) }
}
