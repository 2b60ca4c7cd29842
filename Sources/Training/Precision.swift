import Kernels
import Model

/// The number format of the matrix products in a training step (`--precision`).
///
/// `bf16` and `fp16` are mixed precision as PyTorch's autocast runs it: FP32 master weights updated by the
/// optimizer; the products take the weights and their input activations rounded to the format (and, in the
/// backward pass, the incoming activation gradients too), accumulating in FP32; norms, the router, the
/// softmaxes and the losses stay FP32. FP16's narrow range needs the loss scaled (`LossScaler`) so small
/// gradients do not flush to zero; a gradient past FP16's largest value becomes infinite, which the scaler
/// detects. The rounding is exact to the format; the arithmetic itself runs on the FP32 kernels.
public enum Precision: String, Sendable, CaseIterable {
    case fp32, bf16, fp16

    /// `values` rounded to this format (a copy; the same array for FP32).
    public func rounded(_ values: [Float]) -> [Float] {
        switch self {
        case .fp32: return values
        case .bf16: return values.map { NumberFormats.float(bf16: NumberFormats.bf16($0)) }
        case .fp16: return values.map { NumberFormats.float(f16: NumberFormats.f16($0)) }
        }
    }

    /// Whether a parameter of this role enters the products in this format (matrices, not norms or the router).
    static func roundsWeights(_ role: ParameterSpec.Role, tiedEmbedding: Bool) -> Bool {
        switch role {
        case .linear, .head: true
        case .embedding: tiedEmbedding
        case .router, .norm, .bias, .routerBias: false
        }
    }

    /// The weights the products of a step use: `master` with every matrix rounded to this format.
    func computeWeights(_ master: ParameterSet, config: ModelConfig) -> ParameterSet {
        guard self != .fp32 else { return master }
        var compute = master
        for (slot, spec) in master.specs.enumerated() where Self.roundsWeights(spec.role, tiedEmbedding: config.tieWordEmbeddings) {
            compute.values[slot] = rounded(master.values[slot])
        }
        return compute
    }
}

/// Dynamic loss scaling for FP16 (as PyTorch's `GradScaler`): the loss is multiplied by `scale` before the
/// backward pass; a step whose gradients overflow is skipped and the scale halved; after `growthInterval`
/// good steps in a row the scale doubles.
public struct LossScaler: Sendable, Equatable {
    public var scale: Float
    public var growthInterval: Int
    /// Good steps since the last change.
    public var goodSteps: Int

    public init(scale: Float = 65_536, growthInterval: Int = 2_000) {
        self.scale = scale
        self.growthInterval = growthInterval
        goodSteps = 0
    }

    /// Records whether the step's gradients were finite; returns whether the step should be taken.
    public mutating func update(finite: Bool) -> Bool {
        guard finite else {
            scale = max(scale / 2, 1)
            goodSteps = 0
            return false
        }
        goodSteps += 1
        if goodSteps >= growthInterval {
            scale *= 2
            goodSteps = 0
        }
        return true
    }
}
