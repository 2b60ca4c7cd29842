import Kernels
import Model

extension ParameterSet {
    /// These parameters with `lora`'s adapters added after them: each `A` uniform in ±1/√in (PEFT's Kaiming
    /// initialisation) from `seed`, each `B` zero, so the adapted model starts as the base model.
    public func addingAdapters(_ lora: LoRAConfig, seed: UInt64) throws -> ParameterSet {
        let adapters = lora.adapters(of: specs)
        guard !adapters.isEmpty else {
            throw TrainingError.invalidOption(name: "--lora-targets", detail: "\(lora.targets.joined(separator: ",")) matches no linear layer of this model")
        }
        var random = RandomSource(seed: seed ^ 0x4C6F_5241)
        var newSpecs = specs, newValues = values
        for (weight, a, b) in adapters {
            let bound = 1 / Float(weight.shape[1]).squareRoot()
            newSpecs += [a, b]
            newValues.append((0..<a.elementCount).map { _ in (random.nextUnit() * 2 - 1) * bound })
            newValues.append([Float](repeating: 0, count: b.elementCount))
        }
        var set = ParameterSet(specs: newSpecs, values: newValues)
        set.lora = lora
        return set
    }

    /// Whether `spec` is an adapter's `A` or `B`.
    public static func isAdapter(_ spec: ParameterSpec) -> Bool {
        spec.name.hasSuffix(LoRAConfig.aSuffix) || spec.name.hasSuffix(LoRAConfig.bSuffix)
    }
}
