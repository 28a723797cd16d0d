import CEdgeSys
import EdgeCore

/// When a step was due and when it started.
public struct StepTiming: Sendable {
    /// Steps begun before this one.
    public var index: Int
    /// The absolute deadline the step was due at.
    public var deadlineNs: Int64
    /// When the loop woke up for it.
    public var wakeNs: Int64
    /// Wake-up lateness (jitter): `wakeNs - deadlineNs`.
    @inlinable public var lateNs: Int64 { wakeNs - deadlineNs }

    public init(index: Int, deadlineNs: Int64, wakeNs: Int64) {
        self.index = index
        self.deadlineNs = deadlineNs
        self.wakeNs = wakeNs
    }
}

/// Why a loop returned.
public enum LoopExit: Equatable, Sendable {
    /// It ran the steps it was asked for.
    case completed
    /// The step body asked to stop.
    case finishedByStep
    /// SIGINT or SIGTERM arrived (the signal number), with stop handlers installed.
    case signal(Int32)
}

/// A fixed-rate loop to absolute deadlines: deadline k is start + k · period, slept to with the
/// clock's absolute sleep, so timing errors never accumulate. It measures every step:
/// - latency: from the deadline to the end of the step (what the plant waits for the action),
/// - jitter: wake-up lateness, from the deadline to the wake-up,
/// - missed deadlines: steps that ended after the next deadline.
/// After a miss the next step starts at once, for the latest deadline that has passed; older passed
/// deadlines are skipped (counted in `skippedPeriods`) rather than run as a burst of late steps.
/// Waiting and recording never allocate.
///
///     let loop = ControlLoop(clock: MonotonicClock(), periodNs: 1_000_000)
///     let exit = loop.run(steps: 1_000) { timing in ...; return true }
///     print(loop.summary)
public final class ControlLoop<Clock: ControlClock> {
    public let clock: Clock
    public let periodNs: Int64
    /// Stop when SIGINT or SIGTERM is recorded (after `StopSignal.installHandlers()`); off for loops
    /// that must not react to the process's signals (tests running side by side).
    public var stopsOnSignals: Bool
    /// Deadline to end-of-step times.
    public let latency = LatencyHistogram()
    /// Deadline to wake-up times.
    public let jitter = LatencyHistogram()
    /// Host time from wake-up to the end of each step (monotonic clock), whatever the loop's clock:
    /// on a simulated clock that does not charge compute time, the only measure of the step's cost.
    public let stepTime = LatencyHistogram()
    /// Steps finished.
    public private(set) var steps = 0
    /// Steps that ended after the next step's deadline.
    public private(set) var missedDeadlines = 0
    /// Deadlines dropped because the loop was a whole period or more behind.
    public private(set) var skippedPeriods = 0
    /// Sleeps the clock refused (errno from clock_nanosleep; 0 normally).
    public private(set) var sleepErrors = 0
    /// The deadline of the next step (set by `start()`).
    public private(set) var nextDeadlineNs: Int64 = 0
    var started = false
    var current = StepTiming(index: 0, deadlineNs: 0, wakeNs: 0)
    var wokeAtHostNs: Int64 = 0

    /// - Parameters:
    ///   - periodNs: control period (1_000_000 for 1 kHz).
    ///   - stopsOnSignals: see `stopsOnSignals`.
    public init(clock: Clock, periodNs: Int64, stopsOnSignals: Bool = true) {
        precondition(periodNs > 0, "the control period must be positive")
        self.clock = clock
        self.periodNs = periodNs
        self.stopsOnSignals = stopsOnSignals
    }

    /// Sets the first deadline: `firstDeadlineNs`, or one period from now. `waitForDeadline` calls it
    /// if you have not. Calling it again starts a new schedule (e.g. for each episode of a rig reset
    /// between episodes).
    public func start(firstDeadlineNs: Int64? = nil) {
        nextDeadlineNs = firstDeadlineNs ?? clock.nowNs + periodNs
        started = true
    }

    /// Sleeps until the next deadline, calling `poll` at every `pollEveryNs` on the way (0: sleep
    /// straight through), e.g. to drain sensor event queues that would fill within one period.
    /// Returns the step's timing; call `finishStep()` when the step's output is out.
    public func waitForDeadline<Failure: Error>(
        pollEveryNs: Int64 = 0, _ poll: () throws(Failure) -> Void
    ) throws(Failure) -> StepTiming {
        if !started { start() }
        let deadline = nextDeadlineNs
        if pollEveryNs > 0 {
            var t = clock.nowNs + pollEveryNs
            while t < deadline {
                sleep(untilNs: t)
                try poll()
                t += pollEveryNs
            }
        }
        sleep(untilNs: deadline)
        let wake = clock.nowNs
        wokeAtHostNs = edge_monotonic_ns()
        current = StepTiming(index: steps, deadlineNs: deadline, wakeNs: wake)
        jitter.record(wake - deadline)
        return current
    }

    /// `waitForDeadline` without polling in between.
    public func waitForDeadline() -> StepTiming {
        waitForDeadline(pollEveryNs: 0) { () throws(Never) in }
    }

    /// Records the step begun by the last `waitForDeadline` as ended now and sets the next deadline.
    public func finishStep() {
        let end = clock.nowNs
        stepTime.record(edge_monotonic_ns() - wokeAtHostNs)
        latency.record(end - current.deadlineNs)
        steps += 1
        var next = current.deadlineNs + periodNs
        if end > next {
            missedDeadlines += 1
            let behind = (end - next) / periodNs
            next += behind * periodNs
            skippedPeriods += Int(behind)
        }
        nextDeadlineNs = next
    }

    /// The stop signal recorded, when this loop stops on signals.
    public var pendingSignal: Int32? {
        guard stopsOnSignals else { return nil }
        let signal = StopSignal.received
        return signal != 0 ? signal : nil
    }

    /// Runs `steps` steps (or until `body` returns false or a stop signal arrives): wait for the
    /// deadline, `body`, `finishStep`. `body` gets the step's timing.
    public func run<Failure: Error>(
        steps count: Int, _ body: (StepTiming) throws(Failure) -> Bool
    ) throws(Failure) -> LoopExit {
        try run(steps: count, pollEveryNs: 0, poll: { () throws(Failure) in }, body)
    }

    /// `run(steps:_:)`, calling `poll` every `pollEveryNs` while waiting for each deadline.
    public func run<Failure: Error>(
        steps count: Int, pollEveryNs: Int64, poll: () throws(Failure) -> Void,
        _ body: (StepTiming) throws(Failure) -> Bool
    ) throws(Failure) -> LoopExit {
        for _ in 0..<count {
            if let signal = pendingSignal { return .signal(signal) }
            let timing = try waitForDeadline(pollEveryNs: pollEveryNs, poll)
            let goOn = try body(timing)
            finishStep()
            if !goOn { return .finishedByStep }
        }
        return .completed
    }

    /// Forgets the measurements (not the schedule): e.g. after a warm-up.
    public func resetStatistics() {
        latency.reset()
        jitter.reset()
        stepTime.reset()
        steps = 0
        missedDeadlines = 0
        skippedPeriods = 0
        sleepErrors = 0
    }

    /// One line: rate, steps, latency and jitter percentiles, missed deadlines.
    public var summary: String {
        let hz = 1e9 / Double(periodNs)
        var line = "\(steps) steps at \(formatFloat(hz, digits: 4)) Hz: latency \(latency.percentileSummary)"
        line += "; jitter \(jitter.percentileSummary); missed deadlines \(missedDeadlines)"
        if skippedPeriods > 0 { line += " (\(skippedPeriods) periods skipped)" }
        if sleepErrors > 0 { line += "; \(sleepErrors) sleeps failed" }
        return line
    }

    func sleep(untilNs t: Int64) {
        if clock.sleep(untilNs: t) != 0 { sleepErrors += 1 }
    }
}
