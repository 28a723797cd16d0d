import EdgeCore
import EdgeLearning

/// Reads typed entries back out of a decoded checkpoint; every missing or mis-sized entry is an error
/// that names the file and the entry (a checkpoint from another rig or build is refused, not misread).
public struct CheckpointReader {
    public let checkpoint: Checkpoint
    public let path: String

    public init(_ checkpoint: Checkpoint, path: String) {
        self.checkpoint = checkpoint
        self.path = path
    }

    func failure(_ what: String) -> FileError {
        FileError(path: path, operation: "read", code: 0, detail: "checkpoint " + what)
    }

    public func floats(_ name: String, count: Int) throws(FileError) -> [Float] {
        guard let v = checkpoint.floats(name) else { throw failure("has no entry '\(name)'") }
        guard v.count == count else { throw failure("entry '\(name)' holds \(v.count) values, this build expects \(count)") }
        return v
    }

    public func integer(_ name: String) throws(FileError) -> Int64 {
        guard let v = checkpoint.integer(name) else { throw failure("has no entry '\(name)'") }
        return v
    }

    public func integers(_ name: String) throws(FileError) -> [Int64] {
        guard case .integers(let v)? = checkpoint.get(name) else { throw failure("has no entry '\(name)'") }
        return v
    }

    public func doubles(_ name: String) throws(FileError) -> [Double] {
        guard let v = checkpoint.doubles(name) else { throw failure("has no entry '\(name)'") }
        return v
    }

    /// Copies `count` floats of entry `name` into `p`.
    public func restore(_ name: String, into p: UnsafeMutablePointer<Float>, count: Int) throws(FileError) {
        let v = try floats(name, count: count)
        v.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: count) }
    }

    public func restore(_ name: String, into store: ParameterStore) throws(FileError) {
        try restore(name, into: store.values, count: store.count)
    }

    public func restore(_ name: String, into adam: Adam) throws(FileError) {
        try restore(name + ".m", into: adam.firstMoments, count: adam.store.count)
        try restore(name + ".v", into: adam.secondMoments, count: adam.store.count)
        adam.restore(steps: Int(try integer(name + ".steps")))
    }
}

extension Checkpoint {
    public mutating func put(_ name: String, store: ParameterStore) {
        put(name, floats: store.values, count: store.count)
    }

    public mutating func put(_ name: String, adam: Adam) {
        put(name + ".m", floats: adam.firstMoments, count: adam.store.count)
        put(name + ".v", floats: adam.secondMoments, count: adam.store.count)
        put(name + ".steps", .integers([Int64(adam.steps)]))
    }

    mutating func put<let In: Int, let Out: Int, Loss: RegressionLoss>(
        _ name: String, ensemble e: RegressionEnsemble<In, Out, Loss>
    ) {
        for (k, member) in e.members.enumerated() {
            put("\(name).\(k)", store: member.parameters)
            put("\(name).\(k).adam", adam: e.optimizers[k])
        }
        put(name + ".inputMean", floats: e.inputMean, count: In)
        put(name + ".inputStd", floats: e.inputStd, count: In)
        put(name + ".targetMean", floats: e.targetMean, count: e.targetCount)
        put(name + ".targetStd", floats: e.targetStd, count: e.targetCount)
    }
}

extension CheckpointReader {
    func restore<let In: Int, let Out: Int, Loss: RegressionLoss>(
        _ name: String, ensemble e: RegressionEnsemble<In, Out, Loss>
    ) throws(FileError) {
        for (k, member) in e.members.enumerated() {
            try restore("\(name).\(k)", into: member.parameters)
            try restore("\(name).\(k).adam", into: e.optimizers[k])
        }
        let inMean = try floats(name + ".inputMean", count: In), inStd = try floats(name + ".inputStd", count: In)
        let outMean = try floats(name + ".targetMean", count: e.targetCount)
        let outStd = try floats(name + ".targetStd", count: e.targetCount)
        e.setStandardization(inputMean: inMean, inputStd: inStd, targetMean: outMean, targetStd: outStd)
    }
}

extension Agent {
    /// Everything learned: policy, value, their optimizers, the dynamics ensemble and reward model with
    /// their optimizers and standardization.
    public func save(into c: inout Checkpoint) {
        c.put("shape", .integers([Int64(Obs), Int64(Act)]))
        c.put("policy.mean", store: ppo.policy.meanNetwork.parameters)
        c.put("policy.logStd", store: ppo.policy.logStd)
        c.put("value", store: ppo.value.network.parameters)
        c.put("policy.mean.adam", adam: ppo.meanOptimizer)
        c.put("policy.logStd.adam", adam: ppo.logStdOptimizer)
        c.put("value.adam", adam: ppo.valueOptimizer)
        c.put("dynamics", ensemble: dynamics.networks)
        if let rewardModel { c.put("reward", ensemble: rewardModel.networks) }
    }

    /// Restores what `save` wrote; throws naming the file and entry if anything is missing or sized for
    /// another plant.
    public func restore(from r: CheckpointReader) throws(FileError) {
        let shape = try r.integers("shape")
        guard shape == [Int64(Obs), Int64(Act)] else {
            throw r.failure("is for observations of \(shape.first ?? 0) and actions of \(shape.last ?? 0) values, this rig has \(Obs) and \(Act)")
        }
        try r.restore("policy.mean", into: ppo.policy.meanNetwork.parameters)
        try r.restore("policy.logStd", into: ppo.policy.logStd)
        try r.restore("value", into: ppo.value.network.parameters)
        try r.restore("policy.mean.adam", into: ppo.meanOptimizer)
        try r.restore("policy.logStd.adam", into: ppo.logStdOptimizer)
        try r.restore("value.adam", into: ppo.valueOptimizer)
        try r.restore("dynamics", ensemble: dynamics.networks)
        if let rewardModel { try r.restore("reward", ensemble: rewardModel.networks) }
    }

    /// Restores only the policy (for `run` and `eval`, which need no models).
    public func restorePolicy(from r: CheckpointReader) throws(FileError) {
        try r.restore("policy.mean", into: ppo.policy.meanNetwork.parameters)
        try r.restore("policy.logStd", into: ppo.policy.logStd)
    }
}
