// edge-ctl for the board: the host CLI's commands and flags in Embedded Swift, so one aarch64
// executable with no Swift runtime runs on a Raspberry Pi (built by boards/build, DESIGN section 8).
import CEdgeSys

/// The top level: picks the command (`train` when the first word is a flag, as on the host, so
/// `edge-ctl --sim` trains), runs it, prints its output or its one-line error, and sets the exit status.
@main
enum EdgeCtl {
    static let spec = CommandSpec(
        path: "edge-ctl",
        abstract: "A learning controller for ARM Linux boards: learns a dynamics model on the device and improves its policy with PPO in imagination.",
        subcommands: [("train", TrainCommand.spec.abstract + " (default)"),
                      ("run", RunCommand.spec.abstract),
                      ("eval", EvalCommand.spec.abstract),
                      ("info", InfoCommand.spec.abstract),
                      ("export", ExportCommand.spec.abstract),
                      ("bench", BenchCommand.spec.abstract),
                      ("boards", BoardsCommand.spec.abstract),
                      ("help", "Show help for a command.")],
        discussion: "This is the board binary (Embedded Swift, no Swift runtime needed): the host CLI's commands and flags, except 'analyze' and 'compare' (host only) and --plant (external plants: host only for now).")

    static func main() {
        let words = (0..<Int(edge_argument_count())).dropFirst().map { String(cString: edge_argument(Int32($0))!) }
        do {
            print(try run(words[...]), terminator: "")
        } catch {
            printError(error.message)
            exitProcess(error.status)
        }
    }

    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        guard let first = words.first else { return try TrainCommand.run(words) }
        let rest = words.dropFirst()
        switch first {
        case "-h", "--help": return spec.helpText
        case "help": return try help(rest)
        case "train": return try TrainCommand.run(rest)
        case "run": return try RunCommand.run(rest)
        case "eval": return try EvalCommand.run(rest)
        case "info": return try InfoCommand.run(rest)
        case "export": return try ExportCommand.run(rest)
        case "bench": return try BenchCommand.run(rest)
        case "boards": return try BoardsCommand.run(rest)
        case "analyze", "compare":
            throw CommandFailure("error: 'edge-ctl \(first)' is not on the board binary: it studies learning on the simulator, nothing board-specific; run it on the host",
                                 status: ExitStatus.unavailable)
        default:
            if first.hasPrefix("-") { return try TrainCommand.run(words) }
            throw spec.usageError("unknown command '\(first)'")
        }
    }

    /// `edge-ctl help [COMMAND]`: the same text as `edge-ctl COMMAND --help`.
    static func help(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        if words.isEmpty { return spec.helpText }
        return try run(words + ["--help"])
    }
}
