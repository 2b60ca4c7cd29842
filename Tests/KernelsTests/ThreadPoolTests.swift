import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Kernels

/// `ThreadPool.parallelFor` covers every index exactly once: back to back (workers spinning), after the
/// workers fell asleep, nested, and from several caller threads at once (the busy fallback).
@Suite(.serialized) struct ThreadPoolTests {
    /// Runs `parallelFor(count)` and returns how often each index was visited.
    static func visits(_ count: Int, grain: Int = 1, nested: Bool = false) -> [Int] {
        let counts = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: max(count, 1))
        for i in 0..<count { (counts + i).initialize(to: Atomic(0)) }
        defer { counts.deallocate() }
        ThreadPool.parallelFor(count, grain: grain) { range in
            for i in range {
                if nested {
                    // A kernel inside a kernel: the inner call must still cover its own range.
                    let inner = visits(3)
                    if inner != [1, 1, 1] { counts[i].add(1000, ordering: .relaxed) }
                }
                counts[i].add(1, ordering: .relaxed)
            }
        }
        return (0..<count).map { counts[$0].load(ordering: .relaxed) }
    }

    @Test func everyIndexOnceWithAnyThreadCount() {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        for threads in [1, 2, 3, 5] {
            ThreadPool.threads = threads
            for count in [0, 1, 2, 3, 7, 64, 1001] {
                for _ in 0..<50 {
                    let seen = Self.visits(count)
                    #expect(seen == [Int](repeating: 1, count: count), "threads \(threads) count \(count)")
                }
            }
            #expect(Self.visits(100, grain: 30) == [Int](repeating: 1, count: 100))
            #expect(Self.visits(10, nested: true) == [Int](repeating: 1, count: 10))
        }
    }

    @Test func workersThatSleptWakeForTheNextJob() {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        ThreadPool.threads = 3
        #expect(Self.visits(90) == [Int](repeating: 1, count: 90))
        for pause in [0.0005, 0.002, 0.01] {
            // Longer than the workers' spin: they are asleep when the next job comes.
            Thread.sleep(forTimeInterval: pause)
            #expect(Self.visits(90) == [Int](repeating: 1, count: 90), "after \(pause) s idle")
        }
    }

    @Test func concurrentCallersEachCoverTheirRange() {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        ThreadPool.threads = 2
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for count in [5, 33, 200] where Self.visits(count) != [Int](repeating: 1, count: count) {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }
}
