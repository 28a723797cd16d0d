/// The board binary's command-line parser: one table per command (`CommandSpec`) drives both parsing
/// and `--help`, so the two cannot drift apart. It accepts what swift-argument-parser accepts for the
/// host CLI's commands: `--name value`, `--name=value`, repeated options, flags, positional arguments,
/// `--` to end options, and `-h`/`--help` anywhere. Errors are one line and exit with 64, as on the host.

/// One option (`--seed <seed>`) or flag (`--json`) of a command.
struct OptionSpec {
    /// With the dashes: `--seed`.
    let name: String
    /// The value's placeholder without brackets (`seed`), or nil for a flag.
    let value: String?
    let help: String

    static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, value: nil, help: help)
    }

    static func option(_ name: String, _ value: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, value: value, help: help)
    }
}

/// One positional argument.
struct ArgumentSpec {
    let name: String
    let help: String
    /// Whether it may be left out.
    let optional: Bool
}

/// What a command accepts and how `--help` describes it.
struct CommandSpec {
    /// As typed: `edge-ctl boards show`.
    let path: String
    /// One sentence.
    let abstract: String
    var arguments: [ArgumentSpec] = []
    var options: [OptionSpec] = []
    /// Subcommands listed in the help, as (name, abstract).
    var subcommands: [(name: String, abstract: String)] = []
    /// Free text after the options (examples).
    var discussion = ""

    func option(named name: String) -> OptionSpec? {
        options.first { $0.name == name }
    }

    /// The `--help` text, laid out like swift-argument-parser's.
    var helpText: String {
        var usage = "USAGE: " + path
        if !subcommands.isEmpty { usage += " <subcommand>" }
        for argument in arguments { usage += argument.optional ? " [<\(argument.name)>]" : " <\(argument.name)>" }
        for option in options { usage += " [" + option.name + (option.value.map { " <\($0)>" } ?? "") + "]" }

        var rows: [(String, String)] = arguments.map { ("<\($0.name)>", $0.help) }
        rows += options.map { ($0.name + ($0.value.map { " <\($0)>" } ?? ""), $0.help) }
        rows.append(("-h, --help", "Show help information."))
        let width = rows.reduce(0) { max($0, $1.0.utf8.count) } + 2

        var text = "OVERVIEW: " + abstract + "\n\n" + usage + "\n"
        if !subcommands.isEmpty {
            let subWidth = subcommands.reduce(0) { max($0, $1.name.utf8.count) } + 2
            text += "\nSUBCOMMANDS:\n"
            for sub in subcommands {
                text += "  " + sub.name + String(repeating: " ", count: subWidth - sub.name.utf8.count) + sub.abstract + "\n"
            }
        }
        text += "\nOPTIONS:\n"
        for (name, help) in rows {
            text += "  " + name + String(repeating: " ", count: width - name.utf8.count) + help + "\n"
        }
        if !discussion.isEmpty { text += "\n" + discussion + "\n" }
        return text
    }

    /// The usage error `message`, with a pointer to the help.
    func usageError(_ message: String) -> CommandFailure {
        CommandFailure("error: " + message + " (see '" + path + " --help')", status: ExitStatus.usage)
    }
}

/// A command line parsed against one `CommandSpec`: option values in the order given, flags, and
/// positional arguments. The typed accessors check values and throw one-line usage errors.
struct ParsedArguments {
    let spec: CommandSpec
    /// (option name, value) in command-line order; flags have an empty value.
    private(set) var given: [(name: String, value: String)] = []
    private(set) var positionals: [String] = []
    /// `-h` or `--help` appeared.
    private(set) var wantsHelp = false

    /// Parses `arguments` (the words after the command's name).
    init(_ arguments: ArraySlice<String>, spec: CommandSpec) throws(CommandFailure) {
        self.spec = spec
        var index = arguments.startIndex
        var optionsEnded = false
        while index < arguments.endIndex {
            let word = arguments[index]
            index += 1
            if optionsEnded || !word.hasPrefix("-") || word == "-" {
                positionals.append(word)
                continue
            }
            if word == "--" { optionsEnded = true; continue }
            if word == "-h" || word == "--help" { wantsHelp = true; continue }
            var name = word
            var inlineValue: String?
            if let equals = word.utf8.firstIndex(of: UInt8(ascii: "=")) {
                name = String(word[..<equals])
                inlineValue = String(word[word.utf8.index(after: equals)...])
            }
            guard let option = spec.option(named: name) else {
                throw spec.usageError("unknown option '\(name)'")
            }
            if option.value == nil {
                if inlineValue != nil { throw spec.usageError("'\(name)' is a flag and takes no value") }
                given.append((name, ""))
            } else if let inlineValue {
                given.append((name, inlineValue))
            } else {
                guard index < arguments.endIndex else { throw spec.usageError("missing value for '\(name) <\(option.value!)>'") }
                given.append((name, arguments[index]))
                index += 1
            }
        }
        if wantsHelp { return }
        let allowed = spec.arguments.count
        if positionals.count > allowed {
            throw spec.usageError("unexpected argument '\(positionals[allowed])'")
        }
        for (position, argument) in spec.arguments.enumerated() where !argument.optional && position >= positionals.count {
            throw spec.usageError("missing <\(argument.name)>")
        }
    }

    /// Whether the flag was given.
    func flag(_ name: String) -> Bool {
        given.contains { $0.name == name }
    }

    /// The option's last value (later ones win, as on the host), or nil.
    func string(_ name: String) -> String? {
        given.last { $0.name == name }?.value
    }

    /// Every value of a repeatable option, in order.
    func strings(_ name: String) -> [String] {
        given.filter { $0.name == name }.map { $0.value }
    }

    /// Positional argument `index`, or nil when it was left out.
    func positional(_ index: Int) -> String? {
        index < positionals.count ? positionals[index] : nil
    }

    /// The option as a whole number in `range`, or `fallback` when absent.
    func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(CommandFailure) -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            let bound = range.upperBound == Int.max ? "\(range.lowerBound) or more" : "in \(range.lowerBound)...\(range.upperBound)"
            throw spec.usageError("the value '\(text)' of '\(name)' is not a whole number \(bound)")
        }
        return value
    }

    /// The option as a number in `range`, or `fallback` when absent (parsed as a Float: Embedded
    /// Swift's `Double(String)` has no runtime hook here).
    func number(_ name: String, default fallback: Double, in range: ClosedRange<Double>) throws(CommandFailure) -> Double {
        guard let text = string(name) else { return fallback }
        guard let value = Float(text).map(Double.init), value.isFinite, range.contains(value) else {
            throw spec.usageError("the value '\(text)' of '\(name)' is not a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// The option as an unsigned 64-bit number, or nil when absent.
    func unsigned(_ name: String) throws(CommandFailure) -> UInt64? {
        guard let text = string(name) else { return nil }
        guard let value = UInt64(text) else {
            throw spec.usageError("the value '\(text)' of '\(name)' is not a whole number from 0 to \(UInt64.max)")
        }
        return value
    }

    /// The option as one of `choices` (matched on `name`), or `fallback` when absent.
    func choice<Choice>(_ name: String, default fallback: Choice,
                        from choices: [(name: String, value: Choice)]) throws(CommandFailure) -> Choice {
        guard let text = string(name) else { return fallback }
        guard let match = choices.first(where: { $0.name == text }) else {
            throw spec.usageError("the value '\(text)' of '\(name)' is not one of: "
                                  + choices.map { $0.name }.joined(separator: ", "))
        }
        return match.value
    }
}
