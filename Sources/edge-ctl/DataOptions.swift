import ArgumentParser
import EdgeIO
import EdgeRuntime

/// The data directory flags shared by `info`, `eval`, `run` and `export`.
struct DataOptions: ParsableArguments {
    @Option(help: "Data directory of a run (default: the latest run of --rig under $XDG_STATE_HOME/edge-ctl).")
    var data: String?

    @Option(help: "Rig whose latest run to use when --data is not given: pendulum, motor or cartpole.")
    var rig: RigKind = .pendulum

    /// The directory to read, or a one-line error saying there is none.
    func directory() throws -> String {
        if let data { return data }
        let root = DataDirectory.defaultRoot()
        guard let latest = DataDirectory.latestRun(root: root, rig: rig) else {
            throw RuntimeError("no \(rig.rawValue) run under \(root): train one first (edge-ctl --sim) or pass --data DIR")
        }
        return latest
    }

    /// The summary of the directory; damage gives an error naming the file.
    func summary() throws -> DataSummary {
        let path = try directory()
        do {
            let s = try DataDirectory(path: path).summary()
            guard s.rig != nil || s.externalObservations != nil else { throw RuntimeError("\(path) holds no edge-ctl run (no transitions.log or checkpoint.bin)") }
            return s
        } catch let error as FileError {
            throw RuntimeError(error.message)
        }
    }
}
