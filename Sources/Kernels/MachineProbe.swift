import Foundation

/// Measures the two ceilings a step's roofline time comes from: how fast memory streams to the
/// cores, and how many multiply-adds the compiled kernels can issue.
public enum MachineProbe {
    /// Streaming-read bandwidth in bytes/s: `bytes` of memory summed by `ThreadPool.threads` threads,
    /// best of `repetitions` passes (the buffer is touched first, so page faults are not counted).
    public static func readBandwidth(bytes: Int = 1 << 30, repetitions: Int = 5) -> Double {
        let count = bytes / 64
        let buffer = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: SIMD16<Float>(repeating: 1), count: count)
        var best = 0.0
        var sink = Float(0)
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            let threads = ThreadPool.threads
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
            sums.initialize(repeating: 0, count: threads)
            // One chunk of the buffer per thread, each summing into its own slot.
            ThreadPool.parallelFor(threads) { range in
                for chunk in range {
                    var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>(), d = SIMD16<Float>()
                    var i = count * chunk / threads
                    let end = count * (chunk + 1) / threads
                    while i + 4 <= end {
                        a += buffer[i]; b += buffer[i + 1]; c += buffer[i + 2]; d += buffer[i + 3]
                        i += 4
                    }
                    while i < end { a += buffer[i]; i += 1 }
                    sums[chunk] = horizontalSum(a + b + c + d)
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            sink += sums[0]
            sums.deallocate()
            best = max(best, Double(count * 64) / seconds)
        }
        precondition(sink.isFinite, "bandwidth probe lost its result")
        return best
    }

    /// Multiply-adds the compiled code issues per second on `ThreadPool.threads` threads, counted as
    /// 2 floating-point operations each: independent SIMD accumulators, no memory traffic, best of
    /// `repetitions` runs.
    public static func multiplyAddPeak(repetitions: Int = 5) -> Double {
        let threads = ThreadPool.threads
        let iterations = 20_000_000
        var best = 0.0
        for _ in 0..<repetitions {
            let results = UnsafeMutablePointer<Float>.allocate(capacity: threads)
            results.initialize(repeating: 0, count: threads)
            let start = DispatchTime.now().uptimeNanoseconds
            ThreadPool.parallelFor(threads) { range in
                for t in range {
                    let m = SIMD8<Float>(repeating: 1e-7), k = SIMD8<Float>(repeating: 0.999_999)
                    var a0 = SIMD8<Float>(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
                    for _ in 0..<(iterations / 8) {
                        multiplyAdd(&a0, m, k); multiplyAdd(&a1, m, k); multiplyAdd(&a2, m, k); multiplyAdd(&a3, m, k)
                        multiplyAdd(&a4, m, k); multiplyAdd(&a5, m, k); multiplyAdd(&a6, m, k); multiplyAdd(&a7, m, k)
                    }
                    results[t] = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7).sum()
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            precondition(results[0].isFinite, "multiply-add probe lost its result")
            results.deallocate()
            // Each thread: iterations/8 rounds × 8 accumulators × 8 lanes × 2 operations.
            best = max(best, Double(threads) * Double(iterations / 8) * 8 * 8 * 2 / seconds)
        }
        return best
    }

    /// Peak resident memory of this process since it started or since the last `resetPeakResident()`, in bytes.
    public static func peakResidentBytes() -> Int {
        #if os(Linux)
        // VmHWM follows resets; getrusage's maximum does not.
        if let status = readFile("/proc/self/status"),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kilobytes = Int(line.dropFirst(6).split(separator: " ").first ?? "") {
            return kilobytes * 1024
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        var usage = rusage()
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #endif
    }

    /// Restarts the peak-memory count from the current resident size (Linux: `/proc/self/clear_refs`), so
    /// a measurement excludes what came before, such as the bandwidth probe's buffer. Returns whether it could.
    @discardableResult
    public static func resetPeakResident() -> Bool {
        #if os(Linux)
        guard let file = fopen("/proc/self/clear_refs", "w") else { return false }
        defer { fclose(file) }
        return fputs("5", file) >= 0
        #else
        return false
        #endif
    }

    #if os(Linux)
    private static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    #endif
}
