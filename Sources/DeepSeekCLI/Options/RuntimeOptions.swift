import ArgumentParser
import Kernels

/// `--threads N`: how many threads the kernels use (default: every core).
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Threads for the kernels (default: all cores).") var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
    }

    /// Applies the settings; call first in `run()`.
    func apply() {
        if let threads { ThreadPool.threads = threads }
    }
}
