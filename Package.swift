// swift-tools-version: 6.1
import PackageDescription
import Foundation

// CPU tuning (DESIGN.md section 3). Without FMA enabled, x86-64 turns every fused multiply-add into a
// libm `fmaf` call per lane, so the kernels either get FMA explicitly or use plain multiply + add.
//  - EDGE_TARGET_CPU=cortex-a72 (set by scripts/embedded-build.sh) tunes a cross build for a board's core.
//  - EDGE_TARGET_CPU=generic builds without any tuning.
//  - Unset on an x86-64 host whose CPU has AVX2 and FMA (read from /proc/cpuinfo): x86-64-v3, and the
//    kernels use fused multiply-add (compile condition EDGE_FMA). On aarch64 FMA is always there.
let environment = ProcessInfo.processInfo.environment
var tuning: [SwiftSetting] = []
var cTuning: [CSetting] = []
if let cpu = environment["EDGE_TARGET_CPU"] {
    if cpu != "generic" {
        tuning = [.unsafeFlags(["-Xcc", "-mcpu=\(cpu)"])]
        cTuning = [.unsafeFlags(["-mcpu=\(cpu)"])]
    }
} else {
    #if arch(x86_64)
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
        .split(separator: " ").map(String.init) ?? [])
    if flags.contains("avx2") && flags.contains("fma") && flags.contains("bmi2") {
        tuning = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"]), .define("EDGE_FMA")]
        cTuning = [.unsafeFlags(["-march=x86-64-v3"])]
    }
    #endif
}

let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]
// `swift run edge-ctl --sim` builds the debug configuration, where unoptimized generic SIMD code would make
// training crawl, so the modules are optimized in debug builds too: -O without whole-module optimization
// (which SwiftPM debug builds reject), measured about 6x slower than release (400 steps: 11.9 s vs 2 s).
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
let settings = swift6 + tuning + optimizedInDebug
// The modules a control step goes through (EdgeIO, FirmwareSim, EdgeRuntime), in release builds:
//  - aggressive cross-module optimization, so their generic code (decoders, H-bridge, PWM over a chip
//    type) is specialized for the concrete chip and PWM types where it is used, not run through
//    witness tables and runtime metadata;
//  - no dynamic exclusivity checks (swift_beginAccess on every class property mutation).
// control_step measured 441 -> 345 ns with the first and -> 321 ns with both (bench, p50, same run).
// Debug builds keep the checks, and EDGE_CHECKED=1 keeps them in release (scripts/sanitize.sh sets it,
// so the sanitizer runs in CI still trap an exclusivity violation).
let hotPath: [SwiftSetting] = [.unsafeFlags(
    ["-cross-module-optimization"] + (environment["EDGE_CHECKED"] == "1" ? [] : ["-enforce-exclusivity=unchecked"]),
    .when(configuration: .release))]

let package = Package(
    name: "edge-ctl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "edge-ctl", targets: ["edge-ctl"]),
        .executable(name: "edge-core-check", targets: ["EdgeCoreCheck"]),
        .executable(name: "edge-ctl-board", targets: ["EdgeCtlBoard"]),
        .library(name: "EdgeCore", targets: ["EdgeCore"]),
        .library(name: "EdgeLearning", targets: ["EdgeLearning"]),
        .library(name: "EdgeIO", targets: ["EdgeIO"]),
        .library(name: "FirmwareSim", targets: ["FirmwareSim"]),
        .library(name: "EdgeRuntime", targets: ["EdgeRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Embedded-safe (DESIGN section 2): everything the board binary needs.
        .target(name: "CEdgeSys", cSettings: cTuning,
                linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux])),
                                 .linkedLibrary("dl", .when(platforms: [.linux])),
                                 .linkedLibrary("pthread", .when(platforms: [.linux]))]),
        .target(name: "EdgeCore", dependencies: ["CEdgeSys"], swiftSettings: settings),
        .target(name: "EdgeLearning", dependencies: ["EdgeCore", "CEdgeSys"], swiftSettings: settings),
        .target(name: "EdgeIO", dependencies: ["CEdgeSys", "EdgeCore"], swiftSettings: settings + hotPath),
        .target(name: "FirmwareSim", dependencies: ["EdgeIO", "EdgeCore", "CEdgeSys"], path: "firmware-sim",
                swiftSettings: settings + hotPath),
        .target(name: "EdgeRuntime",
                dependencies: ["EdgeCore", "EdgeLearning", "EdgeIO", "FirmwareSim", "CEdgeSys"],
                swiftSettings: settings + hotPath),
        .executableTarget(name: "EdgeCoreCheck", dependencies: ["EdgeCore"], swiftSettings: settings),
        .executableTarget(name: "EdgeCtlBoard",
                          dependencies: ["EdgeRuntime", "EdgeIO", "EdgeLearning", "EdgeCore", "FirmwareSim", "CEdgeSys"],
                          swiftSettings: settings),

        // Host only: Foundation and packages allowed.
        // Counting malloc interposer (glibc): only for the runtime tests and the host CLI, never linked
        // into every binary (it would fight a sanitizer's allocator).
        .target(name: "CEdgeAllocCounter", cSettings: cTuning),
        .executableTarget(name: "edge-ctl",
                          dependencies: ["EdgeRuntime", "CEdgeAllocCounter",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: settings),

        .testTarget(name: "EdgeCoreTests", dependencies: ["EdgeCore"], swiftSettings: settings),
        .testTarget(name: "EdgeLearningTests", dependencies: ["EdgeLearning"], swiftSettings: settings),
        .testTarget(name: "EdgeIOTests", dependencies: ["EdgeIO", "FirmwareSim"], swiftSettings: settings),
        .testTarget(name: "EdgeRuntimeTests", dependencies: ["EdgeRuntime", "CEdgeAllocCounter"],
                    swiftSettings: settings),
        .testTarget(name: "FirmwareSimTests", dependencies: ["FirmwareSim", "EdgeIO"], swiftSettings: settings),
    ]
)
