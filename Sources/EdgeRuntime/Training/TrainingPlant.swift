import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim

/// What the trainer needs of a plant: real episodes run with the policy it hands over, and an
/// evaluation of a policy. One `Trainer` (data directory, checkpoints, learning rounds, lockstep and
/// asynchronous loops) serves every kind of plant through this: a simulated rig driven through the
/// real-time control loop (`SimulatedRig`), a board's real rig (`BoardTrainingPlant`) or a plant in
/// another process (`ExternalPlantSource`).
public protocol TrainingPlant: AnyObject {
    associatedtype Policy: ControlPolicy
    /// Identifies the dataset records and checkpoints of this plant (layout, kind and sizes), so a
    /// data directory is never read as another plant's.
    var schema: UInt32 { get }
    /// The rig, when the plant is one of the rigs, simulated or a board's (nil for an external plant).
    var rig: RigKind? { get }
    /// Per observation dimension, the scale that maps observations to about [-1, 1].
    var observationBounds: [Float] { get }
    /// The most steps one episode takes.
    var episodeSteps: Int { get }
    /// Whether an episode can be collected on one thread while `evaluate` runs on another (the
    /// asynchronous learner).
    var supportsAsynchronousLearning: Bool { get }

    /// Hands a copy of `policy` to whatever acts in the episodes from the next step boundary on.
    func publish(_ policy: Policy)
    /// Runs one episode of at most `steps` steps from the start state of `startSeed`, exploring with
    /// the random stream of `actionSeed` (uniform random actions when `random`). For each transition
    /// (s, a, r, s') — a the action that went out, r the plant's reward for it — `transition` gets the
    /// safety layer's interventions at either step and returns false to end the episode.
    func runEpisode(
        startSeed: UInt64, actionSeed: UInt64, steps: Int, random: Bool,
        transition: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>, _ reward: Float,
                     _ next: UnsafePointer<Float>, _ terminal: Bool, _ interventions: SafetyInterventions) -> Bool
    ) throws(TrainingError) -> EpisodeOutcome
    /// Mean and standard deviation of the return of `policy`'s deterministic actions over `episodes`
    /// episodes from the start states `seed(k)`.
    func evaluate(_ policy: Policy, episodes: Int, seed: (Int) -> UInt64) throws(TrainingError) -> (mean: Float, std: Float)
    /// The collection loop's timing, allocations and safety record so far.
    var controlReport: ControlLoopReport { get }
    /// Published policies the collection loop has taken.
    var policiesTaken: Int { get }
}

/// A simulated rig as a training plant: episodes are collected through the real-time control loop on
/// the rig's own simulated board (`RigControl`); evaluation runs on a second rig, stepped directly and
/// scored on its true state with the task's reward, so the learner thread can evaluate while the loop
/// collects.
public final class SimulatedRig<Plant: RigBackedPlant, let Obs: Int, let Act: Int>: TrainingPlant {
    public let control: RigControl<Plant, Obs, Act>
    let evaluationPlant: Plant
    let obs: UnsafeMutablePointer<Float>
    let action: UnsafeMutablePointer<Float>

    public init(timing: RigTiming, stopsOnSignals: Bool, seed: UInt64) throws(LineError) {
        control = try RigControl(policy: RigControl<Plant, Obs, Act>.makePolicy(), explore: true, timing: timing,
                                 stopsOnSignals: stopsOnSignals, seed: seed)
        evaluationPlant = try Plant(mode: .board)
        obs = allocateFloats(Obs)
        action = allocateFloats(Act)
    }

    deinit {
        obs.deallocate()
        action.deallocate()
    }

    /// The collection rig (for code that steps it directly, outside the control loop).
    public var plant: Plant { control.plant }
    public var schema: UInt32 { TransitionRecord.schema(rig: Plant.kind, observations: Obs, actions: Act) }
    public var rig: RigKind? { Plant.kind }
    public var observationBounds: [Float] { Plant.observationBounds }
    public var episodeSteps: Int { Plant.episodeSteps }
    public var supportsAsynchronousLearning: Bool { true }
    public var controlReport: ControlLoopReport { control.report }
    public var policiesTaken: Int { control.session.policiesTaken }

    public func publish(_ policy: GaussianPolicy<Obs, Act>) { control.mailbox.publish(copyOf: policy) }

    /// The reward of a transition is the task's, computed from the sensor observation (what a real rig
    /// can compute); the episode's true-state return is in the outcome.
    public func runEpisode(
        startSeed: UInt64, actionSeed: UInt64, steps: Int, random: Bool,
        transition: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>, _ reward: Float,
                     _ next: UnsafePointer<Float>, _ terminal: Bool, _ interventions: SafetyInterventions) -> Bool
    ) throws(TrainingError) -> EpisodeOutcome {
        do throws(LineError) {
            return try control.runEpisode(startSeed: startSeed, actionSeed: actionSeed, steps: steps,
                                          random: random) { obs, action, next, interventions in
                transition(obs, action, Plant.reward(observation: obs, action: action), next, false, interventions)
            }
        } catch {
            throw .line(error)
        }
    }

    /// On the evaluation rig's true state with the task's reward, actions applied at once.
    public func evaluate(_ policy: GaussianPolicy<Obs, Act>, episodes: Int,
                         seed: (Int) -> UInt64) throws(TrainingError) -> (mean: Float, std: Float) {
        var returns = ReturnStatistics()
        do throws(LineError) {
            for k in 0..<episodes {
                try evaluationPlant.reset(seed: seed(k))
                var total: Double = 0
                for _ in 0..<Plant.episodeSteps {
                    evaluationPlant.observe(into: obs)
                    policy.mean(obs, into: action)
                    total += Double(try evaluationPlant.step(action))
                }
                returns.add(total)
            }
        } catch {
            throw .line(error)
        }
        return returns.meanAndStd
    }
}

/// Mean and standard deviation of episode returns.
struct ReturnStatistics {
    var count = 0
    var sum: Double = 0
    var sumSquares: Double = 0

    mutating func add(_ value: Double) {
        count += 1
        sum += value
        sumSquares += value * value
    }

    var meanAndStd: (mean: Float, std: Float) {
        guard count > 0 else { return (0, 0) }
        let mean = sum / Double(count)
        return (Float(mean), Float(max(sumSquares / Double(count) - mean * mean, 0).squareRoot()))
    }
}
