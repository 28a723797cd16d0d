import Testing
import EdgeIO
import FirmwareSim

/// How the learning code runs an episode on a simulated rig: observations from the sensors,
/// evaluation from the true state. Also checks that the two observations agree.
@Suite("Episode through the sensors")
struct EpisodeExampleTests {
    /// Runs `steps` steps of any rig with its PlantIO under `policy`; returns the true return and
    /// the largest gap between the sensor and true observations (per component) after `gapsAfter` steps.
    func episode<R: Rig, IO: PlantIO>(rig: R, io: IO, steps: Int, pollEveryNs: Int64, gapsAfter: Int = 0,
                                      policy: (UnsafeMutableBufferPointer<Float>) -> Float) throws -> (Double, [Float]) {
        let observation = UnsafeMutableBufferPointer<Float>.allocate(capacity: R.observationSize)
        let truth = UnsafeMutableBufferPointer<Float>.allocate(capacity: R.observationSize)
        defer { observation.deallocate(); truth.deallocate() }
        var gaps = [Float](repeating: 0, count: R.observationSize)
        var total = 0.0
        for step in 0..<steps {
            io.observe(into: observation)                       // s_t from the sensors
            var action = policy(observation)                    // a_t
            try withUnsafePointer(to: &action) { try io.act(UnsafeBufferPointer(start: $0, count: 1)) }
            try rig.step(pollEveryNs: pollEveryNs) { () throws(LineError) in try io.poll() }
            total += rig.lastReward                             // r_t from the true state
            io.observe(into: observation)
            rig.trueObservation(into: truth)
            if step >= gapsAfter {
                for k in gaps.indices { gaps[k] = max(gaps[k], abs(observation[k] - truth[k])) }
            }
        }
        return (total, gaps)
    }

    @Test("pendulum: sensor observations track the true ones (cos, sin within a count, speed within 0.1 rad/s)")
    func pendulum() throws {
        let rig = PendulumRig()
        rig.reset(seed: 42)
        let io = try PendulumIO(chip: rig.board.chip, pwm: try HardwarePWMDrive(output: rig.board.pwm),
                                pins: SimBoardPins.plantPins(for: .pendulum))
        try io.home(angle: rig.theta)
        // Energy pumping: push along the speed.
        let (total, gaps) = try episode(rig: rig, io: io, steps: 200, pollEveryNs: 2_000_000) { $0[2] >= 0 ? 1 : -1 }
        let count = Float(2 * Double.pi / 2048)
        #expect(gaps[0] <= count && gaps[1] <= count)
        #expect(gaps[2] <= 0.1)
        #expect(total < 0 && total > -200 * 17)  // each step's reward is in [-16.3, 0]
        #expect(io.health.isHealthy)
    }

    @Test("motor: feed-forward plus proportional control on sensed speed holds the set-point within 2%")
    func motor() throws {
        let rig = MotorRig()
        rig.reset(seed: 8)
        let io = try MotorIO(chip: rig.board.chip, pwm: try HardwarePWMDrive(output: rig.board.pwm),
                             pins: SimBoardPins.plantPins(for: .motor), maxSpeed: MotorRig.maxSpeed)
        try io.home()
        io.setPoint = rig.setPoint
        // Duty for a speed: back-EMF share plus the friction share (about 0.07), then proportional.
        let (_, gaps) = try episode(rig: rig, io: io, steps: 150, pollEveryNs: 1_000_000, gapsAfter: 100) { obs in
            let friction: Float = obs[1] >= 0 ? 0.07 : -0.07
            return obs[1] + friction + 8 * (obs[1] - obs[0])
        }
        #expect(abs(rig.speed - rig.setPoint) < 0.02 * abs(rig.setPoint))
        #expect(rig.lastReward > -0.02)
        #expect(gaps[0] <= 0.005 && gaps[1] == 0, "steady-state sensed speed within 0.5% of full scale")
    }

    @Test("cart-pole: sensor observations track the true ones through a swing")
    func cartPole() throws {
        let rig = CartPoleRig()
        rig.reset(seed: 2)
        let io = try CartPoleIO(chip: rig.board.chip, pwm: try HardwarePWMDrive(output: rig.board.pwm),
                                pins: SimBoardPins.plantPins(for: .cartpole))
        try io.home(cartPosition: rig.x, poleAngle: rig.theta)
        var step = 0
        // Shake the cart to swing the pole, with a PD term on the sensed cart state to stay mid-rail.
        let (total, gaps) = try episode(rig: rig, io: io, steps: 40, pollEveryNs: 2_000_000) { obs in
            step += 1
            return (step % 8 < 4 ? 0.4 : -0.4) - 1.0 * obs[0] - 0.5 * obs[1]
        }
        #expect(rig.endStopHits == 0)
        #expect(gaps[0] <= 0.001 && gaps[3] <= 0.002 && gaps[4] <= 0.002)  // x within a count, angle within ~1.5 counts
        #expect(gaps[1] <= 0.1 && gaps[2] <= 0.3)  // speeds lag half the 10 ms window under acceleration
        #expect(total < 0 && total > -40)
        #expect(!io.health.encoder.any && !io.health.cartEncoder.any)
    }
}
