import CPUFeatures
import Dispatch
import Foundation
import Synchronization

/// How many threads the kernels split work across, and the splitting itself.
///
/// Work runs on persistent worker threads (`SpinningWorkers`) that spin for a short while after each
/// job before they sleep, so the many small products of a decoding step start on every core within
/// a microsecond instead of waiting for a sleeping thread to wake. A call made while the workers are
/// busy (a kernel inside a kernel, or a second caller thread) runs on Dispatch's workers instead. Set
/// `threads` once at start-up (`--threads`).
public enum ThreadPool {
    /// Every core; read once, since asking the system costs more than a small kernel.
    private static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    private static let configured = Atomic<Int>(0)
    private static let workers = SpinningWorkers()

    /// Threads a kernel may use (default: every core).
    public static var threads: Int {
        get {
            let value = configured.load(ordering: .relaxed)
            return value > 0 ? value : cores
        }
        set { configured.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Calls `body` on disjoint chunks covering `0..<count`, in parallel when worthwhile: chunk `c` of
    /// `n` is `count·c/n ..< count·(c+1)/n`.
    ///
    /// - Parameter grain: the fewest items worth giving a thread of its own.
    public static func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            // Every chunk finishes before either path returns, so the closure and the memory it points
            // into outlive all uses; chunks write disjoint ranges.
            nonisolated(unsafe) let work = escapable
            let chunk: @Sendable (Int) -> Void = { c in
                let start = count * c / chunks, end = count * (c + 1) / chunks
                if start < end { work(start..<end) }
            }
            if !workers.run(chunks: chunks, chunk) {
                DispatchQueue.concurrentPerform(iterations: chunks, execute: chunk)
            }
        }
    }

    /// Calls `body` once for each index of `0..<count`, each thread taking the next unclaimed index when it
    /// finishes one: for items of uneven cost, or on a machine where a thread may be slowed by others.
    public static func parallelForEach(_ count: Int, _ body: (Int) -> Void) {
        let next = NextIndex()
        parallelFor(min(threads, count)) { _ in
            while true {
                let index = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                body(index)
            }
        }
    }

    private final class NextIndex: Sendable {
        let value = Atomic<Int>(0)
    }
}

/// Persistent threads that run chunks `1..<n` of a job while the caller runs chunk 0.
///
/// A job is published by bumping `state` (a generation counter above the chunk count); a worker sees
/// the new value, runs its chunk if its index is below the count, and counts down `pending`. After
/// `spinTime` without a job a worker sleeps on its semaphore; the caller wakes the sleepers it needs.
final class SpinningWorkers: @unchecked Sendable {
    /// How long an idle worker spins before sleeping: longer than the gaps between the products of a
    /// decoding step, short enough that an idle process costs nothing.
    static let spinTime: UInt64 = 200_000

    /// `generation << 16 | chunks` of the latest job.
    private let state = Atomic<UInt64>(0)
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// Worker `i` runs chunk `i + 1`; appended only by a caller holding `busy`.
    private nonisolated(unsafe) var sleepers: [Sleeper] = []
    /// The job's chunk body; written before `state` is published and read only by the workers it names.
    private nonisolated(unsafe) var job: (@Sendable (Int) -> Void)?

    /// A worker's way to sleep: `asleep` is set while it sleeps (or is about to) on `waker`.
    private final class Sleeper: Sendable {
        let asleep = Atomic<Bool>(false)
        let waker = DispatchSemaphore(value: 0)
    }

    /// Runs `chunk(0..<chunks)` with the caller taking chunk 0; false (nothing run) when another job holds
    /// the workers.
    func run(chunks: Int, _ chunk: @escaping @Sendable (Int) -> Void) -> Bool {
        guard chunks < 1 << 16, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        while sleepers.count < chunks - 1 { start(worker: sleepers.count) }
        job = chunk
        pending.store(chunks - 1, ordering: .relaxed)
        let generation = (state.load(ordering: .relaxed) >> 16) &+ 1
        state.store(generation << 16 | UInt64(chunks), ordering: .sequentiallyConsistent)
        for sleeper in sleepers[0..<(chunks - 1)] where sleeper.asleep.exchange(false, ordering: .sequentiallyConsistent) {
            sleeper.waker.signal()
        }
        chunk(0)
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins < 1 << 14 { deepseek_spin_pause() } else { sched_yield() }
        }
        job = nil
        return true
    }

    private func start(worker index: Int) {
        let sleeper = Sleeper()
        sleepers.append(sleeper)
        let seen = state.load(ordering: .relaxed)
        let thread = Thread { [self] in self.loop(index: index, sleeper: sleeper, seen: seen) }
        thread.name = "deepseek-worker-\(index + 1)"
        thread.start()
    }

    private func loop(index: Int, sleeper: Sleeper, seen initial: UInt64) -> Never {
        var seen = initial
        while true {
            var current = state.load(ordering: .acquiring)
            var idleSince: UInt64 = 0
            var spins = 0
            while current == seen {
                deepseek_spin_pause()
                spins += 1
                if spins & 255 == 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if idleSince == 0 { idleSince = now }
                    if now - idleSince > Self.spinTime {
                        // Announce the sleep, then look once more: a job published before the flag was
                        // seen is run now; one published after finds the flag and signals.
                        sleeper.asleep.store(true, ordering: .sequentiallyConsistent)
                        if state.load(ordering: .sequentiallyConsistent) == seen {
                            sleeper.waker.wait()
                        } else if !sleeper.asleep.exchange(false, ordering: .sequentiallyConsistent) {
                            // The caller took the flag and will signal: consume it.
                            sleeper.waker.wait()
                        }
                        idleSince = 0
                    }
                }
                current = state.load(ordering: .acquiring)
            }
            seen = current
            let chunks = Int(current & 0xFFFF)
            if index + 1 < chunks {
                job?(index + 1)
                pending.subtract(1, ordering: .releasing)
            }
        }
    }
}
