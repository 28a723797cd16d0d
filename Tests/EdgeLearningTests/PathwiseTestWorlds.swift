import EdgeCore
import EdgeLearning
import Foundation

/// Gymnasium's Pendulum-v1 (`Pendulum` in DynamicsPendulumSupport.swift) as a differentiable world on
/// observations (cos θ, sin θ, θ̇) and torque actions, with its exact vector-Jacobian product:
///   θ = atan2(sin, cos),  ω' = clip(ω + (15 sin θ + 3 u) 0.05, ±8),  θ' = θ + 0.05 ω',
///   next = (cos θ', sin θ', ω'),  r = −(θ² + 0.1 ω² + 0.001 u²),  u = clip(torque, ±2).
/// One member, no model noise.
final class ExactPendulumWorld: DifferentiableWorldModel {
    let maxLanes = 256
    var observationCount: Int { 3 }
    var actionCount: Int { 1 }
    var memberCount: Int { 1 }
    // Per lane of the last step.
    var theta: [Double] = [], omega: [Double] = [], torque: [Double] = [], nextTheta: [Double] = []
    var radiusSquared: [Double] = [], cosine: [Double] = [], sine: [Double] = []
    var speedClipped: [Bool] = [], torqueClipped: [Bool] = []

    func step(member: Int, obs: UnsafePointer<Float>, action: UnsafePointer<Float>, noise: UnsafePointer<Float>,
              lanes: Int, nextObs: UnsafeMutablePointer<Float>, reward: UnsafeMutablePointer<Float>) {
        theta = []; omega = []; torque = []; nextTheta = []; radiusSquared = []; cosine = []; sine = []
        speedClipped = []; torqueClipped = []
        for l in 0..<lanes {
            let c = Double(obs[l]), s = Double(obs[lanes + l]), w = Double(obs[2 * lanes + l])
            let th = atan2(s, c), a = Double(action[l]), u = min(max(a, -2), 2)
            let rawSpeed = w + (15 * sin(th) + 3 * u) * 0.05
            let w1 = min(max(rawSpeed, -8), 8)
            let th1 = th + 0.05 * w1
            nextObs[l] = Float(cos(th1)); nextObs[lanes + l] = Float(sin(th1)); nextObs[2 * lanes + l] = Float(w1)
            reward[l] = Float(-(th * th + 0.1 * w * w + 0.001 * u * u))
            theta.append(th); omega.append(w); torque.append(u); nextTheta.append(th1)
            radiusSquared.append(c * c + s * s); cosine.append(c); sine.append(s)
            speedClipped.append(abs(rawSpeed) > 8); torqueClipped.append(abs(a) > 2)
        }
    }

    func backward(nextObsGrad: UnsafePointer<Float>, rewardGrad: UnsafePointer<Float>?, lanes: Int,
                  obsGrad: UnsafeMutablePointer<Float>, actionGrad: UnsafeMutablePointer<Float>) {
        for l in 0..<lanes {
            let gc = Double(nextObsGrad[l]), gs = Double(nextObsGrad[lanes + l]), gw = Double(nextObsGrad[2 * lanes + l])
            let gr = rewardGrad.map { Double($0[l]) } ?? 0
            let dNextTheta = -sin(nextTheta[l]) * gc + cos(nextTheta[l]) * gs
            let dNextSpeed = speedClipped[l] ? 0 : gw + 0.05 * dNextTheta
            let dTheta = dNextTheta + dNextSpeed * 0.75 * cos(theta[l]) - 2 * theta[l] * gr
            let dSpeed = dNextSpeed - 0.2 * omega[l] * gr
            let dTorque = torqueClipped[l] ? 0 : dNextSpeed * 0.15 - 0.002 * torque[l] * gr
            obsGrad[l] = Float(-sine[l] / radiusSquared[l] * dTheta)
            obsGrad[lanes + l] = Float(cosine[l] / radiusSquared[l] * dTheta)
            obsGrad[2 * lanes + l] = Float(dSpeed)
            actionGrad[l] = Float(dTorque)
        }
    }
}

/// A one-dimensional linear-Gaussian world: s' = 0.9 s + 0.2 a + 0.1 ξ, r = −(s − 0.5)² − 0.1 a².
final class LinearGaussianWorld: DifferentiableWorldModel {
    let maxLanes = 256
    var observationCount: Int { 1 }
    var actionCount: Int { 1 }
    var memberCount: Int { 1 }
    var lastObs: [Float] = [], lastAction: [Float] = []

    func step(member: Int, obs: UnsafePointer<Float>, action: UnsafePointer<Float>, noise: UnsafePointer<Float>,
              lanes: Int, nextObs: UnsafeMutablePointer<Float>, reward: UnsafeMutablePointer<Float>) {
        lastObs = Array(UnsafeBufferPointer(start: obs, count: lanes))
        lastAction = Array(UnsafeBufferPointer(start: action, count: lanes))
        for l in 0..<lanes {
            nextObs[l] = 0.9 * obs[l] + 0.2 * action[l] + 0.1 * noise[l]
            reward[l] = -(obs[l] - 0.5) * (obs[l] - 0.5) - 0.1 * action[l] * action[l]
        }
    }

    func backward(nextObsGrad: UnsafePointer<Float>, rewardGrad: UnsafePointer<Float>?, lanes: Int,
                  obsGrad: UnsafeMutablePointer<Float>, actionGrad: UnsafeMutablePointer<Float>) {
        for l in 0..<lanes {
            let gr = rewardGrad?[l] ?? 0
            obsGrad[l] = 0.9 * nextObsGrad[l] - 2 * (lastObs[l] - 0.5) * gr
            actionGrad[l] = 0.2 * nextObsGrad[l] - 0.2 * lastAction[l] * gr
        }
    }
}

/// A transition buffer holding the given observations (one row each; actions, rewards, next states 0).
func bufferOfStates<let Obs: Int>(_ states: [[Float]]) -> TransitionBuffer<Obs, 1> {
    let buffer = TransitionBuffer<Obs, 1>(capacity: states.count, holdoutFraction: 0)
    for s in states { buffer.append(obs: s, action: [0], reward: 0, nextObs: s) }
    return buffer
}

/// The learned pendulum models of a short fit on random-torque data, with the buffer they were fitted on.
func fittedPendulumModels(seed: UInt64) -> (PendulumBuffer, PendulumDynamics, PendulumRewardModel) {
    var h = ModelHyperparameters()
    h.dynamicsFit.maxStepsPerFit = 200
    h.rewardFit.maxStepsPerFit = 200
    let buffer = ExactPendulum.randomPolicyBuffer(episodes: 3, seed: seed)
    var rng = RandomSource(seed: seed &+ 1)
    let dynamics = PendulumDynamics(hyperparameters: h, rng: &rng)
    let reward = PendulumRewardModel(hyperparameters: h, rng: &rng)
    _ = dynamics.fit(buffer: buffer, rng: &rng)
    _ = reward.fit(buffer: buffer, rng: &rng)
    return (buffer, dynamics, reward)
}

/// A pendulum policy (observation bounds 1, 1, 8; actions in [lo, hi]) from `seed`.
func pendulumPolicy(seed: UInt64, logStd: Float, outputScale: Float, actionBound: Float = 1) -> GaussianPolicy<3, 1> {
    var rng = RandomSource(seed: seed)
    return GaussianPolicy<3, 1>(observationBounds: [1, 1, 8], actionLow: [-actionBound], actionHigh: [actionBound],
                                initialLogStd: logStd, hiddenGain: 1, outputScale: outputScale, maxLanes: 64,
                                rng: &rng)
}
