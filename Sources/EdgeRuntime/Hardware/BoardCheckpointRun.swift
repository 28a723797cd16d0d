import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim

/// Runs the policy saved in `directory`'s checkpoint on `board`'s wiring of `rig` (see
/// `runPolicyOnBoard`): the policy is restored through the trainer of the simulated rig it was
/// trained on (`withSimTrainer`, the shapes come from the rig kind), the control period is that rig's
/// (pendulum 50 ms, motor 10 ms, cart-pole 100 ms), the reward is the task's from the sensors.
///
/// Motor rig without `options.motorSetPoint`: the set-point of the first evaluation episode of `seed`
/// (the one `run --sim` tracks first).
public func runCheckpointOnBoard<Backend: LineBackend, PWMs: PWMChannelOpener>(
    directory: String, rig: RigKind, seed: UInt64, board: BoardDescription, backend: Backend, pwm: PWMs,
    options: BoardRunOptions
) throws(BoardRunError) -> BoardRunReport {
    var trainingOptions = TrainingOptions()
    trainingOptions.seed = seed
    trainingOptions.maxRealSteps = 1  // only the policy is used: keep the (unused) transition buffer small
    let result: Result<BoardRunReport, BoardRunError>
    do throws(TrainingError) {
        result = try withSimTrainer(rig: rig, knownReward: true, options: trainingOptions, hyperparameters: Hyperparameters(),
                                    BoardDeploy(path: DataDirectory(path: directory).checkpointPath, board: board,
                                           backend: backend, pwm: pwm, options: options))
    } catch {
        throw .training(error)
    }
    switch result {
    case .success(let report): return report
    case .failure(let error): throw error
    }
}

/// Restores the checkpoint's policy into the trainer the rig kind selects and runs it on the board.
struct BoardDeploy<Backend: LineBackend, PWMs: PWMChannelOpener>: SimTrainerVisitor {
    let path: String
    let board: BoardDescription
    let backend: Backend
    let pwm: PWMs
    let options: BoardRunOptions

    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>
    ) throws(TrainingError) -> Result<BoardRunReport, BoardRunError> {
        do throws(FileError) {
            try trainer.agent.restorePolicy(from: CheckpointReader(try Checkpoint.read(from: path), path: path))
        } catch {
            throw .file(error)
        }
        var options = options
        if Plant.kind == .motor && options.motorSetPoint == nil {
            let motor = MotorRig(options: RigOptions(mode: .ideal))
            motor.reset(seed: trainer.episodeSeed(0, evaluation: true))
            options.motorSetPoint = motor.setPoint
        }
        do throws(BoardRunError) {
            return .success(try runPolicyOnBoard(trainer.agent.policy, task: Plant.self,
                                                 periodNs: trainer.source.plant.controlPeriodNs, board: board,
                                                 backend: backend, pwm: pwm, options: options))
        } catch {
            return .failure(error)
        }
    }
}

/// The one-line error for a board whose GPIO chip cannot be opened, worded as `edge-ctl boards probe`
/// words it (Sources/edge-ctl/Boards.swift): the error, and when the label is not found, what this
/// machine has instead (`chips`: `LibgpiodBackend.availableChips()`; nil when libgpiod did not load).
public func boardChipFailureMessage(board: BoardDescription, error: LineError, chips: [String]?,
                                    deviceDirectory: String = "/dev") -> String {
    var message = "error: board \(board.name): \(error.message)"
    if error == .noSuchChip(chip: board.chipLabel), let chips {
        message += chips.isEmpty
            ? "; this machine has no \(deviceDirectory)/gpiochip* devices (no GPIO hardware, or a container started without them): run on the board or use --sim"
            : "; chips found: \(chips.joined(separator: ", ")): pick the board file with one of these labels (edge-ctl boards)"
    }
    return message
}
