import Testing
import EdgeIO
import FirmwareSim

/// Sensors decoding the rigs' edges through the full pipeline (H-bridge → simulated PWM and
/// direction line → physics → encoder edges on the simulated chip → decoder), against the true state.
@Suite("Rig encoders")
struct RigEncoderTests {
    typealias Drive = HardwarePWMDrive<SimPWMOutput>

    @Test("pendulum: angle within one count and velocity within 2% over 400 steps of random torques")
    func pendulum() throws {
        let rig = PendulumRig()
        rig.reset(seed: 11)
        let io = try PendulumIO(chip: rig.board.chip, pwm: try Drive(output: rig.board.pwm),
                                pins: SimBoardPins.plantPins(for: .pendulum))
        try io.home(angle: rig.theta)
        let count = 2 * Double.pi / Double(PendulumRig.defaultCountsPerRevolution)
        var random = SimRandom(seed: 5)
        var worstAngle = 0.0, worstSpeed = 0.0, checkedSpeeds = 0
        var action: Float = 0
        for _ in 0..<400 {
            action = Float(random.uniform(-1, 1))
            try withUnsafePointer(to: action) { try io.act(UnsafeBufferPointer(start: $0, count: 1)) }
            try rig.step(pollEveryNs: 2_000_000) { () throws(LineError) in try io.poll() }
            worstAngle = max(worstAngle, abs(io.encoder.position - rig.theta))
            if abs(rig.thetaDot) >= 1 {
                let speed = io.encoder.velocity(nowNs: rig.board.clock.nowNs)
                worstSpeed = max(worstSpeed, abs(speed - rig.thetaDot) / abs(rig.thetaDot))
                checkedSpeeds += 1
            }
        }
        #expect(worstAngle <= count)
        #expect(worstSpeed <= 0.02)
        #expect(checkedSpeeds > 200)
        #expect(io.health.isHealthy)
        #expect(abs(rig.torque - 2 * Double(action)) < 1e-3)
    }

    @Test("motor: velocity within 2% of the true speed at steady duties in both directions")
    func motorSteadySpeeds() throws {
        let rig = MotorRig()
        rig.reset(seed: 1)
        let io = try MotorIO(chip: rig.board.chip, pwm: try Drive(output: rig.board.pwm),
                             pins: SimBoardPins.plantPins(for: .motor), maxSpeed: MotorRig.maxSpeed)
        try io.home()
        let count = 2 * Double.pi / Double(MotorRig.defaultCountsPerRevolution)
        for duty in [0.15, 0.4, 0.9, -0.6] {
            var action = Float(duty)
            try withUnsafePointer(to: &action) { try io.act(UnsafeBufferPointer(start: $0, count: 1)) }
            for _ in 0..<60 { try rig.step(pollEveryNs: 1_000_000) { () throws(LineError) in try io.poll() } }
            for _ in 0..<10 {
                try rig.step(pollEveryNs: 1_000_000) { () throws(LineError) in try io.poll() }
                let speed = io.encoder.velocity(nowNs: rig.board.clock.nowNs)
                #expect(abs(speed - rig.speed) <= 0.02 * abs(rig.speed), "duty \(duty)")
                #expect(abs(io.encoder.position - rig.angle) <= count)
            }
            #expect(abs(rig.speed) > 20, "the motor turns at duty \(duty)")
        }
        #expect(io.health.isHealthy)
    }

    @Test("motor: at duty 0.4 the shaft settles near the speed the DC motor equations give")
    func motorSteadyStateSpeed() throws {
        let rig = MotorRig(options: RigOptions(mode: .ideal))
        rig.reset(current: 0, speed: 0, angle: 0, setPoint: 0)
        rig.setAction(0.4)
        for _ in 0..<100 { rig.step() }
        // Steady state: Kt i = b ω + Tc (tanh ≈ 1), V a = R i + Ke ω.
        let v = MotorRig.supplyVoltage * 0.4
        let expected = (MotorRig.torqueConstant * v / MotorRig.resistance - MotorRig.coulombFriction)
            / (MotorRig.viscousFriction + MotorRig.torqueConstant * MotorRig.backEMFConstant / MotorRig.resistance)
        #expect(abs(rig.speed - expected) < 1e-3 * expected)
        #expect(abs(rig.current - (v - MotorRig.backEMFConstant * rig.speed) / MotorRig.resistance) < 1e-6)
    }

    @Test("cart-pole: cart and pole positions within one count and the switches seen at the rail ends")
    func cartPole() throws {
        let rig = CartPoleRig()
        rig.reset(seed: 4)
        let io = try CartPoleIO(chip: rig.board.chip, pwm: try Drive(output: rig.board.pwm),
                                pins: SimBoardPins.plantPins(for: .cartpole))
        try io.home(cartPosition: rig.x, poleAngle: rig.theta)
        let poleCount = 2 * Double.pi / Double(CartPoleRig.poleCountsPerRevolution)
        let cartCount = 1 / CartPoleRig.cartCountsPerMeter
        var worstPole = 0.0, worstCart = 0.0, farthest = 0.0
        var refusals = 0
        for step in 0..<60 {
            var action: Float = step < 30 ? Float(step % 6 < 3 ? 0.8 : -0.8) : 1.0  // swing, then run right
            try withUnsafePointer(to: &action) { try io.act(UnsafeBufferPointer(start: $0, count: 1)) }
            if io.health.limitRightActive {
                // Pushing into the pressed right limit is refused; pulling away is allowed.
                #expect(io.motor.command == (action > 0 ? 0 : Double(action)))
                if action > 0 { refusals += 1 }
            }
            try rig.step(pollEveryNs: 2_000_000) { () throws(LineError) in try io.poll() }
            worstPole = max(worstPole, abs(io.pole.position - rig.theta))
            worstCart = max(worstCart, abs(io.cart.position - rig.x))
            farthest = max(farthest, rig.x)
            if rig.x > CartPoleRig.switchPosition + 0.01 { #expect(io.health.limitRightActive) }
            if rig.x < CartPoleRig.switchPosition - 0.01 { #expect(!io.health.limitRightActive) }
        }
        #expect(worstPole <= poleCount)
        #expect(worstCart <= cartCount)
        #expect(farthest > CartPoleRig.switchPosition)
        #expect(refusals > 0)
        #expect(!io.pole.faults.any && !io.cart.faults.any, "\(io.pole.faults) \(io.cart.faults)")
    }

    @Test("cart-pole ideal mode: hanging at rest stays at rest, and a push moves the cart that way")
    func cartPolePhysics() {
        let rig = CartPoleRig(options: RigOptions(mode: .ideal))
        rig.reset(x: 0, xDot: 0, thetaDot: 0, theta: 0)
        rig.setAction(0)
        for _ in 0..<10 { rig.step() }
        #expect(rig.x == 0 && rig.theta == 0 && rig.lastReward < -0.98)
        rig.setAction(1)
        rig.step()
        #expect(rig.x > 0.05 && rig.xDot > 0.5)
        #expect(rig.theta < 0, "the pole lags behind the cart")
    }
}
