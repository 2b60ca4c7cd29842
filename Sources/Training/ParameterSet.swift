import Kernels
import Model

/// Every trainable tensor of a model as `Float` arrays, in the order of the layout that names them — the one
/// enumeration that initialisation, loading, the optimizer, checkpoints and zeroing gradients share.
///
/// A gradient is a `ParameterSet` of the same layout; a slot left empty is frozen (no gradient is computed
/// for it, as LoRA leaves the base weights).
public struct ParameterSet: Sendable {
    public let specs: [ParameterSpec]
    public var values: [[Float]]
    private let slots: [String: Int]
    /// The adapters' settings when `specs` include LoRA `A`/`B` pairs (`LoRAConfig.adapters`).
    public var lora: LoRAConfig?

    /// The parameters `specs` with the given values (one array per spec, sized as the spec says).
    public init(specs: [ParameterSpec], values: [[Float]]) {
        precondition(specs.count == values.count, "\(values.count) value arrays for \(specs.count) parameters")
        for (spec, value) in zip(specs, values) {
            precondition(value.isEmpty || value.count == spec.elementCount, "\(spec.name) has \(value.count) values, its shape \(spec.shape) needs \(spec.elementCount)")
        }
        self.specs = specs
        self.values = values
        slots = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
    }

    /// Freshly initialised parameters: matrices normal with standard deviation `std`, norms 1, biases 0,
    /// from `seed` (the same values `deepseek init` writes for that seed).
    public init(specs: [ParameterSpec], std: Float, seed: UInt64) {
        self.init(specs: specs, values: specs.enumerated().map { index, spec in
            RandomCheckpoint.initialValues(spec, std: std, seed: seed, index: index)
        })
    }

    /// The parameters `specs` read from a checkpoint, widened from whatever format it stores.
    public init(specs: [ParameterSpec], reader: ParameterReader) throws {
        self.init(specs: specs, values: try specs.map { try reader.values($0) })
    }

    /// A set of zeros with this layout, leaving out (empty) the slots `frozen` says.
    public func zeros(frozen: (ParameterSpec) -> Bool = { _ in false }) -> ParameterSet {
        ParameterSet(specs: specs, values: specs.map { frozen($0) ? [] : [Float](repeating: 0, count: $0.elementCount) })
    }

    /// The slot of the parameter named `name`; the layout must have it.
    public func slot(_ name: String) -> Int {
        guard let slot = slots[name] else { preconditionFailure("no parameter named \(name) in this layout") }
        return slot
    }

    /// The slot of `spec`, or nil when `spec` is nil.
    public func slot(_ spec: ParameterSpec?) -> Int? { spec.map { slot($0.name) } }

    /// Whether the layout has a parameter named `name`.
    public func contains(_ name: String) -> Bool { slots[name] != nil }

    /// Values in every slot that has some.
    public var elementCount: Int { values.reduce(0) { $0 + $1.count } }

    /// Sets every value to zero, keeping frozen slots empty.
    public mutating func zero() {
        for i in values.indices where !values[i].isEmpty {
            values[i].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
    }

    /// `Σ value²` over every slot, in `Double`.
    public var squaredNorm: Double {
        values.reduce(0.0) { total, v in total + v.reduce(0.0) { $0 + Double($1) * Double($1) } }
    }

    /// Multiplies every value by `factor`.
    public mutating func scale(by factor: Float) {
        for i in values.indices {
            values[i].withUnsafeMutableBufferPointer { buffer in
                for j in buffer.indices { buffer[j] *= factor }
            }
        }
    }

    /// Whether every value is finite (no overflow to infinity, no NaN).
    public var isFinite: Bool { values.allSatisfy { $0.allSatisfy { $0.isFinite } } }
}
