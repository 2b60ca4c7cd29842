import Kernels
import Model

/// The low-rank path `(α / r) · B A dropout(x)` beside a frozen linear layer, with its backward pass.
///
/// Dropout is on only while `LoRAAdapter.$dropoutSeed` is bound (a training step): the mask is a hash of
/// that seed, the layer and the element, so the backward pass rebuilds the forward pass's mask instead of
/// keeping it, and evaluation (nothing bound) runs without dropout.
struct LoRAAdapter: Sendable {
    /// Slots of `A` `[rank, inputSize]` and `B` `[outputSize, rank]`.
    let a: Int
    let b: Int
    let rank: Int
    let scaling: Float
    let dropout: Float
    let inputSize: Int
    let outputSize: Int

    /// The seed of the current training step's dropout masks.
    @TaskLocal static var dropoutSeed: UInt64?

    /// The adapter `parameters` hold for the weight `spec`, if any.
    init?(for spec: ParameterSpec, in parameters: ParameterSet) {
        guard let lora = parameters.lora, parameters.contains(LoRAConfig.aName(spec.name)) else { return nil }
        a = parameters.slot(LoRAConfig.aName(spec.name))
        b = parameters.slot(LoRAConfig.bName(spec.name))
        rank = lora.rank
        scaling = lora.scaling
        dropout = lora.dropout
        outputSize = spec.shape[0]
        inputSize = spec.shape[1]
    }

    /// Dropout's factor per element of a `count`-element input (0 or 1 / (1 − p)), or nil when dropout is off.
    private func mask(count: Int) -> [Float]? {
        guard dropout > 0, let seed = Self.dropoutSeed else { return nil }
        let keep = 1 / (1 - dropout)
        let threshold = UInt64(Double(dropout) * Double(UInt64.max))
        var state = seed ^ (UInt64(a) &* 0x9E37_79B9_7F4A_7C15)
        return (0..<count).map { _ in
            state = state &+ 0x9E37_79B9_7F4A_7C15
            return Self.mix(state) < threshold ? 0 : keep
        }
    }

    /// `x` times `mask`, or `x` itself without one.
    private static func apply(_ mask: [Float]?, to x: [Float]) -> [Float] {
        guard let mask else { return x }
        var out = x
        for i in out.indices { out[i] *= mask[i] }
        return out
    }

    /// SplitMix64's finaliser.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `scaling · dropout(x) Aᵀ` `[tokens, rank]`.
    private func hidden(_ dropped: [Float], tokens: Int, _ p: ParameterSet) -> [Float] {
        var h = gemm(dropped, p.values[a], m: tokens, n: rank, k: inputSize, bTransposed: true)
        for i in h.indices { h[i] *= scaling }
        return h
    }

    /// Adds `scaling · B A dropout(x)` to `y` `[tokens, outputSize]`.
    func forward(_ x: [Float], tokens: Int, into y: inout [Float], _ p: ParameterSet) {
        let h = hidden(Self.apply(mask(count: x.count), to: x), tokens: tokens, p)
        gemm(&y, h, p.values[b], m: tokens, n: outputSize, k: rank, bTransposed: true, accumulate: true)
    }

    /// Adds the gradients of `A` and `B` and this path's input gradient to `dx` `[tokens, inputSize]`.
    func backward(_ dy: [Float], input x: [Float], tokens: Int, into dx: inout [Float], _ p: ParameterSet, _ g: inout ParameterSet) {
        let mask = mask(count: x.count)
        let xd = Self.apply(mask, to: x)
        let h = hidden(xd, tokens: tokens, p)
        if !g.values[b].isEmpty { gemm(&g.values[b], dy, h, m: outputSize, n: rank, k: tokens, aTransposed: true, accumulate: true) }
        var dh = gemm(dy, p.values[b], m: tokens, n: rank, k: outputSize)
        for i in dh.indices { dh[i] *= scaling }
        if !g.values[a].isEmpty { gemm(&g.values[a], dh, xd, m: rank, n: inputSize, k: tokens, aTransposed: true, accumulate: true) }
        // Dropout's backward is the same mask and factor.
        let dxd = Self.apply(mask, to: gemm(dh, p.values[a], m: tokens, n: inputSize, k: rank))
        for i in dx.indices { dx[i] += dxd[i] }
    }
}
