import CEdgeSys
import EdgeIO
import EdgeRuntime

/// Finding and reading board files on the board, where the binary is usually installed as
/// `/usr/local/bin/edge-ctl` with the board files in `/usr/local/share/edge-ctl/boards`.
/// The search order is the host CLI's: `--boards-dir`; `$EDGE_BOARDS_DIR`; `../share/edge-ctl/boards`
/// next to the executable; `boards/` in the executable's directory or a parent; `boards/` in the
/// current directory or a parent. One difference: the host takes the first directory holding any
/// `*.board` file, the board binary the first holding `NAME.board` (it cannot list directories yet).
enum BoardFiles {
    /// `--boards-dir`, shared by the `boards` subcommands that take a board name.
    static let directoryOption = OptionSpec.option(
        "--boards-dir", "boards-dir",
        "Directory of *.board files (default: $EDGE_BOARDS_DIR, else ../share/edge-ctl/boards or boards/ next to the executable, else boards/ in the current directory or a parent).")

    /// The path of board `name`'s file, or a one-line error saying where it looked.
    static func path(ofBoard name: String, directory: String?) throws(CommandFailure) -> String {
        let candidates = directory.map { [$0] } ?? searchDirectories()
        for candidate in candidates {
            let file = FileSystem.join(candidate, name + ".board")
            if FileSystem.exists(file) { return file }
        }
        if let directory {
            throw CommandFailure("error: no board '\(name)': \(FileSystem.join(directory, name + ".board")) does not exist")
        }
        throw CommandFailure("error: no board '\(name)': no \(name).board in " + candidates.joined(separator: ", ")
                             + "; pass --boards-dir DIR or set EDGE_BOARDS_DIR")
    }

    /// Reads and checks one board file; errors are one line, `file:line:column: error: ...`.
    static func load(_ path: String) throws(CommandFailure) -> BoardDescription {
        let text: String
        do { text = try readText(path) } catch { throw CommandFailure("error: " + error.message) }
        do { return try BoardFileParser.parse(text, path: path) } catch { throw CommandFailure(error.message) }
    }

    /// The candidate directories, in search order.
    static func searchDirectories() -> [String] {
        var directories: [String] = []
        if let environment = environmentVariable("EDGE_BOARDS_DIR"), !environment.isEmpty {
            directories.append(environment)
        }
        let currentDirectory = environmentVariable("PWD").flatMap { $0.hasPrefix("/") ? $0 : nil }
        if let executable = executablePath() {
            var binDirectory = FileSystem.directory(of: executable)
            if !binDirectory.hasPrefix("/"), let currentDirectory {
                binDirectory = FileSystem.join(currentDirectory, binDirectory)
            }
            directories.append(FileSystem.join(FileSystem.directory(of: binDirectory), "share/edge-ctl/boards"))
            directories += selfAndParents(binDirectory).map { FileSystem.join($0, "boards") }
        }
        directories += selfAndParents(currentDirectory ?? ".").map { FileSystem.join($0, "boards") }
        return directories
    }

    /// `path` and each directory above it, up to `/` (or up to `.` for a relative path).
    static func selfAndParents(_ path: String) -> [String] {
        var paths = [path]
        var current = path
        while current != "/" && current != "." {
            current = FileSystem.directory(of: current)
            paths.append(current)
        }
        return paths
    }

    /// Where this program was started from: argv[0] when it names a path, else the first match on $PATH.
    static func executablePath() -> String? {
        guard edge_argument_count() > 0, let argument = edge_argument(0) else { return nil }
        let invoked = String(cString: argument)
        if invoked.utf8.contains(UInt8(ascii: "/")) { return invoked }
        for directory in (environmentVariable("PATH") ?? "").utf8.split(separator: UInt8(ascii: ":")) {
            let candidate = FileSystem.join(String(decoding: directory, as: UTF8.self), invoked)
            if FileSystem.exists(candidate) { return candidate }
        }
        return nil
    }
}

/// The value of environment variable `name`, or nil.
func environmentVariable(_ name: String) -> String? {
    guard let value = name.withCString({ edge_getenv($0) }) else { return nil }
    return String(cString: value)
}

/// The whole file at `path` as UTF-8 text.
func readText(_ path: String) throws(FileError) -> String {
    String(decoding: try FileHandle(path: path, mode: .read).readAll(), as: UTF8.self)
}
