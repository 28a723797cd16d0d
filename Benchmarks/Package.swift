// swift-tools-version: 6.1
// Regression benchmarks of edge-ctl's kernels with package-benchmark (ordo-one/benchmark): wall-clock
// percentiles and malloc counts per kernel, comparable against a saved baseline. A separate package
// so the main build never fetches or builds the benchmark tooling. Run from this directory:
//   swift package --scratch-path ../.build-benchpkg benchmark
//   swift package benchmark baseline update main; ...; swift package benchmark baseline compare main
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which depends on where the checkout lives.
let edgeCtl = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "edge-ctl-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [.product(name: "Benchmark", package: "benchmark"),
                           .product(name: "EdgeRuntime", package: edgeCtl)],
            path: "Benchmarks/KernelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
