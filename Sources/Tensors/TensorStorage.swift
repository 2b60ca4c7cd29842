import Foundation

/// Bytes that tensors view: a read-only memory-mapped file or a buffer this process owns.
///
/// Storage outlives every `Tensor` and `WeightMatrix` made from it because tensors hold a
/// strong reference; the mapping is released when the last tensor goes away.
public final class TensorStorage: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let byteCount: Int
    private let release: @Sendable (UnsafeRawPointer, Int) -> Void

    private init(base: UnsafeRawPointer, byteCount: Int, release: @escaping @Sendable (UnsafeRawPointer, Int) -> Void) {
        self.base = base
        self.byteCount = byteCount
        self.release = release
    }

    deinit { release(base, byteCount) }

    /// Maps `path` read-only; the pages are loaded on demand and never copied.
    public static func map(path: String) throws -> TensorStorage {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw TensorsError.fileNotFound(path: path) }
            throw TensorsError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TensorsError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let size = Int(info.st_size)
        if size == 0 {
            return owned(bytes: [])
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw TensorsError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        return TensorStorage(base: UnsafeRawPointer(address), byteCount: size) { base, count in
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        }
    }

    /// `byteCount` bytes of zeroed, writable anonymous memory, committed page by page as it is first
    /// written. On Linux the range is 2 MiB-aligned and asks for transparent huge pages, so a pass
    /// that streams every weight (a decode step) walks 512 times fewer page-table entries.
    public static func reserve(byteCount: Int) throws -> TensorStorage {
        let hugePage = 2 << 20
        let rounded = (max(byteCount, 1) + hugePage - 1) / hugePage * hugePage
        let mapped = rounded + hugePage
        guard let raw = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              raw != MAP_FAILED else {
            throw TensorsError.outOfMemory(bytes: byteCount, reason: String(cString: strerror(errno)))
        }
        let start = (Int(bitPattern: raw) + hugePage - 1) / hugePage * hugePage
        let base = UnsafeMutableRawPointer(bitPattern: start)!
        #if os(Linux)
        madvise(base, rounded, MADV_HUGEPAGE)
        #endif
        let address = Int(bitPattern: raw)
        return TensorStorage(base: UnsafeRawPointer(base), byteCount: byteCount) { _, _ in
            munmap(UnsafeMutableRawPointer(bitPattern: address), mapped)
        }
    }

    /// Copies `bytes` into storage this process owns (16-byte aligned).
    public static func owned(bytes: [UInt8]) -> TensorStorage {
        let count = max(bytes.count, 1)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        bytes.withUnsafeBytes { source in
            if let address = source.baseAddress { buffer.copyMemory(from: address, byteCount: bytes.count) }
        }
        return TensorStorage(base: UnsafeRawPointer(buffer), byteCount: bytes.count) { base, _ in
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// Copies `values` into owned storage.
    public static func owned(floats values: [Float]) -> TensorStorage {
        owned(bytes: values.withUnsafeBytes { Array($0) })
    }
}
