import Foundation
import Kernels
import Model

/// AdamW (Loshchilov & Hutter): Adam's moment estimates with weight decay applied to the weights directly,
/// not through the gradient. Matrices decay; norms, biases and the embedding-free vectors do not, and the
/// routing correction bias is not touched (it moves by `ExpertBalance`).
public struct AdamW: Sendable {
    public struct Options: Sendable, Equatable {
        public var beta1: Float
        public var beta2: Float
        public var epsilon: Float
        public var weightDecay: Float

        public init(beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8, weightDecay: Float = 0.1) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public let options: Options
    /// First and second moment estimates, laid out like the parameters (empty where frozen).
    public var firstMoment: ParameterSet
    public var secondMoment: ParameterSet
    /// Updates taken so far (for the bias correction).
    public var step: Int

    /// A fresh optimizer for the trainable slots of `gradients`' layout.
    public init(options: Options = Options(), like gradients: ParameterSet) {
        self.options = options
        firstMoment = ParameterSet(specs: gradients.specs, values: gradients.values.map { [Float](repeating: 0, count: $0.count) })
        secondMoment = firstMoment
        step = 0
    }

    /// Whether weight decay applies to a parameter of this role.
    public static func decays(_ role: ParameterSpec.Role) -> Bool {
        switch role {
        case .linear, .router, .embedding, .head: true
        case .norm, .bias, .routerBias: false
        }
    }

    /// Whether the optimizer moves a parameter of this role at all.
    public static func updates(_ role: ParameterSpec.Role) -> Bool { role != .routerBias }

    /// One update of every trainable slot of `parameters` from `gradients` at `learningRate`.
    public mutating func update(_ parameters: inout ParameterSet, gradients: ParameterSet, learningRate: Float) {
        step += 1
        let b1 = options.beta1, b2 = options.beta2, eps = options.epsilon
        let correction1 = 1 - Float(pow(Double(b1), Double(step)))
        let correction2 = 1 - Float(pow(Double(b2), Double(step)))
        for slot in parameters.specs.indices where !gradients.values[slot].isEmpty && !firstMoment.values[slot].isEmpty {
            let role = parameters.specs[slot].role
            guard Self.updates(role) else { continue }
            let decay = Self.decays(role) ? learningRate * options.weightDecay : 0
            adamWUpdate(weights: &parameters.values[slot], firstMoment: &firstMoment.values[slot], secondMoment: &secondMoment.values[slot],
                        gradient: gradients.values[slot],
                        step: AdamWStep(learningRate: learningRate, beta1: b1, beta2: b2, epsilon: eps, decay: decay,
                                        correction1: correction1, correction2: correction2))
        }
    }
}
