import EdgeIO
import EdgeRuntime

/// The data directory flags shared by `info`, `eval`, `export` (and `run` later), as on the host
/// (Sources/edge-ctl/DataOptions.swift): `--data DIR`, else the latest run of `--rig`.
enum DataOptions {
    static let options: [OptionSpec] = [
        .option("--data", "data", "Data directory of a run (default: the latest run of --rig under $XDG_STATE_HOME/edge-ctl)."),
        .option("--rig", "rig", "Rig whose latest run to use when --data is not given: pendulum, motor or cartpole. (default: pendulum)"),
    ]

    static let rigs: [(name: String, value: RigKind)] = RigKind.allCases.map { ($0.rawValue, $0) }

    /// `--rig`, checked even when `--data` makes it unused (the host rejects a bad value either way).
    static func rig(_ arguments: ParsedArguments) throws(CommandFailure) -> RigKind {
        try arguments.choice("--rig", default: RigKind.pendulum, from: rigs)
    }

    /// The directory to read, or a one-line error saying there is none.
    static func directory(_ arguments: ParsedArguments) throws(CommandFailure) -> String {
        let rig = try rig(arguments)
        if let data = arguments.string("--data") { return data }
        let root = DataDirectory.defaultRoot()
        guard let latest = DataDirectory.latestRun(root: root, rig: rig) else {
            throw CommandFailure("error: no \(rig.rawValue) run under \(root): train one first (edge-ctl --sim) or pass --data DIR")
        }
        return latest
    }

    /// What the directory holds; damage gives an error naming the file.
    static func summary(_ arguments: ParsedArguments) throws(CommandFailure) -> DataSummary {
        let path = try directory(arguments)
        let summary: DataSummary
        do { summary = try DataDirectory(path: path).summary() } catch { throw CommandFailure("error: " + error.message) }
        guard summary.rig != nil else {
            throw CommandFailure("error: \(path) holds no edge-ctl run (no transitions.log or checkpoint.bin)")
        }
        return summary
    }
}
