import Dispatch
import Foundation
import Synchronization

/// How many threads the kernels split work across, and the splitting itself.
///
/// Work runs on Dispatch's persistent worker threads (`concurrentPerform`), one contiguous chunk per
/// thread, so a parallel kernel costs no thread creation. Set `threads` once at start-up (`--threads`).
public enum ThreadPool {
    /// Every core; read once, since asking the system costs more than a small kernel.
    private static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    private static let configured = Atomic<Int>(0)

    /// Threads a kernel may use (default: every core).
    public static var threads: Int {
        get {
            let value = configured.load(ordering: .relaxed)
            return value > 0 ? value : cores
        }
        set { configured.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Calls `body` on disjoint chunks covering `0..<count`, in parallel when worthwhile.
    ///
    /// - Parameter grain: the fewest items worth giving a thread of its own.
    public static func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            // Every chunk finishes before concurrentPerform returns, so the closure and the
            // memory it points into outlive all uses; chunks write disjoint ranges.
            nonisolated(unsafe) let work = escapable
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
                if start < end { work(start..<end) }
            }
        }
    }
}
