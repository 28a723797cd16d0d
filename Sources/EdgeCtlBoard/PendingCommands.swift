/// `edge-ctl run`, `eval` and `info`: they need the checkpoint format and the hardware control loop of
/// the runtime issue. Their flags parse already (a typo is still a usage error, exit 64), so scripts
/// written for them fail with one clear line and exit 69 until they land. The flags are a proposal: the
/// host CLI does not define these commands yet, and whichever front-end gets them first sets the names.
enum PendingCommands {
    static let dataDirectory = OptionSpec.option(
        "--data-dir", "data-dir", "Directory of the run's transition log and checkpoints. (default: $EDGE_DATA_DIR, else ./edge-ctl-data)")
    static let target: [OptionSpec] = [
        .flag("--sim", "Use the simulated board (short for --board sim)."),
        .option("--board", "board", "Board to run on (a name from `edge-ctl boards`)."),
        .option("--rig", "rig", "Rig to control: pendulum, motor or cartpole. (default: pendulum)"),
    ]

    static let specs: [CommandSpec] = [
        CommandSpec(
            path: "edge-ctl run",
            abstract: "Run the trained policy on a rig at its control rate, without learning, until stopped.",
            options: target + [dataDirectory,
                               .option("--checkpoint", "checkpoint", "Checkpoint to load. (default: the newest in --data-dir)"),
                               .option("--seconds", "seconds", "Stop after this many seconds. (default: until SIGINT/SIGTERM)"),
                               .option("--seed", "seed", "Seed of every random choice. (default: 1)"),
                               .flag("--json", "Print one JSON object at the end instead of the text summary."),
                               .flag("--quiet", "No progress output.")]),
        CommandSpec(
            path: "edge-ctl eval",
            abstract: "Evaluate a checkpoint's deterministic policy over episodes and print the return.",
            options: target + [dataDirectory,
                               .option("--checkpoint", "checkpoint", "Checkpoint to load. (default: the newest in --data-dir)"),
                               .option("--episodes", "episodes", "Evaluation episodes. (default: 10)"),
                               .option("--seed", "seed", "Seed of the episode starts. (default: 1)"),
                               .flag("--json", "Print one JSON object instead of text.")]),
        CommandSpec(
            path: "edge-ctl info",
            abstract: "Describe a data directory: its checkpoints, transitions, and the build and machine.",
            options: [dataDirectory, .flag("--json", "Print one JSON object instead of text.")]),
    ]

    /// Parses `edge-ctl NAME ARGUMENTS...` and then fails with exit 69 (or prints the help).
    static func run(_ spec: CommandSpec, _ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        throw CommandFailure(
            "error: '\(spec.path)' is not yet available on the board binary: it lands with the runtime issue "
            + "(checkpoints and the hardware control loop); 'edge-ctl train --sim' and 'edge-ctl bench' work now",
            status: ExitStatus.unavailable)
    }
}
