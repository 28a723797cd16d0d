import CEdgeSys
import EdgeIO

/// Where a run keeps what must survive it: `transitions.log` (every real transition, append-only) and
/// `checkpoint.bin` (everything learned, replaced atomically after each iteration).
public struct DataDirectory {
    public let path: String

    public init(path: String) { self.path = path }

    public var transitionsPath: String { FileSystem.join(path, "transitions.log") }
    public var checkpointPath: String { FileSystem.join(path, "checkpoint.bin") }

    public var hasCheckpoint: Bool { FileSystem.exists(checkpointPath) }

    /// `$XDG_STATE_HOME/edge-ctl`, else `$HOME/.local/state/edge-ctl`, else `./edge-ctl-data`.
    public static func defaultRoot() -> String {
        if let state = environment("XDG_STATE_HOME"), !state.isEmpty { return FileSystem.join(state, "edge-ctl") }
        if let home = environment("HOME"), !home.isEmpty { return FileSystem.join(home, ".local/state/edge-ctl") }
        return "edge-ctl-data"
    }

    /// Creates and returns `root/<rig>/run-NNN` for the first NNN not yet used. The directory is made
    /// with an exclusive mkdir, so runs started at the same moment never share one and a new run never
    /// touches an old one.
    public static func newRun(root: String, rig: RigKind) throws(FileError) -> String {
        try FileSystem.createDirectory(FileSystem.join(root, rig.rawValue))
        var n = 1
        while true {
            let path = runPath(root: root, rig: rig, number: n)
            let rc = path.withCString { edge_dir_make($0) }
            if rc == 0 { return path }
            if rc != -17 { throw FileError(path: path, operation: "create directory", code: -rc) }  // 17: EEXIST
            n += 1
        }
    }

    /// The directory a `train` run uses: `data` if given; else with `resume` the latest run of `rig`;
    /// else a new run directory. Errors are one line (nothing to resume, cannot create).
    public static func forTraining(data: String?, resume: Bool, rig: RigKind) throws(FileError) -> String {
        let root = defaultRoot()
        if let data {
            if resume && !FileSystem.exists(data) {
                throw FileError(path: data, operation: "resume", code: 0, detail: "nothing to resume: the directory does not exist")
            }
            return data
        }
        if resume {
            guard let latest = latestRun(root: root, rig: rig) else {
                throw FileError(path: root, operation: "resume", code: 0, detail: "nothing to resume: no \(rig.rawValue) run here")
            }
            return latest
        }
        return try newRun(root: root, rig: rig)
    }

    /// The highest-numbered existing run of `rig` under `root`, if any.
    public static func latestRun(root: String, rig: RigKind) -> String? {
        var n = 1
        var latest: String? = nil
        while FileSystem.exists(runPath(root: root, rig: rig, number: n)) {
            latest = runPath(root: root, rig: rig, number: n)
            n += 1
        }
        return latest
    }

    static func runPath(root: String, rig: RigKind, number: Int) -> String {
        let digits = number < 10 ? "00\(number)" : number < 100 ? "0\(number)" : "\(number)"
        return FileSystem.join(FileSystem.join(root, rig.rawValue), "run-" + digits)
    }

    static func environment(_ name: String) -> String? {
        guard let value = name.withCString({ edge_getenv($0) }) else { return nil }
        return String(cString: value)
    }
}

/// The record layout of `transitions.log`: obs, action, reward, next obs (little-endian Float32),
/// terminal flag (u8), episode (u32).
public enum TransitionRecord {
    /// Identifies the record layout: format version, rig and sizes, so a log is never read as another rig's.
    public static func schema(rig: RigKind, observations: Int, actions: Int) -> UInt32 {
        let rigCode: UInt32 = rig == .pendulum ? 1 : rig == .motor ? 2 : 3
        return 0x0100_0000 | rigCode << 16 | UInt32(observations) << 8 | UInt32(actions)
    }

    /// The schema of an external plant's log (rig code 4): the sizes come from the plant's handshake.
    public static func externalSchema(observations: Int, actions: Int) -> UInt32 {
        0x0100_0000 | 4 << 16 | UInt32(observations) << 8 | UInt32(actions)
    }

    /// The sizes an external plant's schema stands for, or nil for any other schema.
    public static func decodeExternal(schema: UInt32) -> (observations: Int, actions: Int)? {
        guard schema >> 24 == 1, (schema >> 16) & 0xFF == 4 else { return nil }
        return (Int((schema >> 8) & 0xFF), Int(schema & 0xFF))
    }

    public static func encode(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, reward: Float,
                              nextObs: UnsafePointer<Float>, terminal: Bool, episode: Int,
                              observations: Int, actions: Int) -> [UInt8] {
        var w = ByteWriter(capacity: 4 * (2 * observations + actions + 1) + 5)
        for d in 0..<observations { w.f32(obs[d]) }
        for d in 0..<actions { w.f32(action[d]) }
        w.f32(reward)
        for d in 0..<observations { w.f32(nextObs[d]) }
        w.u8(terminal ? 1 : 0)
        w.u32(UInt32(truncatingIfNeeded: episode))
        return w.bytes
    }

    public static func size(observations: Int, actions: Int) -> Int { 4 * (2 * observations + actions + 1) + 5 }

    /// The rig and sizes a schema stands for, or nil for a schema this build does not write.
    public static func decode(schema: UInt32) -> (rig: RigKind, observations: Int, actions: Int)? {
        guard schema >> 24 == 1 else { return nil }
        let rig: RigKind
        switch (schema >> 16) & 0xFF {
        case 1: rig = .pendulum
        case 2: rig = .motor
        case 3: rig = .cartpole
        default: return nil
        }
        return (rig, Int((schema >> 8) & 0xFF), Int(schema & 0xFF))
    }
}

/// What a data directory holds (`edge-ctl info`), read without changing anything.
public struct DataSummary {
    public var path = ""
    public var rig: RigKind? = nil
    /// For a run on an external plant (`--plant`): its observation and action sizes; nil for a rig.
    public var externalObservations: Int? = nil
    public var externalActions: Int? = nil
    public var datasetRecords = 0
    public var tornTailBytes = 0
    public var hasCheckpoint = false
    public var checkpointIteration = 0
    public var checkpointSeed: UInt64 = 0
    public var checkpointRealSteps = 0
    public var evaluationMean: Double? = nil
    public var evaluationStd: Double? = nil
    public var checkpointBytes = 0
    public init() {}
}

extension DataDirectory {
    /// Reads the log and checkpoint fully (CRCs checked); any damage is an error naming the file.
    public func summary() throws(FileError) -> DataSummary {
        var s = DataSummary()
        s.path = path
        if FileSystem.exists(transitionsPath) {
            let log = try RecordLog.inspect(path: transitionsPath)
            if let shape = TransitionRecord.decodeExternal(schema: log.schema) {
                (s.externalObservations, s.externalActions) = (shape.observations, shape.actions)
                s.datasetRecords = log.records
                s.tornTailBytes = log.tornBytes
            } else {
                guard let decoded = TransitionRecord.decode(schema: log.schema) else {
                    throw FileError(path: transitionsPath, operation: "read", code: 0, detail: "unknown record schema \(log.schema)")
                }
                s.rig = decoded.rig
                s.datasetRecords = log.records
                s.tornTailBytes = log.tornBytes
            }
        }
        if hasCheckpoint {
            let bytes = try FileHandle(path: checkpointPath, mode: .read).readAll()
            let r = CheckpointReader(try Checkpoint.decode(bytes, path: checkpointPath), path: checkpointPath)
            s.hasCheckpoint = true
            s.checkpointBytes = bytes.count
            let schema = UInt32(truncatingIfNeeded: try r.integer("run.rig"))
            if let shape = TransitionRecord.decodeExternal(schema: schema) {
                if s.rig != nil { throw r.failure("is for an external plant but the transitions are from a rig") }
                (s.externalObservations, s.externalActions) = (shape.observations, shape.actions)
            } else {
                guard let decoded = TransitionRecord.decode(schema: schema) else {
                    throw r.failure("names an unknown rig")
                }
                if let rig = s.rig, rig != decoded.rig {
                    throw r.failure("is for the \(decoded.rig.rawValue) rig but the transitions are from the \(rig.rawValue) rig")
                }
                if s.externalObservations != nil {
                    throw r.failure("is for the \(decoded.rig.rawValue) rig but the transitions are from an external plant")
                }
                s.rig = decoded.rig
            }
            s.checkpointIteration = Int(try r.integer("run.iteration"))
            s.checkpointSeed = UInt64(bitPattern: try r.integer("run.seed"))
            let steps = try r.integers("curve.realSteps")
            s.checkpointRealSteps = Int(steps.last ?? 0)
            s.evaluationMean = try r.doubles("curve.evalMean").last
            s.evaluationStd = try r.doubles("curve.evalStd").last
        }
        return s
    }
}
