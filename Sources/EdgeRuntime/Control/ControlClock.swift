import CEdgeSys
import FirmwareSim

/// The time base of a control loop: read the time, sleep to an absolute deadline. One implementation
/// per backend (the monotonic clock on hardware, the rig's virtual clock in simulation); the loop is
/// generic over it, so no existential is involved and the calls are specialized.
public protocol ControlClock: AnyObject {
    /// Now, in nanoseconds on this clock.
    var nowNs: Int64 { get }
    /// Returns at `deadlineNs` (at once if it has passed). Returns 0 or an errno value.
    func sleep(untilNs deadlineNs: Int64) -> Int32
}

/// Hardware time: CLOCK_MONOTONIC (the clock libgpiod stamps edge events with), slept on with
/// `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`, so sleeping to an absolute deadline does not
/// drift the way relative sleeps do.
public final class MonotonicClock: ControlClock {
    public init() {}
    @inlinable public var nowNs: Int64 { edge_monotonic_ns() }
    @inlinable public func sleep(untilNs deadlineNs: Int64) -> Int32 { edge_sleep_until_ns(deadlineNs) }
}

/// Simulation time: the virtual clock of a FirmwareSim rig. Sleeping runs the plant's physics up to
/// the deadline, beginning and ending the rig's own control periods on the way (a rig latches the
/// drive command at the start of each of its periods: the motor rig every 10 ms, so a faster loop's
/// actions reach the simulated motor at that rate).
///
/// With `chargesComputeTime`, the host time spent between waking and the next sleep (the control
/// step) is added to `nowNs` and given to the plant before it sleeps: latencies then measure the real
/// step cost and a slow step really makes the plant wait. Without it, steps take no virtual time and
/// runs are exactly repeatable.
///
/// With a `speed` above 0, each sleep also waits on the wall clock until the deadline's virtual time
/// divided by `speed` has passed (1: the simulated rig runs in real time, as hardware does, so a
/// learner on another thread sees the timing it would see on a board). 0 runs as fast as the host can.
public final class RigClock<R: Rig>: ControlClock {
    public let rig: R
    public let chargesComputeTime: Bool
    public let speed: Double
    let wallOriginNs: Int64
    let virtualOriginNs: Int64
    /// Rig control periods completed while sleeping.
    public private(set) var completedRigPeriods = 0
    /// Start time of the rig period in progress (the time its drive command was latched).
    public private(set) var rigPeriodStartNs: Int64
    var inRigPeriod = false
    var wokeAtHostNs: Int64

    public init(rig: R, chargesComputeTime: Bool, speed: Double = 0) {
        precondition(speed >= 0 && speed.isFinite, "the simulation speed is a finite factor, 0 for as fast as possible")
        self.rig = rig
        self.chargesComputeTime = chargesComputeTime
        self.speed = speed
        rigPeriodStartNs = rig.board.clock.nowNs
        wokeAtHostNs = edge_monotonic_ns()
        wallOriginNs = wokeAtHostNs
        virtualOriginNs = rigPeriodStartNs
    }

    /// Call after resetting the rig (which abandons its period in progress): the next sleep begins a
    /// fresh rig period. Do not step the rig yourself while this clock drives it.
    public func rigWasReset() {
        inRigPeriod = false
        rigPeriodStartNs = rig.board.clock.nowNs
    }

    public var nowNs: Int64 {
        let virtual = rig.board.clock.nowNs
        return chargesComputeTime ? virtual + (edge_monotonic_ns() - wokeAtHostNs) : virtual
    }

    public func sleep(untilNs deadlineNs: Int64) -> Int32 {
        let target = max(nowNs, deadlineNs)
        run(untilNs: target)
        var code: Int32 = 0
        if speed > 0 {
            code = edge_sleep_until_ns(wallOriginNs + Int64(Double(target - virtualOriginNs) / speed))
        }
        wokeAtHostNs = edge_monotonic_ns()
        return code
    }

    /// Runs the physics to `timeNs`, rig period by rig period.
    func run(untilNs timeNs: Int64) {
        while rig.board.clock.nowNs < timeNs {
            if !inRigPeriod {
                rig.beginStep()
                rigPeriodStartNs = rig.board.clock.nowNs
                inRigPeriod = true
            }
            if timeNs < rig.stepEndNs {
                rig.advance(toNs: timeNs)
            } else {
                rig.endStep()
                inRigPeriod = false
                completedRigPeriods += 1
            }
        }
    }
}
