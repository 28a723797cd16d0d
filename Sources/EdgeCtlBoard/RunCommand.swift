/// `edge-ctl run`: needs the hardware control loop of the runtime issue. Its flags parse already (a
/// typo is still a usage error, exit 64), so scripts written for it fail with one clear line and exit
/// 69 until it lands. The flags are a proposal: the host CLI has no `run` yet, and whichever front-end
/// gets it first sets the names.
enum RunCommand {
    static let spec = CommandSpec(
        path: "edge-ctl run",
        abstract: "Run the trained policy on a rig at its control rate, without learning, until stopped.",
        options: [.flag("--sim", "Use the simulated board (short for --board sim)."),
                  .option("--board", "board", "Board to run on (a name from `edge-ctl boards`).")]
            + DataOptions.options
            + [.option("--seconds", "seconds", "Stop after this many seconds. (default: until SIGINT or SIGTERM)"),
               .flag("--json", "Print one JSON object at the end instead of the text summary."),
               .flag("--quiet", "No progress output.")])

    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        throw CommandFailure(
            "error: 'edge-ctl run' is not yet available: it lands with the runtime issue (the hardware control "
            + "loop); 'edge-ctl train --sim', 'eval' and 'bench' work now",
            status: ExitStatus.unavailable)
    }
}
