import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim

// The kernels of `KernelBench`, one class each. Every buffer is allocated in `init`; `call()` is the
// timed step and allocates nothing (the bench counts it).

// MARK: - policy_forward

/// One forward pass of `MLP<4, 64, 1, Tanh>` (the reference policy shape, batch 1). Each call's input
/// depends on the previous output, so calls cannot overlap: this is the latency a control loop sees.
public final class PolicyForwardWorkload: BenchWorkload {
    public let network: MLP<4, 64, 1, Tanh>
    /// The input of the next call (4 values).
    public let input: UnsafeMutablePointer<Float>
    var lastOutput: Float = 0

    public init(seed: UInt64) {
        var rng = RandomSource(seed: seed)
        network = MLP<4, 64, 1, Tanh>(rng: &rng)
        input = allocateFloats(4)
        for d in 0..<4 { input[d] = Float(d * 3 % 11) / 5.5 - 1 }
    }

    deinit { input.deallocate() }

    var includes: String {
        "one forward pass of MLP<4, 64, 1, Tanh> (4→64→64→1, batch 1, one sample's outputs in SIMD lanes); each call's input depends on the previous output (latency, not overlapped throughput)."
    }

    public var checkValue: Double { Double(lastOutput) }

    public func call() {
        let y = network.forward(input)
        lastOutput = y[0]
        input[0] = y[0] * 1e-3 + 0.25  // the data dependency
    }
}

// MARK: - control_step

/// One control step of the board's runtime (`ControlStep.run`) on the simulated pendulum board: poll
/// the encoder's edge events that arrived since the last poll (the last 1 ms of the 50 ms period:
/// read from the simulated kernel queue and decoded) and the e-stop, compute the observation (cos θ,
/// sin θ, θ̇ from the decoder), scale it by the observation bounds, run the policy mean (3→64→64→1
/// tanh), clip to the action bounds, run the safety filter (fault, e-stop, watchdog, NaN, clamp, slew
/// limit) and write the PWM duty cycle and direction line.
///
/// Untimed (`prepare`): the rig's physics for the period and the edges it emits, the simulated kernel's
/// interrupt work for them as time passes (on a board the kernel does it when each edge comes, not in
/// the application's read), and the sensor polls every 1 ms during the period that a real loop makes
/// while it waits for the deadline.
public final class ControlStepWorkload: BenchWorkload {
    public typealias IO = PendulumIO<SimChip, HardwarePWMDrive<SimPWMOutput>>
    public let plant: PendulumPlant
    public let step: ControlStep<IO>
    public let policy: GaussianPolicy<3, 1>
    let seed: UInt64
    var rng: RandomSource
    var periods = 0
    var episodes = 0

    public init(seed: UInt64) {
        self.seed = seed
        rng = RandomSource(seed: seed)
        do throws(LineError) {
            plant = try PendulumPlant(mode: .board)
            try plant.reset(seed: seed)
        } catch {
            fatalError("the simulated pendulum board could not be set up")
        }
        let periodNs = plant.controlPeriodNs
        let limits = SafetyLimits(actionCount: 1, low: -1, high: 1, maxRatePerSecond: Float(1e9 / Double(periodNs)))
        step = ControlStep(plant: plant.io, limits: limits, periodNs: periodNs)
        policy = GaussianPolicy<3, 1>(observationBounds: PendulumPlant.observationBounds, actionLow: [-1],
                                      actionHigh: [1], initialLogStd: 0, hiddenGain: 1, outputScale: 1,
                                      maxLanes: 0, rng: &rng)
    }

    var hasUntimedPreparation: Bool { true }

    var includes: String {
        "ControlStep.run on the simulated pendulum board: poll and decode the encoder edge events of the last 1 ms (kernel-queue read + quadrature decode) and the e-stop, observation (cos θ, sin θ, θ̇), normalization, policy mean 3→64→64→1 tanh, action clip, safety filter, PWM + direction write. Not timed: the rig's physics, the simulated kernel's interrupt work as its time passes (a kernel's, not the reader's), and the 1 ms polls during the 50 ms period."
    }

    /// The action that went to the actuators in the last step.
    public var checkValue: Double { Double(step.appliedAction[0]) }

    public func prepare() {
        let rig = plant.rig
        do throws(LineError) {
            if periods == PendulumPlant.episodeSteps {
                periods = 0
                episodes += 1
                try step.stopPlant()
                try plant.reset(seed: seed &+ UInt64(episodes))
            }
            rig.beginStep()
            let end = rig.stepEndNs
            var t = rig.board.clock.nowNs
            while t + sensorPollPeriodNs < end {
                t += sensorPollPeriodNs
                rig.advance(toNs: t)
                try plant.io.poll()
            }
            rig.endStep()
        } catch {
            fatalError("the simulated pendulum board failed between control steps")
        }
        periods += 1
    }

    public func call() {
        do throws(LineError) {
            try step.run(policy: policy, explore: false, rng: &rng, lateNs: 0)
        } catch {
            fatalError("the control step failed on the simulated board")
        }
    }
}

// MARK: - imagined_step

/// One imagined step of one rollout, one sample at a time: the policy samples an action for the
/// current state (scale, 3→64→64→1 tanh, Gaussian draw, clip), a uniformly drawn ensemble member
/// predicts the Gaussian over the state change (standardize, 4→64→64→6 SiLU, bounded log-variance),
/// a draw from it gives the next state (clipped to the data range ± 5%), and the reward model
/// (4→64→64→1 SiLU) scores (state, action). Every 25 steps (the horizon) the rollout restarts from a
/// dataset state, as branched imagination does.
public final class ImaginedStepWorkload: BenchWorkload {
    public let models: BenchModels
    let obs, action, x, inverseInputStd, inverseRewardStd: UnsafeMutablePointer<Float>
    var rng: RandomSource
    var t = 0
    var starts = 0
    var lastReward: Float = 0

    public init(seed: UInt64) {
        models = BenchModels(seed: seed, lanes: 0)
        rng = RandomSource(seed: seed &+ 1)
        obs = allocateFloats(3); action = allocateFloats(1); x = allocateFloats(4)
        inverseInputStd = allocateFloats(4); inverseRewardStd = allocateFloats(4)
        let d = models.dynamics.networks, r = models.reward.networks
        for i in 0..<4 { inverseInputStd[i] = 1 / d.inputStd[i]; inverseRewardStd[i] = 1 / r.inputStd[i] }
        restart()
    }

    deinit { for p in [obs, action, x, inverseInputStd, inverseRewardStd] { p.deallocate() } }

    var includes: String {
        "one rollout, one sample at a time: policy sample (3→64→64→1 tanh + Gaussian draw), one uniformly drawn member of the 5-member ensemble (4→64→64→6 SiLU) and a draw from its Gaussian, clip to the data range, reward model (4→64→64→1 SiLU)."
    }

    /// The reward model's output of the last step.
    public var checkValue: Double { Double(lastReward) }

    func restart() {
        let row = starts % models.buffer.count
        for d in 0..<3 { obs[d] = models.buffer.observation(row, d) }
        starts += 1
        t = 0
    }

    public func call() {
        let dynamics = models.dynamics.networks, rewardNetworks = models.reward.networks
        models.policy.act(obs, rng: &rng, into: action)
        let member = rng.nextInt(below: dynamics.members.count)
        let mean = dynamics.inputMean
        for d in 0..<3 { x[d] = (obs[d] - mean[d]) * inverseInputStd[d] }
        x[3] = (action[0] - mean[3]) * inverseInputStd[3]
        let y = dynamics.members[member].forward(x)
        let logVariance = dynamics.loss.boundedLogVariance(Vec(y[3], y[4], y[5], 0, 0, 0, 0, 0))
        let sigma = fastExp(Vec(repeating: 0.5) * logVariance)
        let rewardMean = rewardNetworks.inputMean
        for d in 0..<3 { x[d] = (obs[d] - rewardMean[d]) * inverseRewardStd[d] }
        x[3] = (action[0] - rewardMean[3]) * inverseRewardStd[3]
        lastReward = rewardNetworks.members[0].forward(x)[0] * rewardNetworks.targetStd[0] + rewardNetworks.targetMean[0]
        let targetStd = dynamics.targetStd, targetMean = dynamics.targetMean
        for d in 0..<3 {
            let change = (y[d] + sigma[d] * rng.nextGaussian()) * targetStd[d] + targetMean[d]
            obs[d] = min(max(obs[d] + change, models.stateLow[d]), models.stateHigh[d])
        }
        t += 1
        if t == models.hyperparameters.horizon { restart() }
    }
}

// MARK: - imagined_step_batched

/// The imagined step of `ImaginedStepWorkload` for the default 160 rollouts at once, one rollout per
/// SIMD lane: the policy (scale, batched 3→64→64→1 tanh, Gaussian draws, clip), the reward model
/// batched over all rollouts, and the ensemble with each rollout assigned a uniformly random member
/// per step, drawn as a random permutation of the rollouts split into 5 equal groups (stratified: every
/// member takes 32 rollouts, so each member runs once per step on a full batch with no wasted lanes),
/// gathered into the member's batch, run, sampled and scattered back. Steps are counted per rollout.
public final class BatchedImaginedStepWorkload: BenchWorkload {
    public let models: BenchModels
    public let rollouts: Int
    public let lanes: Int
    let groupLanes: Int
    var obs, next: UnsafeMutablePointer<Float>
    let input, u, logProb, plantAction, rewards, gathered, sigma: UnsafeMutablePointer<Float>
    let inverseInputStd: UnsafeMutablePointer<Float>
    let order: UnsafeMutablePointer<Int32>
    var rng: RandomSource
    var t = 0
    var starts = 0

    public init(seed: UInt64, rollouts: Int? = nil) {
        let count = rollouts ?? Hyperparameters().rollouts
        self.rollouts = count
        lanes = paddedToLanes(count)
        models = BenchModels(seed: seed, lanes: lanes)
        let k = models.dynamics.memberCount
        groupLanes = paddedToLanes((count + k - 1) / k)
        rng = RandomSource(seed: seed &+ 1)
        obs = allocateFloats(3 * lanes); next = allocateFloats(3 * lanes)
        input = allocateFloats(3 * lanes); u = allocateFloats(lanes); logProb = allocateFloats(lanes)
        plantAction = allocateFloats(lanes); rewards = allocateFloats(lanes)
        gathered = allocateFloats(4 * groupLanes); sigma = allocateFloats(3 * groupLanes)
        inverseInputStd = allocateFloats(4)
        for i in 0..<4 { inverseInputStd[i] = 1 / models.dynamics.networks.inputStd[i] }
        order = .allocate(capacity: lanes)
        for l in 0..<lanes { order[l] = Int32(l) }
        restart()
    }

    deinit {
        for p in [obs, next, input, u, logProb, plantAction, rewards, gathered, sigma, inverseInputStd] { p.deallocate() }
        order.deallocate()
    }

    var stepsPerCall: Int { rollouts }

    var includes: String {
        "per rollout, \(rollouts) rollouts in SIMD lanes: batched policy sample (3→64→64→1 tanh + Gaussian draws), batched reward model, each rollout's member of the 5-member ensemble drawn at random per step (a random permutation split into equal groups), gathered, run batched (4→64→64→6 SiLU), sampled, clipped and scattered back."
    }

    /// The mean reward of the last step's rollouts.
    public var checkValue: Double {
        var sum: Double = 0
        for l in 0..<rollouts { sum += Double(rewards[l]) }
        return sum / Double(rollouts)
    }

    func restart() {
        for l in 0..<lanes {
            let row = (starts + l) % models.buffer.count
            for d in 0..<3 { obs[d * lanes + l] = l < rollouts ? models.buffer.observation(row, d) : 0 }
        }
        starts += lanes
        t = 0
    }

    public func call() {
        let policy = models.policy, networks = models.dynamics.networks
        policy.scaleObservations(obs, into: input, lanes: lanes)
        policy.sample(input: input, count: rollouts, lanes: lanes, rng: &rng, actions: u, logProb: logProb)
        policy.plantActions(u, into: plantAction, lanes: lanes)
        models.reward.reward(obs: obs, action: plantAction, lanes: lanes, into: rewards)

        var i = rollouts - 1  // Fisher-Yates: the member groups
        while i > 0 {
            let j = rng.nextInt(below: i + 1)
            let swapped = order[i]; order[i] = order[j]; order[j] = swapped
            i -= 1
        }
        let k = networks.members.count, g = groupLanes
        let mean = networks.inputMean, targetStd = networks.targetStd, targetMean = networks.targetMean
        let loss = networks.loss
        for m in 0..<k {
            let first = m * rollouts / k, n = (m + 1) * rollouts / k - first
            for j in 0..<g {
                if j < n {
                    let l = Int(order[first + j])
                    for d in 0..<3 { gathered[d * g + j] = (obs[d * lanes + l] - mean[d]) * inverseInputStd[d] }
                    gathered[3 * g + j] = (plantAction[l] - mean[3]) * inverseInputStd[3]
                } else {
                    for d in 0..<4 { gathered[d * g + j] = 0 }
                }
            }
            let y = networks.members[m].forward(batch: gathered, lanes: g)
            for d in 0..<3 {
                var j = 0
                while j < g {
                    let logVariance = loss.boundedLogVariance(loadVec(y, (3 + d) * g + j))
                    storeVec(fastExp(Vec(repeating: 0.5) * logVariance), sigma, d * g + j)
                    j += vecWidth
                }
            }
            for j in 0..<n {
                let l = Int(order[first + j])
                for d in 0..<3 {
                    let change = (y[d * g + j] + sigma[d * g + j] * rng.nextGaussian()) * targetStd[d] + targetMean[d]
                    next[d * lanes + l] = min(max(obs[d * lanes + l] + change, models.stateLow[d]), models.stateHigh[d])
                }
            }
        }
        swap(&obs, &next)
        t += 1
        if t == models.hyperparameters.horizon { restart() }
    }
}

// MARK: - ppo_minibatch

/// One PPO minibatch of 64 samples with the default hyperparameters and the pendulum's shapes, through
/// `PPO.update` on 64 imagined steps (1 epoch, 1 minibatch): GAE over the 64 steps, the shuffle and
/// gather, advantage standardization, then the policy (3→64→64→1 tanh Gaussian with a
/// state-independent log-std: forward, clipped surrogate, backward, global gradient-norm clip, Adam)
/// and the value network (3→64→64→1 tanh: forward, squared error, backward, clip, Adam).
public final class PPOMinibatchWorkload: BenchWorkload {
    public let ppo: PPO<3, 1>
    public let rollouts: ImaginedRollouts<3, 1>
    var rng: RandomSource
    var lastLoss: Float = 0

    public init(seed: UInt64, batch: Int = 64) {
        var h = Hyperparameters()
        h.rollouts = batch
        h.horizon = 1
        h.minibatchSize = batch
        h.epochs = 1
        rng = RandomSource(seed: seed)
        ppo = PPO<3, 1>(observationBounds: BenchModels.observationBounds, actionLow: [-1], actionHigh: [1],
                        hyperparameters: h, rng: &rng)
        rollouts = ImaginedRollouts<3, 1>(count: batch, horizon: 1)
        let lanes = rollouts.lanes
        for row in 0..<2 {
            for l in 0..<lanes {
                let theta = rng.nextUniform(-Float.pi, Float.pi)
                let o = rollouts.observations + row * 3 * lanes
                o[l] = cosf(theta); o[lanes + l] = sinf(theta); o[2 * lanes + l] = rng.nextUniform(-8, 8)
                rollouts.values[row * lanes + l] = rng.nextUniform(-1, 1)
            }
        }
        let input = allocateFloats(3 * lanes)
        ppo.policy.scaleObservations(rollouts.observations, into: input, lanes: lanes)
        ppo.policy.sample(input: input, count: batch, lanes: lanes, rng: &rng, actions: rollouts.actions,
                          logProb: rollouts.logProbs)
        input.deallocate()
        for l in 0..<lanes {
            rollouts.rewards[l] = rng.nextUniform(-1.6, 0)
            rollouts.valid[l] = l < batch ? 1 : 0
        }
    }

    var includes: String {
        "PPO.update on 64 imagined steps, 1 epoch of 1 minibatch of 64: GAE, shuffle, gather, advantage standardization, policy 3→64→64→1 tanh Gaussian (forward, clipped surrogate, backward, grad-norm clip, Adam) and value 3→64→64→1 tanh (forward, squared error, backward, clip, Adam)."
    }

    /// The policy loss of the last minibatch.
    public var checkValue: Double { Double(lastLoss) }

    public func call() {
        let report = ppo.update(rollouts, rng: &rng)
        lastLoss = report.policyLoss
    }
}

// MARK: - dynamics_fit_minibatch

/// One fitting minibatch of 64 transitions for every member of the default dynamics ensemble (5 ×
/// 4→64→64→6 SiLU), as `RegressionEnsemble`'s training step does it: each member gathers its own 64
/// standardized rows, runs forward, the Gaussian NLL and its gradient, backward, and an AdamW step.
public final class DynamicsFitWorkload: BenchWorkload {
    public let models: BenchModels
    public let batch: Int
    let rawInputs, rawTargets, batchX, batchT, batchGrad, inverseInputStd, inverseTargetStd: UnsafeMutablePointer<Float>
    let rows: Int
    var rng: RandomSource
    var lastLoss: Double = 0

    public init(seed: UInt64, batch: Int = 64) {
        self.batch = batch
        models = BenchModels(seed: seed, lanes: 0)
        rng = RandomSource(seed: seed &+ 1)
        let buffer = models.buffer
        rows = buffer.count
        rawInputs = allocateFloats(rows * 4); rawTargets = allocateFloats(rows * 3)
        for r in 0..<rows {
            for d in 0..<3 {
                rawInputs[r * 4 + d] = buffer.observation(r, d)
                rawTargets[r * 3 + d] = buffer.nextObservation(r, d) - buffer.observation(r, d)
            }
            rawInputs[r * 4 + 3] = buffer.action(r, 0)
        }
        let lanes = paddedToLanes(batch)
        batchX = allocateFloats(4 * lanes); batchT = allocateFloats(3 * lanes); batchGrad = allocateFloats(6 * lanes)
        inverseInputStd = allocateFloats(4); inverseTargetStd = allocateFloats(3)
        let networks = models.dynamics.networks
        for i in 0..<4 { inverseInputStd[i] = 1 / networks.inputStd[i] }
        for j in 0..<3 { inverseTargetStd[j] = 1 / networks.targetStd[j] }
    }

    deinit {
        for p in [rawInputs, rawTargets, batchX, batchT, batchGrad, inverseInputStd, inverseTargetStd] { p.deallocate() }
    }

    var includes: String {
        "one minibatch of 64 for each of the 5 ensemble members (4→64→64→6 SiLU): gather + standardize, forward, Gaussian NLL and its gradient, backward, AdamW."
    }

    /// The summed NLL of the last minibatch over the members.
    public var checkValue: Double { lastLoss }

    public func call() {
        let networks = models.dynamics.networks
        let lanes = paddedToLanes(batch)
        let inputMean = networks.inputMean, targetMean = networks.targetMean
        var loss: Double = 0
        for m in 0..<networks.members.count {
            for l in 0..<lanes {
                guard l < batch else {
                    for i in 0..<4 { batchX[i * lanes + l] = 0 }
                    for j in 0..<3 { batchT[j * lanes + l] = 0 }
                    continue
                }
                let r = rng.nextInt(below: rows)
                for i in 0..<4 { batchX[i * lanes + l] = (rawInputs[r * 4 + i] - inputMean[i]) * inverseInputStd[i] }
                for j in 0..<3 { batchT[j * lanes + l] = (rawTargets[r * 3 + j] - targetMean[j]) * inverseTargetStd[j] }
            }
            let net = networks.members[m]
            let y = net.forward(batch: batchX, lanes: lanes)
            let sums = networks.loss.evaluate(output: y, target: batchT, targets: 3, lanes: lanes, valid: batch,
                                              gradient: batchGrad, squaredErrorPerTarget: nil)
            loss += sums.loss
            net.parameters.zeroGrads()
            net.backward(batch: batchX, outputGrad: batchGrad, lanes: lanes)
            networks.optimizers[m].step()
        }
        lastLoss = loss
    }
}
