/// `edge-ctl run`: the host CLI's flags (Sources/edge-ctl/Run.swift), parsed so that a typo is still a
/// usage error (exit 64); the command itself exits 69 until it is wired to `runCheckpointPolicy`
/// (EdgeRuntime/Training/PolicyRun.swift, in progress with the runtime issue).
enum RunCommand {
    static let spec = CommandSpec(
        path: "edge-ctl run",
        abstract: "Run the checkpoint's policy in the real-time control loop (no learning) and report its timing.",
        options: [.flag("--sim", "Run on the simulated board (required: hardware runs are not wired yet).")]
            + DataOptions.options
            + [.option("--episodes", "episodes", "Episodes to run back to back from the evaluation starts. (default: 5)"),
               .option("--seed", "seed", "Seed of the start states (default: the training run's seed)."),
               .flag("--json", "Print one JSON object.")])

    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        throw CommandFailure(
            "error: 'edge-ctl run' is not yet available on the board binary: it lands with the runtime issue "
            + "(the real-time control loop); 'edge-ctl train --sim', 'eval' and 'bench' work now",
            status: ExitStatus.unavailable)
    }
}
