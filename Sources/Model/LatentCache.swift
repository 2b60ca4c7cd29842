import Foundation
import Kernels

/// The store of MLA's compressed attention cache for every layer, in fixed-size blocks: for each position,
/// the `kv_lora_rank` normalised values of `c_KV` followed by the `qk_rope_head_dim` rotated values of the
/// shared key `k_rope` — never the expanded per-head keys and values.
///
/// A sequence names its blocks in a block table (block `i` holds its positions `i·blockSize ..< (i+1)·blockSize`),
/// so sequences share a pool of blocks and a common prompt prefix can live in one set of blocks. Rows are
/// `Float`, or INT8 with a scale per group of 32 values (`Int8LatentLayout`).
///
/// Each layer's blocks live in address space reserved with `mmap` at creation: memory is taken only as
/// blocks are first written, and rows never move. The cache owns that memory, so it cannot be copied
/// (`~Copyable`) and may move between threads (`Sendable`).
public struct LatentCache: ~Copyable, @unchecked Sendable {
    /// Values per position per layer (`kv_lora_rank + qk_rope_head_dim`).
    public let width: Int
    public let blockSize: Int
    public let blocks: Int
    public let encoding: LatentEncoding
    let int8: Int8LatentLayout?
    let rowBytes: Int
    let pageBytes: Int
    private let layers: [UnsafeMutableRawPointer]
    private let reservedBytes: Int

    /// The default positions per block (vLLM's default is 16; 128 matches the attention kernel's key blocks).
    public static let defaultBlockSize = 128

    /// - Throws: `ModelError.cacheReservation` when the address space for the blocks is not there.
    public init(config: ModelConfig, blocks: Int, blockSize: Int = LatentCache.defaultBlockSize, encoding: LatentEncoding = .f32) throws {
        precondition(blocks > 0 && blockSize > 0, "a latent cache needs blocks and positions, got \(blocks) × \(blockSize)")
        let width = config.latentCacheWidth
        let int8 = encoding == .int8 ? Int8LatentLayout(parts: [config.kvLoraRank, config.qkRopeHeadDim]) : nil
        let rowBytes = int8?.rowBytes ?? width * MemoryLayout<Float>.stride
        let (pageBytes, overflow) = rowBytes.multipliedReportingOverflow(by: blockSize)
        let (bytes, overflowBytes) = pageBytes.multipliedReportingOverflow(by: blocks)
        var layers: [UnsafeMutableRawPointer] = []
        for _ in 0..<config.numHiddenLayers {
            let address = overflow || overflowBytes ? nil
                : mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            guard let address, address != MAP_FAILED else {
                for layer in layers { munmap(layer, bytes) }
                throw ModelError.cacheReservation(positions: blocks * blockSize,
                                                  bytes: Double(blocks) * Double(blockSize) * Double(rowBytes * config.numHiddenLayers))
            }
            layers.append(address)
        }
        self.width = width
        self.blockSize = blockSize
        self.blocks = blocks
        self.encoding = encoding
        self.int8 = int8
        self.rowBytes = rowBytes
        self.pageBytes = pageBytes
        self.layers = layers
        reservedBytes = bytes
    }

    deinit {
        for layer in layers { munmap(layer, reservedBytes) }
    }

    /// Bytes one position takes over all layers.
    public var bytesPerPosition: Int { rowBytes * layers.count }
    /// Bytes one block takes over all layers.
    public var bytesPerBlock: Int { pageBytes * layers.count }

    /// Runs `body` on layer `layer`'s rows of the sequence whose block table is `table`.
    func withRows<R>(layer: Int, table: [Int], _ body: (LatentRows) -> R) -> R {
        precondition(!table.isEmpty, "rows of a sequence with no blocks")
        return table.withUnsafeBufferPointer { t in
            body(LatentRows(pages: layers[layer], pageRows: blockSize, pageBytes: pageBytes, table: t.baseAddress!, width: width, int8: int8))
        }
    }

    /// Writes `latents` `[tokens, width]` as positions `start ..< start + tokens` of layer `layer` of the
    /// sequence whose block table is `table`.
    mutating func write(layer: Int, table: [Int], start: Int, latents: [Float]) {
        precondition(latents.count % width == 0, "latent rows of \(latents.count) values, not a multiple of \(width)")
        let tokens = latents.count / width
        precondition(start >= 0 && (start + tokens + blockSize - 1) / blockSize <= table.count,
                     "positions \(start)..<\(start + tokens) are past the \(table.count) blocks of the table")
        latents.withUnsafeBufferPointer { values in
            for t in 0..<tokens {
                let position = start + t, block = table[position / blockSize]
                precondition(block >= 0 && block < blocks, "block \(block) is outside the cache of \(blocks)")
                let row = layers[layer] + block * pageBytes + (position % blockSize) * rowBytes
                if let int8 {
                    int8.quantize(values.baseAddress! + t * width, into: row)
                } else {
                    row.copyMemory(from: values.baseAddress! + t * width, byteCount: rowBytes)
                }
            }
        }
    }

    /// Layer `layer`'s first `positions` rows of the sequence with block table `table`, as floats (tests and tools).
    public func latents(layer: Int, table: [Int], positions: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: positions * width) { buffer, initialized in
            withRows(layer: layer, table: table) { $0.copy(rows: 0..<positions, into: buffer.baseAddress!) }
            initialized = positions * width
        }
    }
}
