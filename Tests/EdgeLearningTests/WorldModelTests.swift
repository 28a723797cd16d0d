import EdgeCore
import EdgeLearning
import Foundation
import Testing

/// Steps `model` `steps` times from obs (in place), the way imagination uses it: only through the
/// protocol. Returns the rewards and disagreements of the last step.
func stepThroughProtocol<W: WorldModel>(_ model: W, obs: inout [Float], action: [Float], lanes: Int, steps: Int,
                            rng: inout RandomSource) -> (reward: [Float], disagreement: [Float]) {
    var next = [Float](repeating: 0, count: obs.count)
    var reward = [Float](repeating: 0, count: lanes), disagreement = reward
    for _ in 0..<steps {
        model.step(obs: obs, action: action, lanes: lanes, rng: &rng, nextObs: &next, reward: &reward,
                   disagreement: &disagreement)
        swap(&obs, &next)
    }
    return (reward, disagreement)
}

@Suite("World model")
struct WorldModelTests {
    static func models(seed: UInt64) -> (PendulumBuffer, PendulumDynamics, PendulumRewardModel) {
        let buffer = PendulumBuffer(capacity: 600)
        Pendulum.randomTransitions(600, seed: seed, into: buffer)
        var rng = RandomSource(seed: seed + 1)
        let dynamics = PendulumDynamics(rng: &rng)
        let reward = PendulumRewardModel(rng: &rng)
        _ = dynamics.fit(buffer: buffer, rng: &rng)
        _ = reward.fit(buffer: buffer, rng: &rng)
        return (buffer, dynamics, reward)
    }

    /// Bit patterns of every parameter value and gradient of every network.
    static func parameterBits(_ dynamics: PendulumDynamics, _ reward: PendulumRewardModel) -> [UInt32] {
        var bits: [UInt32] = []
        for store in dynamics.networks.members.map(\.parameters) + [reward.networks.members[0].parameters] {
            for i in 0..<store.count { bits.append(store.values[i].bitPattern); bits.append(store.grads[i].bitPattern) }
        }
        return bits
    }

    @Test("imagined steps through the protocol leave every parameter and gradient of f_psi and r_phi unchanged")
    func stepIsForwardOnly() {
        let (buffer, dynamics, rewardModel) = Self.models(seed: 31)
        let world = LearnedWorldModel(dynamics: dynamics, reward: rewardModel)
        #expect(world.observationCount == 3 && world.actionCount == 1 && world.maxLanes == 256)
        let before = Self.parameterBits(dynamics, rewardModel)
        var rng = RandomSource(seed: 32)
        var obs = [Float](repeating: 0, count: 3 * 160)
        buffer.sample(count: 160, lanes: 160, rng: &rng, obs: &obs)
        let action = (0..<160).map { Float($0 % 9) / 2 - 2 }
        _ = stepThroughProtocol(world, obs: &obs, action: action, lanes: 160, steps: 25, rng: &rng)
        #expect(Self.parameterBits(dynamics, rewardModel) == before)
    }

    @Test("a step returns the learned reward of (obs, action), or the rig's known reward when one is supplied")
    func rewardSource() {
        let (buffer, dynamics, rewardModel) = Self.models(seed: 33)
        let batch = PendulumBatch(holdoutOf: buffer)
        var rng = RandomSource(seed: 34)
        var next = [Float](repeating: 0, count: 3 * batch.lanes)
        var reward = [Float](repeating: 0, count: batch.lanes), disagreement = reward, expected = reward

        LearnedWorldModel(dynamics: dynamics, reward: rewardModel)
            .step(obs: batch.obs, action: batch.action, lanes: batch.lanes, rng: &rng, nextObs: &next,
                  reward: &reward, disagreement: &disagreement)
        rewardModel.reward(obs: batch.obs, action: batch.action, lanes: batch.lanes, into: &expected)
        #expect(reward == expected)

        LearnedWorldModel(dynamics: dynamics, reward: PendulumReward())
            .step(obs: batch.obs, action: batch.action, lanes: batch.lanes, rng: &rng, nextObs: &next,
                  reward: &reward, disagreement: &disagreement)
        for l in 0..<batch.count { #expect(abs(reward[l] - batch.reward[l]) < 1e-4 * (1 + abs(batch.reward[l]))) }
    }

    @Test("sampled next states match the ensemble mixture's mean and spread, and are deterministic for a seed")
    func samplingMatchesMixture() {
        let (buffer, dynamics, _) = Self.models(seed: 35)
        // One held-out state and torque repeated in all 256 lanes.
        let row = buffer.holdoutRow(3), lanes = 256
        var obs = [Float](repeating: 0, count: 3 * lanes)
        for d in 0..<3 { for l in 0..<lanes { obs[d * lanes + l] = buffer.observation(row, d) } }
        let action = [Float](repeating: buffer.action(row, 0), count: lanes)
        // The mixture of the members' Gaussians (equal weights): mean and variance per dimension.
        var mixtureMean = [Double](repeating: 0, count: 3), secondMoment = mixtureMean
        var mean = [Float](repeating: 0, count: 3 * lanes), std = mean
        for m in 0..<dynamics.memberCount {
            dynamics.predict(member: m, obs: obs, action: action, lanes: lanes, nextObsMean: &mean, nextObsStd: &std)
            for d in 0..<3 {
                let mu = Double(mean[d * lanes]), sigma = Double(std[d * lanes])
                mixtureMean[d] += mu / Double(dynamics.memberCount)
                secondMoment[d] += (mu * mu + sigma * sigma) / Double(dynamics.memberCount)
            }
        }
        var rng = RandomSource(seed: 36), replay = RandomSource(seed: 36)
        var next = [Float](repeating: 0, count: 3 * lanes), again = next
        var sum = [Double](repeating: 0, count: 3), sumSquares = sum
        let draws = 40
        for _ in 0..<draws {
            dynamics.sampleNext(obs: obs, action: action, lanes: lanes, rng: &rng, into: &next)
            dynamics.sampleNext(obs: obs, action: action, lanes: lanes, rng: &replay, into: &again)
            #expect(next == again)
            for d in 0..<3 {
                for l in 0..<lanes { let v = Double(next[d * lanes + l]); sum[d] += v; sumSquares[d] += v * v }
            }
        }
        let n = Double(draws * lanes)
        for d in 0..<3 {
            let variance = secondMoment[d] - mixtureMean[d] * mixtureMean[d]
            let sampleMean = sum[d] / n, sampleVariance = sumSquares[d] / n - sampleMean * sampleMean
            // 10,240 draws: the mean is within 4 standard errors, the variance within 15%.
            #expect(abs(sampleMean - mixtureMean[d]) < 4 * (variance / n).squareRoot(), "dimension \(d)")
            #expect(abs(sampleVariance / variance - 1) < 0.15, "dimension \(d)")
        }
    }

    @Test("imagined states stay within the data's observation range widened by 5% on each side")
    func imaginedStatesAreClipped() {
        let (buffer, dynamics, rewardModel) = Self.models(seed: 37)
        let world = LearnedWorldModel(dynamics: dynamics, reward: rewardModel)
        var rng = RandomSource(seed: 38)
        var obs = [Float](repeating: 0, count: 3 * 64)
        buffer.sample(count: 64, lanes: 64, rng: &rng, obs: &obs)
        // Half the lanes start spinning 5 rad/s faster than anything in the data, either way.
        let high = buffer.observationHigh(2), low = buffer.observationLow(2)
        for l in 0..<32 { obs[128 + l] = l % 2 == 0 ? high + 5 : low - 5 }
        _ = stepThroughProtocol(world, obs: &obs, action: [Float](repeating: 0, count: 64), lanes: 64, steps: 1, rng: &rng)
        var atBound = 0
        for d in 0..<3 {
            let low = buffer.observationLow(d), high = buffer.observationHigh(d), margin = 0.05 * (high - low)
            for l in 0..<64 {
                let v = obs[d * 64 + l]
                #expect(v >= low - margin && v <= high + margin, "dimension \(d) lane \(l)")
                if d == 2 && (v == low - margin || v == high + margin) { atBound += 1 }
            }
        }
        #expect(atBound >= 30)
    }
}
