import Kernels
import Tensors

/// A DeepSeek-V2/V3-family causal language model loaded from a Hugging Face checkpoint folder.
///
/// Weights stay in their stored format, in the checkpoint's `Residency`. Multi-token-prediction layers
/// (`num_nextn_predict_layers`, stored after the main layers) are recognised and left unloaded.
public final class Transformer: Sendable {
    public let config: ModelConfig
    public let checkpoint: Checkpoint
    let embedding: WeightMatrix
    let embeddingOwners: [Tensor]
    let layers: [DecoderLayer]
    let finalNorm: RMSNorm
    let head: Linear
    let rope: RotaryEmbedding

    /// Bytes of every layer's transposed attention keys (`AbsorbedKeys`), made at load and read by decoding.
    public var absorbedKeyBytes: Int { layers.reduce(0) { $0 + $1.attention.absorbedKeys.byteCount } }

    /// Most positions one pass through the layers takes; `forward` runs longer inputs in chunks of this
    /// many, so the activations of a long prompt stay bounded (llama.cpp's micro-batch, vLLM's chunked
    /// prefill).
    public let prefillChunk: Int
    public static let defaultPrefillChunk = 512

    /// Which positions `forward` returns logits for.
    public enum LogitPositions: Sendable, Equatable { case last, all }

    /// Loads `directory` (config.json plus safetensors), checking every tensor against the config.
    public convenience init(
        directory: String, prefillChunk: Int = Transformer.defaultPrefillChunk, residency: Residency = .automatic
    ) throws {
        let config = try ModelConfig.load(directory: directory)
        let checkpoint = try mappingTensorErrors { try Checkpoint(directory: directory, residency: residency) }
        try self.init(config: config, checkpoint: checkpoint, prefillChunk: prefillChunk)
    }

    public init(config: ModelConfig, checkpoint: Checkpoint, prefillChunk: Int = Transformer.defaultPrefillChunk) throws {
        precondition(prefillChunk > 0, "prefillChunk must be positive")
        let loader = WeightLoader(checkpoint: checkpoint, config: config)
        self.config = config
        self.prefillChunk = prefillChunk
        self.checkpoint = checkpoint
        // Decoding reads one embedding row per token, so the table stays in the mapped file unless the
        // head shares it (then every row is read every step).
        let headSpec = ParameterLayout.head(config)
        (embedding, embeddingOwners) = try (headSpec == nil ? loader : loader.forRowLookups).matrix(ParameterLayout.embedding(config))
        layers = try (0..<config.numHiddenLayers).map { try DecoderLayer(config: config, layer: $0, loader: loader) }
        finalNorm = try loader.rmsNorm(ParameterLayout.finalNorm(config))
        if let spec = headSpec {
            head = try loader.linear(spec)
        } else {
            head = Linear(weight: embedding, bias: nil, owners: embeddingOwners)
        }
        rope = RotaryEmbedding(config: config)
    }

    /// A fresh cache for one sequence of at most `capacity` positions (default: the model's context).
    public func makeCache(capacity: Int? = nil) throws -> KVCache {
        try KVCache(config: config, capacity: min(capacity ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings))
    }

    /// Runs `tokens` after the positions already in `cache`, appending their latents to it (in passes of
    /// at most `prefillChunk` positions).
    ///
    /// - Parameter attention: the MLA form; by default the cheaper one for each call.
    /// - Returns: fp32 logits `[1, vocab]` for the last position or `[tokens, vocab]` for all.
    public func forward(tokens: [Int], cache: inout KVCache, logits positions: LogitPositions = .last,
                        attention form: MLAttention.Form = .automatic) throws -> [Float] {
        guard !tokens.isEmpty else { throw ModelError.emptyInput }
        guard cache.count + tokens.count <= cache.capacity else {
            throw ModelError.contextOverflow(tokens: cache.count + tokens.count, limit: cache.capacity)
        }
        let segment = BatchSegment(tokens: tokens, start: cache.count, blocks: cache.table, logits: positions)
        let logits = try forward([segment], cache: &cache.storage, attention: form)[0]
        cache.advance(by: tokens.count)
        return logits
    }

    /// One step of a batch: each segment's tokens run after the positions already in its blocks of `cache`,
    /// and their latents are written into those blocks.
    ///
    /// Segments of fewer than `blockedMatmulTokens` tokens (decoding) run together on the row-streaming
    /// kernels; longer ones (prompt chunks) in pieces of at most `prefillChunk` positions, together, on the
    /// blocked kernels. Every product reads each weight once for all the tokens of a pass and computes each
    /// token as it would alone, so a sequence's logits do not depend on what else is in the batch.
    ///
    /// - Returns: per segment, fp32 logits `[1, vocab]` for its last position, `[tokens, vocab]` for all, or
    ///   none, as it asks.
    public func forward(_ segments: [BatchSegment], cache: inout LatentCache, attention form: MLAttention.Form = .automatic) throws -> [[Float]] {
        for segment in segments {
            guard !segment.tokens.isEmpty else { throw ModelError.emptyInput }
            if let bad = segment.tokens.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
                throw ModelError.tokenOutOfRange(token: bad, vocabulary: config.vocabSize)
            }
            let positions = segment.start + segment.tokens.count
            guard segment.start >= 0, positions <= config.maxPositionEmbeddings else {
                throw ModelError.contextOverflow(tokens: positions, limit: config.maxPositionEmbeddings)
            }
            guard cache.blockSize * segment.blocks.count >= positions, segment.blocks.allSatisfy({ $0 >= 0 && $0 < cache.blocks }) else {
                throw ModelError.invalidOption(option: "block table", detail: "blocks \(segment.blocks) do not cover \(positions) positions of a cache of \(cache.blocks) blocks")
            }
        }
        var results = [[Float]](repeating: [], count: segments.count)
        let decoding = segments.indices.filter { segments[$0].tokens.count < blockedMatmulTokens }
        if !decoding.isEmpty {
            let outputs = pass(decoding.map { Part(segments[$0].tokens[...], segments[$0].start, segments[$0].blocks, segments[$0].logits) },
                               cache: &cache, path: .streaming, form: form)
            for (index, output) in zip(decoding, outputs) { results[index] = output }
        }
        // Prompt chunks: each segment in pieces of at most `prefillChunk` positions, as alone. The pieces of
        // different sequences share passes of at most `prefillChunk` positions (each weight read once for all),
        // unless the blocked kernel's result depends on where a token sits (OpenBLAS): then one at a time.
        var pieces: [(index: Int, part: Part)] = []
        for (index, segment) in segments.enumerated() where segment.tokens.count >= blockedMatmulTokens {
            for start in stride(from: 0, to: segment.tokens.count, by: prefillChunk) {
                let end = min(start + prefillChunk, segment.tokens.count)
                let wanted: LogitPositions? = segment.logits == .all ? .all : end == segment.tokens.count ? segment.logits : nil
                pieces.append((index, Part(segment.tokens[start..<end], segment.start + start, segment.blocks, wanted)))
            }
        }
        var next = 0
        while next < pieces.count {
            var end = next + 1, positions = pieces[next].part.tokens.count
            while blockedMatmulIsTokenInvariant, end < pieces.count, positions + pieces[end].part.tokens.count <= prefillChunk {
                positions += pieces[end].part.tokens.count
                end += 1
            }
            let outputs = pass(pieces[next..<end].map(\.part), cache: &cache, path: .blocked, form: form)
            for (piece, output) in zip(pieces[next..<end], outputs) { results[piece.index] += output }
            next = end
        }
        return results
    }

    /// A sequence's tokens in one pass: the tokens, the position of the first, its block table, the logits it wants.
    private typealias Part = (tokens: ArraySlice<Int>, start: Int, table: [Int], logits: LogitPositions?)

    /// One pass of several sequences' tokens through the layers; logits for each as it asks, or none.
    private func pass(_ parts: [Part], cache: inout LatentCache, path: ProductPath, form: MLAttention.Form) -> [[Float]] {
        let hidden = config.hiddenSize
        var spans: [BatchLayout.Span] = []
        for part in parts {
            spans.append(.init(row: spans.last.map { $0.row + $0.count } ?? 0, count: part.tokens.count, start: part.start, table: part.table))
        }
        let layout = BatchLayout(spans: spans, path: path)
        var h = embed(parts.flatMap(\.tokens)[...])
        let angles = RotaryAngles(values: parts.flatMap { rope.angles(positions: $0.start..<($0.start + $0.tokens.count)).values },
                                  interleaved: rope.interleaved)
        for layer in layers { layer(&h, layout: layout, cache: &cache, angles: angles, form: form) }
        // The rows each part wants logits for, normalised and projected together.
        var wanted: [Int] = []
        for (part, span) in zip(parts, spans) {
            switch part.logits {
            case .all: wanted += Array(span.rows)
            case .last: wanted.append(span.row + span.count - 1)
            case nil: break
            }
        }
        guard !wanted.isEmpty else { return parts.map { _ in [] } }
        var x = [Float](); x.reserveCapacity(wanted.count * hidden)
        for row in wanted { x += h[(row * hidden)..<((row + 1) * hidden)] }
        finalNorm(&x, rows: wanted.count)
        let logits = head(x, tokens: wanted.count, path: path)
        let vocab = config.vocabSize
        var next = 0
        return parts.map { part in
            let rows = part.logits == .all ? part.tokens.count : part.logits == .last ? 1 : 0
            defer { next += rows }
            return Array(logits[(next * vocab)..<((next + rows) * vocab)])
        }
    }

    /// Embedding rows `[tokens, hidden]` for token ids already checked to be in range.
    func embed(_ tokens: ArraySlice<Int>) -> [Float] {
        var h = [Float](repeating: 0, count: tokens.count * config.hiddenSize)
        for (t, id) in tokens.enumerated() {
            let row = embedding.row(id)
            h.replaceSubrange((t * config.hiddenSize)..<((t + 1) * config.hiddenSize), with: row)
        }
        return h
    }
}
