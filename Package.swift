// swift-tools-version: 6.1
import PackageDescription

// Module layering (dependencies point down only; see README "Layout"):
//   deepseek (CLI) → Server → Engine → Model → Tensors → Kernels → CPUFeatures (and COpenBLAS with the OpenBLAS trait)
//                    (Server: Hummingbird, swift-prometheus)
//                           → Tokenizer → JSON
//                           → Sampling → Kernels
//   deepseek (CLI) → Training → Model, Tokenizer (Training and Engine never import each other)
let package = Package(
    name: "deepseek-swift",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "deepseek", targets: ["DeepSeekCLI"]),
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "Model", targets: ["Model"]),
        .library(name: "Tokenizer", targets: ["Tokenizer"]),
        .library(name: "Sampling", targets: ["Sampling"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Server", targets: ["Server"]),
        .library(name: "Training", targets: ["Training"]),
    ],
    traits: [
        .trait(name: "NativeCPU",
               description: "Compile the kernels for the building machine's CPU (-march=native) with fused multiply-add; on x86-64 this needs AVX2, FMA and F16C and adds the AVX2 integer kernels."),
        .trait(name: "OpenBLAS",
               description: "Prefill's matrix products through OpenBLAS's sgemm (needs the system library: libopenblas-dev on Debian)."),
        .default(enabledTraits: ["NativeCPU"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
    ],
    targets: [
        // Header-only: which CPU features the compiler targets, readable from Swift.
        .target(name: "CPUFeatures"),
        // Only with the OpenBLAS trait.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .target(name: "Kernels", dependencies: [
            "CPUFeatures",
            .target(name: "COpenBLAS", condition: .when(traits: ["OpenBLAS"])),
        ], swiftSettings: [
            .unsafeFlags(["-Xcc", "-march=native", "-Xcc", "-DDEEPSEEK_NATIVE_CPU"], .when(traits: ["NativeCPU"])),
            .define("NATIVE_CPU", .when(traits: ["NativeCPU"])),
            .define("OPENBLAS", .when(traits: ["OpenBLAS"])),
        ]),
        .target(name: "JSON"),
        .target(name: "Tensors", dependencies: ["Kernels"]),
        .target(name: "Model", dependencies: ["Tensors", "Kernels", "JSON"]),
        .target(name: "Tokenizer", dependencies: ["JSON"]),
        .target(name: "Sampling", dependencies: ["Kernels"]),
        .target(name: "Engine", dependencies: ["Model", "Tokenizer", "Sampling", "Kernels"]),
        .target(name: "Training", dependencies: ["Model", "Tensors", "Kernels", "Tokenizer", "JSON"]),
        .target(name: "Server", dependencies: [
            "Engine", "Model", "Tokenizer", "Sampling", "JSON",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The client side of `deepseek bench-serve`.
        .target(name: "ServingBenchmark", dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")]),
        .executableTarget(
            name: "DeepSeekCLI",
            dependencies: [
                "Server", "ServingBenchmark", "Engine", "Training", "Model", "Tokenizer", "Sampling", "Tensors", "Kernels", "JSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The kernel tests check the AVX2 paths directly where the build has them.
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"],
                    swiftSettings: [.define("NATIVE_CPU", .when(traits: ["NativeCPU"]))]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "Kernels"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Tensors", "JSON"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "JSON"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling"]),
        .testTarget(name: "DeepSeekCLITests", dependencies: ["DeepSeekCLI", "JSON"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Model", "Kernels", "Tensors", "JSON"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Model", "Tokenizer", "Sampling"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Engine", "Model", "Tokenizer", "JSON",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
