import ArgumentParser
import EdgeIO
import FirmwareSim
import Foundation

/// `edge-ctl boards`: list the board files, check one, print a board's wiring, or probe the hardware.
struct Boards: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List board files, check one, show a board's wiring, or probe the board's GPIO chip.",
        subcommands: [List.self, Check.self, Show.self, Probe.self],
        defaultSubcommand: List.self
    )
}

/// Where board files are looked up.
struct BoardsDirectoryOption: ParsableArguments {
    @Option(name: .customLong("boards-dir"),
            help: "Directory of *.board files (default: $EDGE_BOARDS_DIR, else boards/ next to the executable, in the current directory or a parent).")
    var boardsDirectory: String?

    /// The directory to use, or a one-line error saying where it looked.
    func resolve() throws -> URL {
        if let boardsDirectory {
            let directory = URL(fileURLWithPath: boardsDirectory)
            guard BoardCatalog.containsBoards(directory) else {
                throw BoardsFailure("error: no *.board files in \(boardsDirectory)")
            }
            return directory
        }
        let environment = ProcessInfo.processInfo.environment["EDGE_BOARDS_DIR"]
        let candidates = BoardCatalog.candidateDirectories(
            environment: environment,
            executable: (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
                .resolvingSymlinksInPath(),
            currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        if let found = candidates.first(where: BoardCatalog.containsBoards) { return found }
        throw BoardsFailure("error: no boards directory found (looked for boards/ from \(FileManager.default.currentDirectoryPath) and from the executable upwards, and in $EDGE_BOARDS_DIR); pass --boards-dir DIR")
    }
}

/// Finding and reading board files on the host.
enum BoardCatalog {
    /// Search order: $EDGE_BOARDS_DIR; `boards/` in the executable's directory or any parent (a
    /// package checkout running .build/release/edge-ctl) and `../share/edge-ctl/boards` (an install);
    /// then `boards/` in the current directory or any parent.
    static func candidateDirectories(environment: String?, executable: URL, currentDirectory: URL) -> [URL] {
        var candidates: [URL] = []
        if let environment, !environment.isEmpty { candidates.append(URL(fileURLWithPath: environment)) }
        let binDirectory = executable.deletingLastPathComponent()
        candidates.append(binDirectory.deletingLastPathComponent().appendingPathComponent("share/edge-ctl/boards"))
        for start in [binDirectory, currentDirectory] {
            var directory = start.standardizedFileURL
            while true {
                candidates.append(directory.appendingPathComponent("boards"))
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return candidates
    }

    static func containsBoards(_ directory: URL) -> Bool {
        !boardFiles(in: directory).isEmpty
    }

    /// The *.board files of `directory`, sorted by name.
    static func boardFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".board") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Reads and parses one board file; errors are one line, `file:line:column: error: ...`.
    static func load(_ file: URL, displayPath: String? = nil) throws -> BoardDescription {
        let path = displayPath ?? file.path
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw BoardsFailure("\(path): error: cannot read the file (missing or no permission)")
        }
        do {
            return try BoardFileParser.parse(String(decoding: data, as: UTF8.self), path: path)
        } catch {
            throw BoardsFailure(error.message)
        }
    }

    /// The board called `name` in `directory`.
    static func board(named name: String, in directory: URL) throws -> BoardDescription {
        let file = directory.appendingPathComponent(name + ".board")
        guard FileManager.default.fileExists(atPath: file.path) else {
            let known = boardFiles(in: directory).map { $0.deletingPathExtension().lastPathComponent }
            throw BoardsFailure("error: no board '\(name)' in \(directory.path) (known: \(known.joined(separator: ", ")))")
        }
        return try load(file)
    }
}

/// A failure already phrased as the line to print: `file:line:column: error: ...` for a board file,
/// `error: ...` otherwise.
struct BoardsFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Prints `lines` on stderr and returns exit code 1 to throw (a data error, so no usage text).
func exitWithFailure(_ lines: String) -> ExitCode {
    FileHandle.standardError.write(Data((lines + "\n").utf8))
    return ExitCode.failure
}

extension Boards {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the boards: name, chip label, CPU, description.")

        @OptionGroup var directory: BoardsDirectoryOption

        func run() throws {
            do {
                let boardsDirectory = try directory.resolve()
                var rows = [["name", "chip label", "cpu", "description"]]
                var failures: [String] = []
                for file in BoardCatalog.boardFiles(in: boardsDirectory) {
                    do {
                        let board = try BoardCatalog.load(file)
                        rows.append([board.name, board.chipLabel, board.cpu, board.description])
                    } catch let failure as BoardsFailure {
                        failures.append(failure.message)
                    }
                }
                print(BoardPinTable.markdownTable(rows), terminator: "")
                guard failures.isEmpty else { throw exitWithFailure(failures.joined(separator: "\n")) }
            } catch let failure as BoardsFailure {
                throw exitWithFailure(failure.message)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check one board file: 'OK' and exit 0, or the first error and exit 1.")

        @Argument(help: "The board file to check.")
        var file: String

        func run() throws {
            do {
                let board = try BoardCatalog.load(URL(fileURLWithPath: file), displayPath: file)
                let gpios = board.headerPins.filter { $0.line != nil }.count
                let rigs = board.rigs.map(\.kind.rawValue).joined(separator: ", ")
                print("OK \(file): \(board.name), chip \(board.chipLabel), \(board.headerPins.count) header pins (\(gpios) GPIO), rigs: \(rigs.isEmpty ? "none" : rigs)")
            } catch let failure as BoardsFailure {
                throw exitWithFailure(failure.message)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a board's pin tables (header, PWM, rig wirings) as Markdown.")

        @Argument(help: "Board name, e.g. rpi4 (see `edge-ctl boards`).")
        var name: String

        @OptionGroup var directory: BoardsDirectoryOption

        func run() throws {
            do {
                print(BoardPinTable.render(try BoardCatalog.board(named: name, in: directory.resolve())), terminator: "")
            } catch let failure as BoardsFailure {
                throw exitWithFailure(failure.message)
            }
        }
    }

    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open the board's GPIO chip by label and check its lines (libgpiod; the sim board uses FirmwareSim).")

        @Argument(help: "Board name, e.g. rpi4.")
        var name: String

        @OptionGroup var directory: BoardsDirectoryOption

        @Option(help: "libgpiod to load (default: $EDGE_LIBGPIOD, else libgpiod.so.3, else libgpiod.so.2).")
        var libgpiod: String?

        @Option(help: "Directory holding the gpiochipN devices.")
        var deviceDir = "/dev"

        func run() throws {
            let board: BoardDescription
            do {
                board = try BoardCatalog.board(named: name, in: directory.resolve())
            } catch let failure as BoardsFailure {
                throw exitWithFailure(failure.message)
            }
            do {
                print(try probe(board))
            } catch {
                var message = "error: board \(board.name): \(error.message)"
                if error == .noSuchChip(chip: board.chipLabel), let library = try? LibgpiodLibrary.load(path: libgpiod) {
                    message += "; " + whatIsThere(LibgpiodBackend(library: library, deviceDirectory: deviceDir).availableChips())
                }
                throw exitWithFailure(message)
            }
        }

        /// Probes `board` on FirmwareSim (the sim board) or through libgpiod; returns the OK line.
        func probe(_ board: BoardDescription) throws(LineError) -> String {
            if board.chipLabel == SimBoardPins.chipLabel {
                let simulated = SimChip(label: SimBoardPins.chipLabel, lineCount: SimBoardPins.lineCount)
                let report = try BoardProbe.probe(board, backend: SimBackend(chips: [simulated]))
                return "OK \(board.name): simulated chip \(report.chipLabel) (\(report.lineCount) lines)"
            }
            let library = try LibgpiodLibrary.load(path: libgpiod)
            let report = try BoardProbe.probe(board, backend: LibgpiodBackend(library: library, deviceDirectory: deviceDir))
            return "OK \(board.name): chip \(report.chipLabel) is \(report.chipName) (\(report.lineCount) lines), \(library.summary)"
        }

        /// What the machine has instead of the wanted chip: nothing at all, or another board's chips.
        func whatIsThere(_ chips: [String]) -> String {
            chips.isEmpty
                ? "this machine has no \(deviceDir)/gpiochip* devices (no GPIO hardware, or a container started without them): run on the board or use --sim"
                : "chips found: \(chips.joined(separator: ", ")): pick the board file with one of these labels (edge-ctl boards)"
        }
    }
}
