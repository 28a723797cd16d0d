import EdgeCore
import EdgeIO

/// What one step of a session did, for the caller's log (e.g. which policy version produced the
/// transition being recorded).
public struct ControlStepRecord: Sendable {
    public var timing: StepTiming
    public var interventions: SafetyInterventions
    /// Version of the policy that acted (see `PolicyMailbox`); the fallback keeps its own version.
    public var policyVersion: UInt64
    /// The last good policy acted instead of the newest one (the newest produced NaN or Inf).
    public var usingFallback: Bool
}

/// The real-time side of a run: a fixed-rate loop over one plant, taking new policies from the learner
/// at step boundaries, with the safety layer, a last-good-policy fallback, stop signals, and the plant
/// left in its safe state however the loop ends (completed, stopped by the caller, SIGINT/SIGTERM, or
/// a line error).
///
/// Per step: take the newest policy if one was published, sense, policy, safety, act; then hand
/// `afterStep` a record (log the transition there; keep that allocation-free too if it must be).
///
/// Fallback: a new policy is trusted once it has produced `trustAfterSteps` finite actions; it is
/// then copied into `lastGood` (one O(parameters) copy per published policy, in that step). When the
/// newest policy produces NaN or Inf, that step sends the safe action and `lastGood` acts from the next
/// step until the learner publishes another policy.
public final class ControlSession<Clock: ControlClock, Plant: PlantIO & EncoderCountReporting,
                                  Policy: ControlPolicy> {
    public let loop: ControlLoop<Clock>
    public let step: ControlStep<Plant>
    public let mailbox: PolicyMailbox<Policy>
    /// The policy to fall back to.
    public let lastGood: Policy
    /// Sample actions (data collection) instead of taking the policy's mean (evaluation).
    public var explore: Bool
    /// Propose uniformly random actions in [-1, 1] instead of asking the policy (the exploration
    /// episodes before a policy has learned anything). The safety layer filters them as usual.
    public var randomActions = false
    public var rng: RandomSource
    /// Finite actions a new policy must produce before it becomes the fallback.
    public var trustAfterSteps = 100

    /// Policy faults (NaN/Inf actions) seen.
    public private(set) var policyFaults = 0
    /// Published policies taken.
    public private(set) var policiesTaken = 0
    public private(set) var usingFallback = false
    public private(set) var lastGoodVersion: UInt64
    /// Heap allocations inside control steps (policy hand-off, sense, policy, safety, act), summed
    /// over all steps run; nil when the allocation counter is not linked into this program.
    public private(set) var stepAllocations: UInt64?
    var finiteStepsOfCurrent = 0

    /// `lastGood` starts as a copy of the mailbox's current policy (made with `makePolicy`).
    public init(loop: ControlLoop<Clock>, step: ControlStep<Plant>, mailbox: PolicyMailbox<Policy>,
                makePolicy: () -> Policy, explore: Bool, seed: UInt64) {
        self.loop = loop
        self.step = step
        self.mailbox = mailbox
        lastGood = makePolicy()
        lastGood.copyParameters(from: mailbox.current)
        lastGoodVersion = mailbox.currentVersion
        self.explore = explore
        rng = RandomSource(seed: seed)
        stepAllocations = AllocationCounter.isAvailable ? 0 : nil
    }

    /// Runs up to `steps` steps (polling the sensors every `pollEveryNs` between deadlines when
    /// non-zero). Stops early when `afterStep` returns false or a stop signal arrives. Always leaves
    /// the plant stopped; a line error is rethrown after stopping it.
    ///
    /// With `finalObservation`, a run that completes waits for one more deadline and only senses
    /// (no policy, no output) before stopping the plant, so `step.observation` then holds the state
    /// the last action led to: the s' of the last transition.
    public func run(steps: Int, pollEveryNs: Int64 = 0, finalObservation: Bool = false,
                    afterStep: (ControlStepRecord) -> Bool) throws(LineError) -> LoopExit {
        let exit: LoopExit
        do throws(LineError) {
            // Sense once before the first deadline: the first step then starts from fresh sensor state,
            // and the runtime instantiates here, not in a timed step, what a generic call into the
            // plant needs on first use (e.g. the witness table of PendulumIO<Chip, PWM>'s conformance,
            // three allocations in the first step of every session when this was missing).
            try step.sense()
            let poll = { () throws(LineError) in try self.step.plant.poll() }
            exit = try loop.run(steps: steps, pollEveryNs: pollEveryNs, poll: poll) { timing throws(LineError) in
                let record = try controlStep(timing)
                return afterStep(record)
            }
            if finalObservation && exit == .completed {
                _ = try loop.waitForDeadline(pollEveryNs: pollEveryNs, poll)
                try step.sense()
            }
        } catch {
            try? step.stopPlant()
            throw error
        }
        try step.stopPlant()
        return exit
    }

    /// One step's work between the deadline and the output.
    func controlStep(_ timing: StepTiming) throws(LineError) -> ControlStepRecord {
        let allocationsBefore = AllocationCounter.threadCount
        if mailbox.takeNewest() {
            policiesTaken += 1
            usingFallback = false
            finiteStepsOfCurrent = 0
        }
        let interventions: SafetyInterventions
        if randomActions {
            try step.sense()
            for d in 0..<Plant.actionSize { step.proposedAction[d] = rng.nextUniform(-1, 1) }
            interventions = try step.actuate(lateNs: timing.lateNs)
        } else if usingFallback {
            interventions = try step.run(policy: lastGood, explore: explore, rng: &rng, lateNs: timing.lateNs)
        } else {
            interventions = try step.run(policy: mailbox.current, explore: explore, rng: &rng, lateNs: timing.lateNs)
        }
        let record = ControlStepRecord(timing: timing, interventions: interventions,
                                       policyVersion: usingFallback ? lastGoodVersion : mailbox.currentVersion,
                                       usingFallback: usingFallback)
        if interventions.policyFault {
            if !usingFallback {
                policyFaults += 1
                usingFallback = true
            }
        } else if !usingFallback && !interventions.usedSafeAction && !randomActions {
            finiteStepsOfCurrent += 1
            if finiteStepsOfCurrent == trustAfterSteps && mailbox.currentVersion != lastGoodVersion {
                lastGood.copyParameters(from: mailbox.current)
                lastGoodVersion = mailbox.currentVersion
            }
        }
        if let spent = AllocationCounter.allocations(since: allocationsBefore), let total = stepAllocations {
            stepAllocations = total + spent
        }
        return record
    }
}
