import EdgeCore
import EdgeIO
import EdgeLearning

/// A policy's weights in plain arrays, for `edge-ctl export --policy` (documented in the README):
/// action = clip(W3ᵀ tanh(W2ᵀ tanh(W1ᵀ (obs / bounds) + b1) + b2) + b3, −1, 1) for the deterministic
/// policy; exploration adds N(0, exp(logStd)²). Weights are input-major: `weights[i][o]` feeds input i
/// into output o.
public struct PolicyWeights {
    public struct Layer {
        public var inputs: Int
        public var outputs: Int
        public var weights: [[Float]]
        public var bias: [Float]
    }
    public var rig: RigKind
    public var observationBounds: [Float]
    public var layers: [Layer]
    public var logStd: [Float]
}

func layerWeights<let In: Int, let Out: Int>(_ d: Dense<In, Out>) -> PolicyWeights.Layer {
    PolicyWeights.Layer(inputs: In, outputs: Out,
                        weights: (0..<In).map { i in (0..<Out).map { o in d.weight(i, o) } },
                        bias: (0..<Out).map { d.b[$0] })
}

/// Reads the policy of `directory`'s checkpoint (any rig) into plain arrays.
public func exportPolicy(directory: String, rig: RigKind) throws(TrainingError) -> PolicyWeights {
    struct Read: SimTrainerVisitor {
        let path: String
        func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
            _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>) throws(TrainingError) -> PolicyWeights {
            let policy = trainer.agent.policy
            do throws(FileError) {
                try trainer.agent.restorePolicy(from: CheckpointReader(try Checkpoint.read(from: path), path: path))
            } catch {
                throw .file(error)
            }
            let net = policy.meanNetwork
            return PolicyWeights(rig: Plant.kind, observationBounds: Plant.observationBounds,
                                 layers: [layerWeights(net.l1), layerWeights(net.l2), layerWeights(net.l3)],
                                 logStd: (0..<Act).map { policy.logStd.values[$0] })
        }
    }
    return try withSimTrainer(rig: rig, knownReward: true, options: TrainingOptions(),
                              hyperparameters: Hyperparameters(),
                              Read(path: DataDirectory(path: directory).checkpointPath))
}

/// The transitions of `directory`'s log as CSV text (header: obs_0.., action_0.., reward, next_obs_0..,
/// terminal, episode).
public func exportTransitionsCSV(directory: String) throws(FileError) -> String {
    let path = DataDirectory(path: directory).transitionsPath
    let info = try RecordLog.inspect(path: path)
    guard let shape = TransitionRecord.decode(schema: info.schema) else {
        throw FileError(path: path, operation: "read", code: 0, detail: "unknown record schema \(info.schema)")
    }
    let n = shape.observations, m = shape.actions
    var header: [String] = []
    for d in 0..<n { header.append("obs_\(d)") }
    for d in 0..<m { header.append("action_\(d)") }
    header.append("reward")
    for d in 0..<n { header.append("next_obs_\(d)") }
    header += ["terminal", "episode"]
    var text = header.joined(separator: ",") + "\n"
    let bytes = try FileHandle(path: path, mode: .read).readAll()
    // A record's size must match what its schema says: a damaged or foreign header must give an error,
    // never a read past the record (found by scripts/fuzz.sh, log target).
    let expectedSize = TransitionRecord.size(observations: n, actions: m)
    var badRecord: (index: Int, size: Int)? = nil
    var index = 0
    _ = try RecordLog.scan(bytes, path: path, expectedSchema: info.schema) { payload in
        defer { index += 1 }
        guard badRecord == nil else { return }
        guard payload.count == expectedSize else { badRecord = (index, payload.count); return }
        var fields: [String] = []
        for i in 0..<(2 * n + m + 1) {
            fields.append(formatFloat(Float(bitPattern: payload.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)), digits: 9))
        }
        let tail = 4 * (2 * n + m + 1)
        fields.append(payload[tail] != 0 ? "1" : "0")
        fields.append("\(payload.loadUnaligned(fromByteOffset: tail + 1, as: UInt32.self))")
        text += fields.joined(separator: ",") + "\n"
    }
    if let badRecord {
        throw FileError(path: path, operation: "read", code: 0,
                        detail: "record \(badRecord.index) holds \(badRecord.size) bytes, but the log's schema (\(n) observations, \(m) actions) makes records of \(expectedSize) bytes: the log's header or records are damaged")
    }
    return text
}
