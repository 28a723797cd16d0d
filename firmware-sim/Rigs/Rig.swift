import EdgeIO

/// How a rig runs.
public enum RigMode: Sendable {
    /// The full pipeline: actions come from the simulated board (PWM duty + direction line, as an
    /// `HBridge` drives them), encoder and switch edges go out on the simulated chip, faults apply.
    case board
    /// Physics only: actions come from `setAction`, no edges, no faults. The fastest way to
    /// evaluate a policy on the true state, and the mode the Pendulum-v1 parity test uses.
    case ideal
}

/// Construction options shared by every rig.
public struct RigOptions: Sendable {
    public var mode: RigMode = .board
    /// The kernel interface the simulated chip reproduces.
    public var api: SimLineAPI = .v2
    /// Interrupt-thread latency of the simulated chip (see `SimChip.irqLatencyNs`).
    public var irqLatencyNs: Int64 = 10_000
    /// Seed of the fault generator (glitch times, missed edges).
    public var faultSeed: UInt64 = 1

    public init(mode: RigMode = .board, api: SimLineAPI = .v2) {
        self.mode = mode
        self.api = api
    }
}

/// Faults a rig injects from the next step on (set them between steps; clear to stop).
/// Each one has a counter or flag in the sensor layer that reports it.
public struct RigFaults: Sendable {
    /// Probability that an encoder edge's interrupt is missed (dropped edge: decoders see a level mismatch).
    public var dropEdgeProbability: Double = 0
    /// Mean number of noise glitches (short pulses) per second on each encoder line.
    public var glitchRatePerSecond: Double = 0
    /// Width of one glitch pulse.
    public var glitchWidthNs: Int64 = 500
    /// A line held at its present level (a broken encoder wire), or nil.
    public var stuckLine: UInt32? = nil
    /// One-shot: this many toggles, 1 µs apart, on the first encoder's A line at the start of the
    /// next step, enough to overflow a 16-event queue. Reset to 0 once injected.
    public var overflowBurstEdges: Int = 0
    /// Extra interrupt latency: events arrive this much later than normal (a latency spike).
    public var latencySpikeNs: Int64 = 0
    /// E-stop pressed: the e-stop line reads active and the motor drive is cut.
    public var eStop = false

    public init() {}
}

/// A simulated plant on the simulated board: physics in Double, actuators read from the board,
/// sensors written to it as edges at their true times on the virtual clock.
///
/// One control period is `beginStep()` (latch the action, integrate the physics of the step),
/// `advance(toNs:)` any number of times (emit the edges up to that time: poll sensors in between),
/// `endStep()` (finish the period, update the state and reward). `step()` and
/// `step(pollEveryNs:_:)` do all three. Every call is allocation-free.
public protocol Rig: AnyObject {
    /// Which rig this is (the CLI switches on it; board files wire it).
    static var kind: RigKind { get }
    /// Floats in an observation (`trueObservation`, and the matching `PlantIO` from sensors).
    static var observationSize: Int { get }
    /// Actions per step, each in [-1, 1] (scaled to torque, voltage or force by the rig).
    static var actionSize: Int { get }
    /// Doubles in the true state (`trueState`, `reset(state:)`).
    static var stateSize: Int { get }

    /// Length of one control step on the virtual clock.
    var controlPeriodNs: Int64 { get }
    /// The simulated board: chip, PWM output, clock, faults.
    var board: RigBoard { get }
    /// When the current (or next) step ends.
    var stepEndNs: Int64 { get }
    /// Reward of the last completed step, computed from the true state.
    var lastReward: Double { get }

    /// Random start state as the reference task draws it, lines preset without edges.
    func reset(seed: UInt64)
    /// Start from `state` (`stateSize` values, the order `trueState` writes).
    func reset(state: UnsafeBufferPointer<Double>)
    /// The action for the next steps in `.ideal` mode (ignored in `.board` mode, which reads the board).
    func setAction(_ action: UnsafeBufferPointer<Double>)
    func beginStep()
    func advance(toNs timeNs: Int64)
    func endStep()
    func trueState(into state: UnsafeMutableBufferPointer<Double>)
    /// The observation a perfect sensor would give, in the same layout as the rig's `PlantIO`.
    func trueObservation(into observation: UnsafeMutableBufferPointer<Float>)
}

extension Rig {
    /// One control period without polling in between.
    public func step() {
        beginStep()
        endStep()
    }

    /// One control period, calling `poll` every `pollEveryNs` of virtual time and at the end
    /// (sensors must be polled often enough that no line's 16-event queue fills). If `poll` throws,
    /// the step is finished first (the plant does not stop), then the error is rethrown.
    public func step<Failure: Error>(pollEveryNs: Int64, _ poll: () throws(Failure) -> Void) throws(Failure) {
        beginStep()
        var t = board.clock.nowNs
        let end = stepEndNs
        var failure: Failure? = nil
        while t < end {
            t = min(t + pollEveryNs, end)
            advance(toNs: t)
            if failure == nil {
                do throws(Failure) { try poll() } catch { failure = error }
            }
        }
        endStep()
        if let failure { throw failure }
    }

    /// `setAction` for a single action value.
    public func setAction(_ value: Double) {
        withUnsafePointer(to: value) { setAction(UnsafeBufferPointer(start: $0, count: 1)) }
    }
}
