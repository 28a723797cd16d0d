import CEdgeSys
import EdgeCore

/// The machine a benchmark ran on: CPU model, cores, architecture, build configuration, SIMD path and
/// the cost of one clock reading.
public struct MachineInfo: Sendable {
    /// "AMD EPYC 7B13", "Raspberry Pi 4 Model B Rev 1.4 (Cortex-A72)", or "unknown CPU".
    public var cpuModel: String
    /// Online CPUs.
    public var cores: Int
    public var architecture: String
    /// "release" or "debug" (`#if DEBUG`; the modules are optimized in debug builds too).
    public var buildConfiguration: String
    /// EdgeCore's `simdPath`.
    public var simdPath: String
    /// Median nanoseconds between two back-to-back CLOCK_MONOTONIC readings.
    public var clockOverheadNs: Double

    /// One line: "AMD EPYC 7B13, 2 cores, x86_64, release build".
    public var summary: String {
        cpuModel + ", \(cores) cores, " + architecture + ", " + buildConfiguration + " build"
    }

    /// The machine this process runs on.
    public static func current() -> MachineInfo {
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        #if arch(x86_64)
        let architecture = "x86_64"
        #elseif arch(arm64)
        let architecture = "aarch64"
        #else
        let architecture = "other"
        #endif
        return MachineInfo(cpuModel: cpuModel(cpuinfo: readProcFile("/proc/cpuinfo")),
                           cores: Int(edge_rt_cpu_count()), architecture: architecture,
                           buildConfiguration: build, simdPath: EdgeCore.simdPath, clockOverheadNs: measureClockOverhead())
    }

    /// The CPU model named in a /proc/cpuinfo text: x86's "model name"; on ARM boards the "Model" line
    /// (Raspberry Pi OS) and the core from "CPU part" (0xd03 Cortex-A53, 0xd08 Cortex-A72, 0xd0b
    /// Cortex-A76, ...). "unknown CPU" when neither is there (macOS, a sandbox without /proc).
    public static func cpuModel(cpuinfo: String) -> String {
        var modelName: String? = nil, boardModel: String? = nil, part: String? = nil
        for line in cpuinfo.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = trimmed(line[..<colon]), value = trimmed(line[line.index(after: colon)...])
            if key == "model name" && modelName == nil { modelName = value }
            if key == "Model" && boardModel == nil { boardModel = value }
            if key == "CPU part" && part == nil { part = value }
        }
        if let modelName, !modelName.isEmpty { return modelName }
        let core: String? = part.map { part in
            switch part {
            case "0xd03": return "Cortex-A53"
            case "0xd04": return "Cortex-A35"
            case "0xd05": return "Cortex-A55"
            case "0xd07": return "Cortex-A57"
            case "0xd08": return "Cortex-A72"
            case "0xd09": return "Cortex-A73"
            case "0xd0a": return "Cortex-A75"
            case "0xd0b": return "Cortex-A76"
            case "0xd0c": return "Neoverse-N1"
            case "0xd40": return "Neoverse-V1"
            case "0xd49": return "Neoverse-N2"
            default: return "ARM part " + part
            }
        }
        switch (boardModel, core) {
        case let (board?, core?): return board + " (" + core + ")"
        case let (board?, nil): return board
        case let (nil, core?): return core
        default: return "unknown CPU"
        }
    }

    static func trimmed(_ text: Substring) -> String {
        var start = text.startIndex, end = text.endIndex
        while start < end, text[start] == " " || text[start] == "\t" { start = text.index(after: start) }
        while end > start, text[text.index(before: end)] == " " || text[text.index(before: end)] == "\t" {
            end = text.index(before: end)
        }
        return String(text[start..<end])
    }

    /// Reads a /proc file (whose size reads as 0, so read until end of file); "" when it cannot.
    static func readProcFile(_ path: String) -> String {
        let fd = path.withCString { edge_file_open_read($0) }
        guard fd >= 0 else { return "" }
        defer { _ = edge_file_close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var offset: Int64 = 0
        while bytes.count < 1 << 20 {
            let got = chunk.withUnsafeMutableBytes { raw in edge_file_pread(fd, raw.baseAddress!, raw.count, offset) }
            if got <= 0 { break }
            bytes += chunk[0..<Int(got)]
            offset += got
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Median of 1,001 back-to-back clock readings' differences.
    static func measureClockOverhead() -> Double {
        var differences = [Int64](repeating: 0, count: 1_001)
        for i in 0..<differences.count {
            let a = edge_monotonic_ns()
            let b = edge_monotonic_ns()
            differences[i] = b - a
        }
        differences.sort()
        return Double(differences[differences.count / 2])
    }
}
