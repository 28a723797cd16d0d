import CEdgeSys
import EdgeIO

/// Cart-pole swing-up with PILCO's constants and ODE (Deisenroth's dynamics_cp.m): pole length
/// l = 0.5 m and mass m = 0.5 kg, cart mass M = 0.5 kg, friction b = 0.1 N/(m/s), g = 9.82 m/s²,
/// dt = 0.1 s, force u = 10 a N with a in [-1, 1]. θ = 0 hangs down, θ = π is upright.
///     ẍ = (2 m l θ̇² sin θ + 3 m g sin θ cos θ + 4 u - 4 b ẋ) / (4 (M + m) - 3 m cos² θ)
///     θ̈ = (-3 m l θ̇² sin θ cos θ - 6 (M + m) g sin θ - 6 (u - b ẋ) cos θ) / (4 l (M + m) - 3 m l cos² θ)
/// integrated with RK4 over 40 substeps of 2.5 ms per step (encoder edges interpolated linearly
/// within a substep). The rail: end stops at ±1.2 m stop the cart dead (inelastic); limit switches close at
/// ±1.1 m. Encoders: 2048 counts per revolution on the pole, 1000 counts per meter (1 mm) on the cart.
/// Reward (after the step): PILCO's saturating cost, -(1 - exp(-d² / (2 · 0.25²))), d the distance
/// of the pole tip from the upright tip over x = 0: d² = (x + l sin θ)² + (l + l cos θ)².
/// True state (PILCO's order): [x, ẋ, θ̇, θ]. Observation: [x, ẋ, θ̇, sin θ, cos θ].
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class CartPoleRig: Rig {
    public static let kind = RigKind.cartpole
    public static let observationSize = 5
    public static let actionSize = 1
    public static let stateSize = 4

    public static let poleLength = 0.5
    public static let poleMass = 0.5
    public static let cartMass = 0.5
    public static let friction = 0.1
    public static let gravity = 9.82
    public static let dt = 0.1
    public static let maxForce = 10.0
    public static let substeps = 40
    /// Rail end stops (m): mid-count on the cart scale, so a cart resting against a stop does not sit
    /// on an encoder edge (1.2 m plus half a count).
    public static let endStop = 1.2 + 0.5 / cartCountsPerMeter
    public static let switchPosition = 1.1
    public static let costWidth = 0.25
    public static let poleCountsPerRevolution = 2048
    public static let cartCountsPerMeter = 1000.0

    public let controlPeriodNs: Int64 = 100_000_000
    public let board: RigBoard
    @exclusivity(unchecked) public private(set) var stepEndNs: Int64
    @exclusivity(unchecked) public private(set) var lastReward = 0.0
    @exclusivity(unchecked) public private(set) var x = 0.0
    @exclusivity(unchecked) public private(set) var xDot = 0.0
    @exclusivity(unchecked) public private(set) var thetaDot = 0.0
    @exclusivity(unchecked) public private(set) var theta = 0.0
    /// Force applied during the current or last step (N).
    @exclusivity(unchecked) public private(set) var force = 0.0
    /// Substeps that ended with the cart against an end stop since the last reset.
    @exclusivity(unchecked) public private(set) var endStopHits = 0

    @exclusivity(unchecked) var directAction = 0.0
    @exclusivity(unchecked) var stepStartNs: Int64 = 0
    @exclusivity(unchecked) var substepsDone = 0
    @exclusivity(unchecked) var inStep = false

    /// Encoder 0 is the pole (shaft encoder lines), encoder 1 the cart; switch 0 left, 1 right.
    public init(options: RigOptions = RigOptions()) {
        board = RigBoard(options: options)
        board.addEncoder(SimEncoderTrack(a: SimBoardPins.encoderA, b: SimBoardPins.encoderB,
                                         countsPerUnit: Double(Self.poleCountsPerRevolution) / (2 * Double.pi)))
        board.addEncoder(SimEncoderTrack(a: SimBoardPins.cartEncoderA, b: SimBoardPins.cartEncoderB,
                                         countsPerUnit: Self.cartCountsPerMeter))
        board.addSwitch(SimSwitchTrack(line: SimBoardPins.limitLeft, threshold: -Self.switchPosition, activeAbove: false))
        board.addSwitch(SimSwitchTrack(line: SimBoardPins.limitRight, threshold: Self.switchPosition, activeAbove: true))
        stepEndNs = board.clock.nowNs + controlPeriodNs
        reset(x: 0, xDot: 0, thetaDot: 0, theta: 0)
    }

    /// PILCO's start distribution: each state component normal with mean 0 and deviation 0.1.
    public func reset(seed: UInt64) {
        var random = SimRandom(seed: seed)
        let x = 0.1 * random.normal()
        let xDot = 0.1 * random.normal()
        let thetaDot = 0.1 * random.normal()
        reset(x: x, xDot: xDot, thetaDot: thetaDot, theta: 0.1 * random.normal())
    }

    public func reset(state: UnsafeBufferPointer<Double>) {
        reset(x: state[0], xDot: state[1], thetaDot: state[2], theta: state[3])
    }

    public func reset(x: Double, xDot: Double, thetaDot: Double, theta: Double) {
        self.x = min(max(x, -Self.endStop), Self.endStop)
        self.xDot = xDot
        self.thetaDot = thetaDot
        self.theta = theta
        force = 0
        lastReward = 0
        endStopHits = 0
        inStep = false
        board.clearTransients()
        board.placeEncoder(0, at: theta)
        board.placeEncoder(1, at: self.x)
        board.placeSwitch(0, at: self.x)
        board.placeSwitch(1, at: self.x)
        stepEndNs = board.clock.nowNs + controlPeriodNs
    }

    /// Encoder counts at the current state (pole, cart): what homed decoders should read.
    public var poleCount: Int64 { Int64((theta * board.encoders[0].countsPerUnit).rounded(.down)) }
    public var cartCount: Int64 { Int64((x * board.encoders[1].countsPerUnit).rounded(.down)) }

    public func setAction(_ action: UnsafeBufferPointer<Double>) {
        directAction = action[0]
    }

    public func beginStep() {
        stepStartNs = board.clock.nowNs
        stepEndNs = stepStartNs + controlPeriodNs
        board.beginStep(atNs: stepStartNs)
        let raw = board.mode == .ideal ? directAction : board.actuatorCommand()
        force = Self.maxForce * (raw.isFinite ? min(max(raw, -1), 1) : 0)
        substepsDone = 0
        inStep = true
    }

    public func advance(toNs timeNs: Int64) {
        let target = min(timeNs, stepEndNs)
        while true {
            let substepEnd = substepEndNs(substepsDone)
            board.emit(upTo: min(target, substepEnd))
            if target <= substepEnd && substepsDone > 0 || substepsDone == Self.substeps { break }
            integrateSubstep()
        }
        board.advanceClock(to: target)
    }

    public func endStep() {
        if !inStep { beginStep() }
        advance(toNs: stepEndNs)
        let l = Self.poleLength
        let dx = x + l * sin(theta)
        let dy = l + l * cos(theta)
        let width = Self.costWidth
        lastReward = -(1 - exp(-(dx * dx + dy * dy) / (2 * width * width)))
        inStep = false
    }

    public func trueState(into state: UnsafeMutableBufferPointer<Double>) {
        state[0] = x
        state[1] = xDot
        state[2] = thetaDot
        state[3] = theta
    }

    public func trueObservation(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(x)
        observation[1] = Float(xDot)
        observation[2] = Float(thetaDot)
        observation[3] = Float(sin(theta))
        observation[4] = Float(cos(theta))
    }

    // MARK: Physics

    func substepEndNs(_ done: Int) -> Int64 {
        stepStartNs + controlPeriodNs * Int64(done) / Int64(Self.substeps)
    }

    /// PILCO's ODE: (ẍ, θ̈) at (ẋ, θ̇, θ) under force `u`.
    @inline(__always)
    func accelerations(xDot: Double, thetaDot: Double, theta: Double, u: Double) -> (Double, Double) {
        let l = Self.poleLength, m = Self.poleMass, mc = Self.cartMass, b = Self.friction, g = Self.gravity
        let s = sin(theta), c = cos(theta)
        let xAcc = (2 * m * l * thetaDot * thetaDot * s + 3 * m * g * s * c + 4 * u - 4 * b * xDot)
            / (4 * (mc + m) - 3 * m * c * c)
        let thetaAcc = (-3 * m * l * thetaDot * thetaDot * s * c - 6 * (mc + m) * g * s - 6 * (u - b * xDot) * c)
            / (4 * l * (m + mc) - 3 * m * l * c * c)
        return (xAcc, thetaAcc)
    }

    /// One RK4 substep of z = (x, ẋ, θ̇, θ), then the end stops; encoders and switches sweep linearly.
    func integrateSubstep() {
        let h = Self.dt / Double(Self.substeps)
        let u = force
        let x0 = x, v0 = xDot, w0 = thetaDot, t0 = theta
        let (a1, e1) = accelerations(xDot: v0, thetaDot: w0, theta: t0, u: u)
        let v2 = v0 + 0.5 * h * a1, w2 = w0 + 0.5 * h * e1, t2 = t0 + 0.5 * h * w0
        let (a2, e2) = accelerations(xDot: v2, thetaDot: w2, theta: t2, u: u)
        let v3 = v0 + 0.5 * h * a2, w3 = w0 + 0.5 * h * e2, t3 = t0 + 0.5 * h * w2
        let (a3, e3) = accelerations(xDot: v3, thetaDot: w3, theta: t3, u: u)
        let v4 = v0 + h * a3, w4 = w0 + h * e3, t4 = t0 + h * w3
        let (a4, e4) = accelerations(xDot: v4, thetaDot: w4, theta: t4, u: u)
        var newX = x0 + h / 6 * (v0 + 2 * v2 + 2 * v3 + v4)
        var newXDot = v0 + h / 6 * (a1 + 2 * a2 + 2 * a3 + a4)
        let newThetaDot = w0 + h / 6 * (e1 + 2 * e2 + 2 * e3 + e4)
        let newTheta = t0 + h / 6 * (w0 + 2 * w2 + 2 * w3 + w4)
        if newX > Self.endStop || newX < -Self.endStop {
            newX = min(max(newX, -Self.endStop), Self.endStop)
            newXDot = 0
            endStopHits += 1
        }
        let start = substepEndNs(substepsDone)
        substepsDone += 1
        if board.mode == .board {
            let end = substepEndNs(substepsDone)
            board.encoders[0].move(from: theta, to: newTheta, startNs: start, endNs: end)
            board.encoders[1].move(from: x, to: newX, startNs: start, endNs: end)
            board.switches[0].move(from: x, to: newX, startNs: start, endNs: end)
            board.switches[1].move(from: x, to: newX, startNs: start, endNs: end)
        }
        x = newX
        xDot = newXDot
        thetaDot = newThetaDot
        theta = newTheta
    }
}
