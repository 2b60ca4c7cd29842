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
    public enum LogitPositions: Sendable { case last, all }

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
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw ModelError.tokenOutOfRange(token: bad, vocabulary: config.vocabSize)
        }
        guard cache.count + tokens.count <= cache.capacity else {
            throw ModelError.contextOverflow(tokens: cache.count + tokens.count, limit: cache.capacity)
        }
        var logits: [Float] = []
        var start = 0
        while start < tokens.count {
            let end = min(start + prefillChunk, tokens.count)
            let wanted: LogitPositions? = positions == .all ? .all : end == tokens.count ? .last : nil
            logits += pass(tokens[start..<end], cache: &cache, logits: wanted, form: form)
            start = end
        }
        return logits
    }

    /// One pass of `tokens` through the layers; logits for `positions`, or none.
    private func pass(_ tokens: ArraySlice<Int>, cache: inout KVCache, logits positions: LogitPositions?, form: MLAttention.Form) -> [Float] {
        let hidden = config.hiddenSize
        var h = embed(tokens)
        let angles = rope.angles(positions: cache.count..<(cache.count + tokens.count))
        for layer in layers { layer(&h, tokens: tokens.count, cache: &cache, angles: angles, form: form) }
        cache.advance(by: tokens.count)
        guard let positions else { return [] }
        var rows = tokens.count
        if positions == .last {
            h = Array(h[((tokens.count - 1) * hidden)...])
            rows = 1
        }
        finalNorm(&h, rows: rows)
        return head(h, tokens: rows)
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
