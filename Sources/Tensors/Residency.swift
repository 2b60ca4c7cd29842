import Foundation

/// Where a checkpoint's tensors live once a model is loaded.
public enum Residency: Sendable, Equatable {
    /// Views of the memory-mapped files: opening is instant, pages come in on first use, the OS may
    /// evict them, and processes that load the same files share them through the page cache.
    case mapped
    /// Each tensor is copied, the first time it is asked for, into this process's anonymous memory,
    /// backed by 2 MiB pages on Linux. Decoding streams every weight once per token, and with 4 KiB file
    /// pages that pass spends much of its time on page-table walks; the copy costs one read of the files
    /// at load and the weights can no longer be evicted back to them.
    case resident
    /// `resident` when the checkpoint's files fit in three quarters of physical memory, else `mapped`.
    case automatic

    /// `.resident` or `.mapped` for files of `bytes` bytes in all.
    func resolved(forBytes bytes: Int) -> Residency {
        guard self == .automatic else { return self }
        return UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory / 4 * 3 ? .resident : .mapped
    }
}
