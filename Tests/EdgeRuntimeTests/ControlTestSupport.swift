import EdgeCore
import EdgeIO
import EdgeRuntime
import FirmwareSim

/// Feed-forward plus proportional control of the motor's speed on the sensed speed (the policy of
/// FirmwareSim's episode example): duty = ω* + friction share + gain · (ω* − ω), speeds normalized.
final class SpeedController: ControlPolicy {
    var gain: Float

    init(gain: Float = 8) { self.gain = gain }

    func copyParameters(from other: SpeedController) { gain = other.gain }

    func controlAction(_ observation: UnsafePointer<Float>, explore: Bool, rng: inout RandomSource,
                       into action: UnsafeMutablePointer<Float>) {
        let friction: Float = observation[1] >= 0 ? 0.07 : -0.07
        action[0] = observation[1] + friction + gain * (observation[1] - observation[0])
    }
}

typealias SimMotorIO = MotorIO<SimChip, HardwarePWMDrive<SimPWMOutput>>

/// The simulated DC motor rig read through its sensors, homed, tracking the set-point drawn by `seed`.
struct MotorFixture {
    let rig: MotorRig
    let io: SimMotorIO

    init(seed: UInt64, api: SimLineAPI = .v2) throws {
        rig = MotorRig(options: RigOptions(mode: .board, api: api))
        rig.reset(seed: seed)
        io = try SimMotorIO(chip: rig.board.chip, pwm: try HardwarePWMDrive(output: rig.board.pwm),
                            pins: SimBoardPins.plantPins(for: .motor), maxSpeed: MotorRig.maxSpeed)
        try io.home()
        io.setPoint = rig.setPoint
    }

    /// A 1 kHz loop on the rig's virtual clock with a control step under `limits`.
    func loop(periodNs: Int64 = 1_000_000, chargesComputeTime: Bool = false, limits: SafetyLimits)
        -> (ControlLoop<RigClock<MotorRig>>, ControlStep<SimMotorIO>) {
        let clock = RigClock(rig: rig, chargesComputeTime: chargesComputeTime)
        let loop = ControlLoop(clock: clock, periodNs: periodNs, stopsOnSignals: false)
        let step = ControlStep(plant: io, limits: limits, periodNs: periodNs)
        return (loop, step)
    }
}

/// A clock the test moves by hand: sleeping jumps to the deadline, `spend` simulates step work.
final class ManualClock: ControlClock {
    var nowNs: Int64 = 1_000_000_000

    func sleep(untilNs deadlineNs: Int64) -> Int32 {
        nowNs = max(nowNs, deadlineNs)
        return 0
    }

    func spend(_ ns: Int64) { nowNs += ns }
}
