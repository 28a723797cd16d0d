import EdgeIO
import FirmwareSim

/// `edge-ctl boards`: check a board file, print a board's wiring, or probe the board's GPIO chip. The
/// same subcommands, flags and output as the host CLI's `boards` (Sources/edge-ctl/Boards.swift).
enum BoardsCommand {
    static let spec = CommandSpec(
        path: "edge-ctl boards",
        abstract: "List board files, check one, show a board's wiring, or probe the board's GPIO chip.",
        subcommands: [("list", listSpec.abstract + " (default)"), ("check", checkSpec.abstract),
                      ("show", showSpec.abstract), ("probe", probeSpec.abstract)])

    static let listSpec = CommandSpec(
        path: "edge-ctl boards list", abstract: "List the boards: name, chip label, CPU, description.",
        options: [BoardFiles.directoryOption])

    static let checkSpec = CommandSpec(
        path: "edge-ctl boards check", abstract: "Check one board file: 'OK' and exit 0, or the first error and exit 1.",
        arguments: [ArgumentSpec(name: "file", help: "The board file to check.", optional: false)])

    static let showSpec = CommandSpec(
        path: "edge-ctl boards show", abstract: "Print a board's pin tables (header, PWM, rig wirings) as Markdown.",
        arguments: [ArgumentSpec(name: "name", help: "Board name, e.g. rpi4 (see `edge-ctl boards`).", optional: false)],
        options: [BoardFiles.directoryOption])

    static let probeSpec = CommandSpec(
        path: "edge-ctl boards probe",
        abstract: "Open the board's GPIO chip by label and check its lines (libgpiod; the sim board uses FirmwareSim).",
        arguments: [ArgumentSpec(name: "name", help: "Board name, e.g. rpi4.", optional: false)],
        options: [BoardFiles.directoryOption,
                  .option("--libgpiod", "libgpiod", "libgpiod to load (default: $EDGE_LIBGPIOD, else libgpiod.so.3, else libgpiod.so.2)."),
                  .option("--device-dir", "device-dir", "Directory holding the gpiochipN devices. (default: /dev)")])

    /// Runs `edge-ctl boards ARGUMENTS...`; returns the text for standard output.
    static func run(_ arguments: ArraySlice<String>) throws(CommandFailure) -> String {
        let first = arguments.first
        if first == "-h" || first == "--help" { return spec.helpText }
        let rest = arguments.dropFirst()
        switch first {
        case "check": return try check(ParsedArguments(rest, spec: checkSpec))
        case "show": return try show(ParsedArguments(rest, spec: showSpec))
        case "probe": return try probe(ParsedArguments(rest, spec: probeSpec))
        case "list": return try list(ParsedArguments(rest, spec: listSpec))
        default: return try list(ParsedArguments(arguments, spec: listSpec))
        }
    }

    /// Needs a directory listing, which the C shim does not offer yet (requested: `edge_dir_list_names`).
    static func list(_ arguments: ParsedArguments) throws(CommandFailure) -> String {
        if arguments.wantsHelp { return listSpec.helpText }
        throw CommandFailure(
            "error: 'edge-ctl boards list' is not available on the board binary yet (it cannot list directories); "
            + "use 'edge-ctl boards show NAME' or 'edge-ctl boards check FILE', or run 'boards' on the host",
            status: ExitStatus.unavailable)
    }

    static func check(_ arguments: ParsedArguments) throws(CommandFailure) -> String {
        if arguments.wantsHelp { return checkSpec.helpText }
        let file = arguments.positional(0)!
        let board = try BoardFiles.load(file)
        let gpios = board.headerPins.filter { $0.line != nil }.count
        let rigs = board.rigs.map { $0.kind.rawValue }.joined(separator: ", ")
        return "OK \(file): \(board.name), chip \(board.chipLabel), \(board.headerPins.count) header pins "
            + "(\(gpios) GPIO), rigs: \(rigs.isEmpty ? "none" : rigs)\n"
    }

    static func show(_ arguments: ParsedArguments) throws(CommandFailure) -> String {
        if arguments.wantsHelp { return showSpec.helpText }
        let file = try BoardFiles.path(ofBoard: arguments.positional(0)!, directory: arguments.string("--boards-dir"))
        return BoardPinTable.render(try BoardFiles.load(file))
    }

    static func probe(_ arguments: ParsedArguments) throws(CommandFailure) -> String {
        if arguments.wantsHelp { return probeSpec.helpText }
        let file = try BoardFiles.path(ofBoard: arguments.positional(0)!, directory: arguments.string("--boards-dir"))
        let board = try BoardFiles.load(file)
        let libgpiod = arguments.string("--libgpiod")
        let deviceDirectory = arguments.string("--device-dir") ?? "/dev"
        do {
            if board.chipLabel == SimBoardPins.chipLabel {
                let simulated = SimChip(label: SimBoardPins.chipLabel, lineCount: SimBoardPins.lineCount)
                let report = try BoardProbe.probe(board, backend: SimBackend(chips: [simulated]))
                return "OK \(board.name): simulated chip \(report.chipLabel) (\(report.lineCount) lines)\n"
            }
            let library = try LibgpiodLibrary.load(path: libgpiod)
            let backend = LibgpiodBackend(library: library, deviceDirectory: deviceDirectory)
            let report = try BoardProbe.probe(board, backend: backend)
            return "OK \(board.name): chip \(report.chipLabel) is \(report.chipName) (\(report.lineCount) lines), \(library.summary)\n"
        } catch {
            var message = "error: board \(board.name): \(error.message)"
            if error == .noSuchChip(chip: board.chipLabel), let library = try? LibgpiodLibrary.load(path: libgpiod) {
                let chips = LibgpiodBackend(library: library, deviceDirectory: deviceDirectory).availableChips()
                message += chips.isEmpty
                    ? "; this machine has no \(deviceDirectory)/gpiochip* devices (no GPIO hardware, or a container started without them): run on the board or use --sim"
                    : "; chips found: \(chips.joined(separator: ", ")): pick the board file with one of these labels (edge-ctl boards)"
            }
            throw CommandFailure(message)
        }
    }
}
