import Kernels

/// A named, typed, shaped view of bytes in a `TensorStorage`. Copying a `Tensor` copies the view.
public struct Tensor: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let storage: TensorStorage
    public let byteOffset: Int

    public init(name: String, dtype: DType, shape: [Int], storage: TensorStorage, byteOffset: Int = 0) {
        let bytes = shape.reduce(1, *) * dtype.byteSize
        precondition(byteOffset >= 0 && byteOffset + bytes <= storage.byteCount,
                     "tensor \(name) \(shape) \(dtype) does not fit its storage of \(storage.byteCount) bytes at offset \(byteOffset)")
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
        self.byteOffset = byteOffset
    }

    /// A tensor of `Float` values in owned memory.
    public init(name: String, shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "tensor \(name): \(floats.count) values for shape \(shape)")
        self.init(name: name, dtype: .f32, shape: shape, storage: .owned(floats: floats))
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.byteSize }

    /// Pointer to the first element; valid while this tensor (or its storage) is alive.
    public var baseAddress: UnsafeRawPointer { storage.base + byteOffset }

    /// This tensor if its first element is aligned for its type, otherwise a copy in owned (aligned)
    /// memory — safetensors packs tensors back to back, so a 2-byte tensor may follow an odd-sized one.
    public func aligned() -> Tensor {
        guard Int(bitPattern: baseAddress) % dtype.byteSize != 0 else { return self }
        return Tensor(name: name, dtype: dtype, shape: shape, storage: .owned(bytes: bytes))
    }

    /// The raw bytes of the tensor.
    public var bytes: [UInt8] {
        Array(UnsafeRawBufferPointer(start: baseAddress, count: byteCount))
    }

    /// Every element widened to `Float` (allocates; for vectors, tests and conversions).
    public func floats() throws -> [Float] {
        let n = elementCount
        let p = baseAddress
        switch dtype {
        case .f32:
            var values = [Float](repeating: 0, count: n)
            values.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: n * 4)) }
            return values
        case .f64:
            return (0..<n).map { Float(p.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
        case .bf16:
            return (0..<n).map { NumberFormats.float(bf16: p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        case .f16:
            return (0..<n).map { NumberFormats.float(f16: p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        case .f8E4M3:
            return (0..<n).map { NumberFormats.float(fp8E4M3: p.load(fromByteOffset: $0, as: UInt8.self)) }
        default:
            throw TensorsError.unsupportedConversion(tensor: name, dtype: dtype, detail: "not a floating-point tensor")
        }
    }
}
