/// Where an external plant is: a command edge-ctl starts (`exec:COMMAND ARGS`, run by `/bin/sh -c`, so
/// quoting and `VAR=value` prefixes work as in a shell) or a Unix socket a running plant listens on
/// (`unix:PATH`).
public enum PlantAddress: Equatable, Sendable {
    case exec(command: String)
    case unix(path: String)

    /// Parses `exec:COMMAND` or `unix:PATH`; nil for anything else (an empty command or path included).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        func rest(after prefix: String) -> String? {
            let p = Array(prefix.utf8)
            guard bytes.count > p.count, Array(bytes[0..<p.count]) == p else { return nil }
            let tail = bytes[p.count...]
            guard tail.contains(where: { $0 != 32 && $0 != 9 }) else { return nil }
            return String(decoding: tail, as: UTF8.self)
        }
        if let command = rest(after: "exec:") {
            self = .exec(command: command)
        } else if let path = rest(after: "unix:") {
            self = .unix(path: path)
        } else {
            return nil
        }
    }

    /// How messages name the plant: `exec:'COMMAND'` or `unix:PATH`.
    public var label: String {
        switch self {
        case .exec(let command): return "exec:'" + command + "'"
        case .unix(let path): return "unix:" + path
        }
    }
}
