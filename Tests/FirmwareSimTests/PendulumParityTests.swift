import Testing
import FirmwareSim

/// PendulumRig in ideal mode against Pendulum-v1 trajectories from scripts/reference/pendulum_reference.py.
@Suite("Pendulum-v1 parity")
struct PendulumParityTests {
    /// Runs the rig through `torques` from `start`; returns the largest error in θ, θ̇ and reward.
    func maxErrors(start: (theta: Double, thetaDot: Double), torques: [Double], theta: [Double],
                   thetaDot: [Double], reward: [Double]) -> (Double, Double, Double) {
        let rig = PendulumRig(options: RigOptions(mode: .ideal))
        rig.reset(theta: start.theta, thetaDot: start.thetaDot)
        var errors = (0.0, 0.0, 0.0)
        for step in torques.indices {
            rig.setAction(torques[step] / PendulumRig.maxTorque)
            rig.step()
            errors.0 = max(errors.0, abs(rig.theta - theta[step]))
            errors.1 = max(errors.1, abs(rig.thetaDot - thetaDot[step]))
            errors.2 = max(errors.2, abs(rig.lastReward - reward[step]))
        }
        return errors
    }

    @Test("random torques from a Pendulum-v1 reset match the reference within 1e-4 per step for 200 steps")
    func randomTorques() {
        #expect(PendulumReferenceFixture.randomTorquesTorques.count == 200)
        let (theta, thetaDot, reward) = maxErrors(
            start: PendulumReferenceFixture.randomTorquesStart, torques: PendulumReferenceFixture.randomTorquesTorques,
            theta: PendulumReferenceFixture.randomTorquesTheta, thetaDot: PendulumReferenceFixture.randomTorquesThetaDot,
            reward: PendulumReferenceFixture.randomTorquesReward)
        #expect(theta < 1e-4)
        #expect(thetaDot < 1e-4)
        #expect(reward < 1e-4)
    }

    @Test("energy pumping that hits the 8 rad/s clip and torques beyond 2 match the reference within 1e-4")
    func pumping() {
        #expect(PendulumReferenceFixture.pumpingThetaDot.filter { abs($0) == PendulumRig.maxSpeed }.count > 10)
        #expect(PendulumReferenceFixture.pumpingTorques.contains { abs($0) > PendulumRig.maxTorque })
        let (theta, thetaDot, reward) = maxErrors(
            start: PendulumReferenceFixture.pumpingStart, torques: PendulumReferenceFixture.pumpingTorques,
            theta: PendulumReferenceFixture.pumpingTheta, thetaDot: PendulumReferenceFixture.pumpingThetaDot,
            reward: PendulumReferenceFixture.pumpingReward)
        #expect(theta < 1e-4)
        #expect(thetaDot < 1e-4)
        #expect(reward < 1e-4)
    }

    @Test("angle wrapping follows numpy's floored modulo into [-pi, pi)")
    func wrapping() {
        #expect(wrapAngle(Double.pi) == -Double.pi)
        #expect(abs(wrapAngle(3 * Double.pi / 2) - (-Double.pi / 2)) < 1e-15)
        #expect(abs(wrapAngle(-3 * Double.pi / 2) - Double.pi / 2) < 1e-15)
        #expect(abs(wrapAngle(57.526485) - (57.526485 - 18 * Double.pi)) < 1e-12)
    }
}
