/// Reads the board file format (`boards/NAME.board`), a small INI dialect:
///
///     # comment (also after a value)
///     [board]
///     name = rpi4                    # lowercase letters, digits, '-'; equals the file name
///     description = Raspberry Pi 4 Model B (BCM2711, Cortex-A72)
///     cpu = cortex-a72               # cortex-a53 | cortex-a72 | cortex-a76 | generic
///     [chip]
///     label = pinctrl-bcm2711        # the chip label gpiodetect shows
///     lines = 58                     # line offsets below must be < lines
///     [header]
///     pins = 40                      # every pin 1...pins listed exactly once
///     pin 1 = 3v3                    # gpio N | 3v3 | 5v | ground, optional "(note)"
///     pin 11 = gpio 17
///     pin 12 = gpio 18 (PWM0)
///     [pwm]                          # optional: hardware PWM under /sys/class/pwm
///     controller = fe20c000.pwm      # device name that pwmchipN/device links to
///     setup = dtoverlay=pwm-2chan    # optional: how to enable it
///     channel 0 = pin 12             # channel N = pin P (a gpio pin)
///     [rig pendulum]                 # optional: rig pendulum | rig motor | rig cartpole
///     description = ...
///     encoder a = pin 11 pull-up     # role = pin P [active-low] [pull-up | pull-down]
///
/// Roles: pendulum and motor need `encoder a`, `encoder b`, `pwm`, `direction`, `estop`; cartpole
/// needs `pole encoder a/b`, `cart encoder a/b`, `pwm`, `direction`, `estop`, `limit left`,
/// `limit right` (`RigKind.roles`). Outputs (`pwm`, `direction`) take no pull-up/pull-down.
///
/// Strict on purpose: a typo in a wiring file drives the wrong pin, so every unknown section or key,
/// duplicate, out-of-range number, missing entry, line mapped twice and pin with two jobs is an error
/// at `file:line:column`. Works on text (no file access), so it runs in Embedded Swift on the board
/// and in tests alike.
public enum BoardFileParser {
    /// Cores the build can be tuned for (`-mcpu=`); `generic` means no tuning (the simulated board).
    public static var knownCPUs: [String] { ["cortex-a53", "cortex-a72", "cortex-a76", "generic"] }

    /// Section names a board file may use.
    public static var knownSections: [String] {
        ["board", "chip", "header", "pwm"] + RigKind.allCases.map { "rig " + $0.rawValue }
    }

    /// Parses and checks one board file. `path` is used in error messages and, when it ends in
    /// `.board`, to check that `name` equals the file name.
    public static func parse(_ text: String, path: String) throws(BoardFileError) -> BoardDescription {
        let reader = BoardFileReader(path: path)
        let sections = try reader.sections(of: text)

        let board = try reader.section("board", in: sections)
        let boardKeys = try reader.entries(of: board, allowed: ["name", "description", "cpu"])
        let nameEntry = try reader.required("name", in: board, boardKeys)
        let name = try reader.boardName(nameEntry)
        let description = try reader.required("description", in: board, boardKeys).text
        let cpuEntry = try reader.required("cpu", in: board, boardKeys)
        guard knownCPUs.contains(cpuEntry.text) else {
            throw reader.error(at: cpuEntry, .badValue(key: "cpu", value: cpuEntry.text,
                                                       expected: "one of " + knownCPUs.joined(separator: ", ")))
        }

        let chip = try reader.section("chip", in: sections)
        let chipKeys = try reader.entries(of: chip, allowed: ["label", "lines"])
        let label = try reader.required("label", in: chip, chipKeys).text
        let chipLines = try reader.integer(reader.required("lines", in: chip, chipKeys), in: 1...4096)

        let header = try reader.section("header", in: sections)
        let headerPins = try reader.headerPins(header, chipLines: chipLines)

        var pwm: HardwarePWM?
        if let section = sections.first(where: { $0.name == "pwm" }) {
            pwm = try reader.hardwarePWM(section, headerPins: headerPins)
        }

        var rigs: [RigWiring] = []
        for section in sections {
            if let kind = RigKind.allCases.first(where: { "rig " + $0.rawValue == section.name }) {
                rigs.append(try reader.rigWiring(kind, section, headerPins: headerPins))
            }
        }

        return BoardDescription(name: name, description: description, cpu: cpuEntry.text, chipLabel: label,
                                chipLines: chipLines, headerPins: headerPins, pwm: pwm, rigs: rigs)
    }
}

/// One whitespace-separated word of a value, with its 1-based column.
struct BoardFileToken {
    var text: String
    var column: Int
}

/// One `key = value` line.
struct BoardFileEntry {
    /// Key words joined by single spaces (`pin 11`, `encoder a`).
    var key: String
    var line: Int
    var keyColumn: Int
    /// The value as written, trimmed, comment removed.
    var text: String
    var valueColumn: Int
    /// The value split on whitespace.
    var tokens: [BoardFileToken]
}

/// One `[section]` and the entries under it.
struct BoardFileSection {
    var name: String
    var line: Int
    var column: Int
    var entries: [BoardFileEntry]
}

/// Parser state: the path for messages and the helpers that turn text into checked values.
struct BoardFileReader {
    let path: String

    func error(line: Int, column: Int, _ problem: BoardFileProblem) -> BoardFileError {
        BoardFileError(file: path, line: line, column: column, problem: problem)
    }

    func error(at entry: BoardFileEntry, _ problem: BoardFileProblem) -> BoardFileError {
        error(line: entry.line, column: entry.valueColumn, problem)
    }

    func error(at token: BoardFileToken, line: Int, _ problem: BoardFileProblem) -> BoardFileError {
        error(line: line, column: token.column, problem)
    }

    // MARK: Lexing

    /// Splits the text into sections, rejecting malformed lines, unknown and duplicate sections.
    func sections(of text: String) throws(BoardFileError) -> [BoardFileSection] {
        var sections: [BoardFileSection] = []
        var lineNumber = 0
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while true {
            let next = iterator.next()
            if let byte = next, byte != UInt8(ascii: "\n") {
                bytes.append(byte)
                continue
            }
            lineNumber += 1
            try lex(bytes, lineNumber: lineNumber, into: &sections)
            bytes.removeAll(keepingCapacity: true)
            if next == nil { break }
        }
        return sections
    }

    private func lex(_ raw: [UInt8], lineNumber: Int, into sections: inout [BoardFileSection]) throws(BoardFileError) {
        var end = raw.firstIndex(of: UInt8(ascii: "#")) ?? raw.count
        while end > 0 && BoardFileReader.isSpace(raw[end - 1]) { end -= 1 }
        var start = 0
        while start < end && BoardFileReader.isSpace(raw[start]) { start += 1 }
        if start == end { return }

        if raw[start] == UInt8(ascii: "[") {
            guard raw[end - 1] == UInt8(ascii: "]") else {
                throw error(line: lineNumber, column: end + 1, .syntax(expected: "']' to close the section name"))
            }
            let name = BoardFileReader.tokens(raw[(start + 1)..<(end - 1)], firstColumn: start + 2).map { $0.text }
                .joined(separator: " ")
            guard BoardFileParser.knownSections.contains(name) else {
                throw error(line: lineNumber, column: start + 2,
                            .unknownSection(name: name, expected: BoardFileParser.knownSections.joined(separator: ", ")))
            }
            if let first = sections.first(where: { $0.name == name }) {
                throw error(line: lineNumber, column: start + 1, .duplicateSection(name: name, firstLine: first.line))
            }
            sections.append(BoardFileSection(name: name, line: lineNumber, column: start + 1, entries: []))
            return
        }

        guard let equals = raw[start..<end].firstIndex(of: UInt8(ascii: "=")) else {
            throw error(line: lineNumber, column: start + 1, .syntax(expected: "'key = value' or '[section]'"))
        }
        let key = BoardFileReader.tokens(raw[start..<equals], firstColumn: start + 1).map { $0.text }.joined(separator: " ")
        guard !key.isEmpty else {
            throw error(line: lineNumber, column: start + 1, .syntax(expected: "a key before '='"))
        }
        var valueStart = equals + 1
        while valueStart < end && BoardFileReader.isSpace(raw[valueStart]) { valueStart += 1 }
        guard valueStart < end else {
            throw error(line: lineNumber, column: equals + 2, .syntax(expected: "a value after '\(key) ='"))
        }
        guard !sections.isEmpty else {
            throw error(line: lineNumber, column: start + 1, .entryOutsideSection(key: key))
        }
        let entry = BoardFileEntry(key: key, line: lineNumber, keyColumn: start + 1,
                                   text: String(decoding: raw[valueStart..<end], as: UTF8.self),
                                   valueColumn: valueStart + 1,
                                   tokens: BoardFileReader.tokens(raw[valueStart..<end], firstColumn: valueStart + 1))
        sections[sections.count - 1].entries.append(entry)
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// Whitespace-separated words of `bytes`; `firstColumn` is the column of `bytes.first`.
    static func tokens(_ bytes: ArraySlice<UInt8>, firstColumn: Int) -> [BoardFileToken] {
        var tokens: [BoardFileToken] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if isSpace(bytes[index]) { index += 1; continue }
            let start = index
            while index < bytes.endIndex && !isSpace(bytes[index]) { index += 1 }
            tokens.append(BoardFileToken(text: String(decoding: bytes[start..<index], as: UTF8.self),
                                         column: firstColumn + (start - bytes.startIndex)))
        }
        return tokens
    }

    // MARK: Keys

    func section(_ name: String, in sections: [BoardFileSection]) throws(BoardFileError) -> BoardFileSection {
        guard let section = sections.first(where: { $0.name == name }) else {
            throw error(line: 1, column: 1, .missingSection(name: name))
        }
        return section
    }

    /// The section's entries, after checking each key is allowed and appears once.
    func entries(of section: BoardFileSection, allowed: [String]) throws(BoardFileError) -> [BoardFileEntry] {
        try checkedEntries(of: section, expected: allowed.joined(separator: ", ")) { key in
            allowed.contains(key) ? key : nil
        }
    }

    /// Like `entries(of:allowed:)` with a key normalizer: returns the canonical key (so `pin 03` and
    /// `pin 3` collide) or nil for an unknown key.
    func checkedEntries(of section: BoardFileSection, expected: String,
                        canonicalKey: (String) -> String?) throws(BoardFileError) -> [BoardFileEntry] {
        var seen: [BoardFileEntry] = []
        for var entry in section.entries {
            guard let key = canonicalKey(entry.key) else {
                throw error(line: entry.line, column: entry.keyColumn,
                            .unknownKey(key: entry.key, section: section.name, expected: expected))
            }
            if let first = seen.first(where: { $0.key == key }) {
                throw error(line: entry.line, column: entry.keyColumn,
                            .duplicateKey(key: entry.key, section: section.name, firstLine: first.line))
            }
            entry.key = key
            seen.append(entry)
        }
        return seen
    }

    func required(_ key: String, in section: BoardFileSection,
                  _ entries: [BoardFileEntry]) throws(BoardFileError) -> BoardFileEntry {
        guard let entry = entries.first(where: { $0.key == key }) else {
            throw error(line: section.line, column: section.column, .missingKey(key: key, section: section.name))
        }
        return entry
    }

    // MARK: Values

    /// A whole decimal number (digits only) in `range`.
    static func number(_ text: String, in range: ClosedRange<Int>) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 6 else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return range.contains(value) ? value : nil
    }

    /// The entry's value as one whole number in `range`.
    func integer(_ entry: BoardFileEntry, in range: ClosedRange<Int>) throws(BoardFileError) -> Int {
        guard entry.tokens.count == 1, let value = BoardFileReader.number(entry.text, in: range) else {
            throw error(at: entry, .badValue(key: entry.key, value: entry.text,
                                             expected: "a whole number in \(range.lowerBound)...\(range.upperBound)"))
        }
        return value
    }

    func boardName(_ entry: BoardFileEntry) throws(BoardFileError) -> String {
        let name = entry.text
        var valid = !name.isEmpty
        for (index, byte) in name.utf8.enumerated() {
            let letter = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let digitOrDash = (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
            if !(letter || (index > 0 && digitOrDash)) { valid = false }
        }
        guard valid else {
            throw error(at: entry, .badValue(key: "name", value: name,
                                             expected: "lowercase letters, digits and '-', starting with a letter"))
        }
        var stem = Substring(path)
        if let slash = stem.lastIndex(of: "/") { stem = stem[stem.index(after: slash)...] }
        if stem.hasSuffix(".board") {
            let fileStem = String(stem.dropLast(6))
            guard fileStem == name else { throw error(at: entry, .nameMismatch(name: name, fileStem: fileStem)) }
        }
        return name
    }

    /// `pin N` (the key form used in [header]) to N, else nil.
    static func pinKey(_ key: String, prefix: String) -> Int? {
        let words = key.split(separator: " ")
        guard words.count == 2, words[0] == prefix else { return nil }
        return number(String(words[1]), in: 0...99_999)
    }

    // MARK: [header]

    func headerPins(_ section: BoardFileSection, chipLines: Int) throws(BoardFileError) -> [HeaderPin] {
        let entries = try checkedEntries(of: section, expected: "pins, pin N") { key in
            if key == "pins" { return key }
            return BoardFileReader.pinKey(key, prefix: "pin").map { "pin \($0)" }
        }
        let count = try integer(required("pins", in: section, entries), in: 1...200)
        var pins: [HeaderPin] = []
        for entry in entries where entry.key != "pins" {
            let number = BoardFileReader.pinKey(entry.key, prefix: "pin") ?? 0
            guard (1...count).contains(number) else {
                throw error(line: entry.line, column: entry.keyColumn, .pinOutOfRange(pin: number, headerPins: count))
            }
            let pin = try headerPin(number, entry, chipLines: chipLines)
            if let line = pin.line, let other = pins.first(where: { $0.line == line }) {
                throw error(at: entry, .lineUsedTwice(line: line, pin: number, otherPin: other.number))
            }
            pins.append(pin)
        }
        for number in 1...count where !pins.contains(where: { $0.number == number }) {
            throw error(line: section.line, column: section.column, .pinMissing(pin: number, headerPins: count))
        }
        pins.sort { $0.number < $1.number }
        return pins
    }

    /// `gpio N`, `3v3`, `5v` or `ground`, optionally followed by a note in parentheses.
    private func headerPin(_ number: Int, _ entry: BoardFileEntry, chipLines: Int) throws(BoardFileError) -> HeaderPin {
        let expected = "'gpio N', '3v3', '5v' or 'ground', optionally followed by '(note)'"
        var words = entry.tokens
        var note = ""
        if let open = entry.text.utf8.firstIndex(of: UInt8(ascii: "(")) {
            guard entry.text.hasSuffix(")") else {
                throw error(at: entry, .badValue(key: entry.key, value: entry.text, expected: expected))
            }
            let inside = entry.text[entry.text.index(after: open)..<entry.text.index(before: entry.text.endIndex)]
            note = String(inside)
            let noteColumn = entry.valueColumn + entry.text.utf8.distance(from: entry.text.startIndex, to: open)
            words = words.filter { $0.column < noteColumn }
        }
        let function: HeaderPinFunction
        switch words.map({ $0.text }) {
        case ["3v3"]: function = .power3V3
        case ["5v"]: function = .power5V
        case ["ground"]: function = .ground
        case let w where w.count == 2 && w[0] == "gpio":
            guard let line = BoardFileReader.number(w[1], in: 0...99_999) else {
                throw error(at: words[1], line: entry.line,
                            .badValue(key: entry.key, value: w[1], expected: "a line offset (whole number) after 'gpio'"))
            }
            guard line < chipLines else {
                throw error(at: words[1], line: entry.line, .lineOutOfRange(line: line, chipLines: chipLines))
            }
            function = .gpio(line: line)
        default:
            throw error(at: entry, .badValue(key: entry.key, value: entry.text, expected: expected))
        }
        return HeaderPin(number: number, function: function, note: note)
    }

    /// `pin N` as the value of a PWM channel or rig role: the header pin, which must be a GPIO.
    private func gpioPin(_ words: [BoardFileToken], _ entry: BoardFileEntry, headerPins: [HeaderPin],
                         expected: String) throws(BoardFileError) -> (number: Int, line: Int) {
        guard words.count >= 2, words[0].text == "pin" else {
            throw error(at: entry, .badValue(key: entry.key, value: entry.text, expected: expected))
        }
        guard let number = BoardFileReader.number(words[1].text, in: 0...99_999) else {
            throw error(at: words[1], line: entry.line,
                        .badValue(key: entry.key, value: words[1].text, expected: "a header pin number after 'pin'"))
        }
        guard let pin = headerPins.first(where: { $0.number == number }) else {
            throw error(at: words[1], line: entry.line, .pinOutOfRange(pin: number, headerPins: headerPins.count))
        }
        guard let line = pin.line else {
            throw error(at: words[1], line: entry.line, .notAGPIOPin(pin: number, function: pin.function.spelling))
        }
        return (number, line)
    }

    // MARK: [pwm]

    func hardwarePWM(_ section: BoardFileSection, headerPins: [HeaderPin]) throws(BoardFileError) -> HardwarePWM {
        let entries = try checkedEntries(of: section, expected: "controller, setup, channel N") { key in
            if key == "controller" || key == "setup" { return key }
            return BoardFileReader.pinKey(key, prefix: "channel").map { "channel \($0)" }
        }
        let controller = try required("controller", in: section, entries).text
        let setup = entries.first { $0.key == "setup" }?.text ?? ""
        var channels: [PWMChannel] = []
        for entry in entries where entry.key.hasPrefix("channel ") {
            let channel = BoardFileReader.pinKey(entry.key, prefix: "channel") ?? 0
            guard channel < 64 else {
                throw error(line: entry.line, column: entry.keyColumn,
                            .badValue(key: entry.key, value: "\(channel)", expected: "a channel number in 0...63"))
            }
            guard entry.tokens.count == 2 else {
                throw error(at: entry, .badValue(key: entry.key, value: entry.text, expected: "'pin N'"))
            }
            let pin = try gpioPin(entry.tokens, entry, headerPins: headerPins, expected: "'pin N'")
            if let other = channels.first(where: { $0.pin == pin.number }) {
                throw error(at: entry, .pinUsedTwice(pin: pin.number, use: entry.key, otherUse: "channel \(other.channel)"))
            }
            channels.append(PWMChannel(channel: channel, pin: pin.number))
        }
        guard !channels.isEmpty else {
            throw error(line: section.line, column: section.column, .missingKey(key: "channel N", section: section.name))
        }
        channels.sort { $0.channel < $1.channel }
        return HardwarePWM(controller: controller, setup: setup, channels: channels)
    }

    // MARK: [rig KIND]

    func rigWiring(_ kind: RigKind, _ section: BoardFileSection,
                   headerPins: [HeaderPin]) throws(BoardFileError) -> RigWiring {
        let entries = try entries(of: section, allowed: ["description"] + kind.roles.map { $0.rawValue })
        let description = try required("description", in: section, entries).text
        for role in kind.roles { _ = try required(role.rawValue, in: section, entries) }
        let expected = "'pin N' followed by any of: active-low, pull-up, pull-down"
        var pins: [RigPin] = []
        for entry in entries {
            guard let role = RigRole(rawValue: entry.key) else { continue }
            let pin = try gpioPin(entry.tokens, entry, headerPins: headerPins, expected: expected)
            var activeLow = false
            var bias = PinBias.none
            for option in entry.tokens.dropFirst(2) {
                switch option.text {
                case "active-low" where !activeLow:
                    activeLow = true
                case "pull-up" where bias == .none, "pull-down" where bias == .none:
                    guard !role.isOutput else {
                        throw error(at: option, line: entry.line, .biasOnOutput(role: role.rawValue))
                    }
                    bias = option.text == "pull-up" ? .pullUp : .pullDown
                default:
                    throw error(at: option, line: entry.line,
                                .badValue(key: entry.key, value: option.text,
                                          expected: "each of active-low and one of pull-up, pull-down at most once"))
                }
            }
            if let other = pins.first(where: { $0.pin == pin.number }) {
                throw error(at: entry, .pinUsedTwice(pin: pin.number, use: role.rawValue, otherUse: other.role.rawValue))
            }
            pins.append(RigPin(role: role, pin: pin.number, line: pin.line, activeLow: activeLow, bias: bias))
        }
        let ordered = kind.roles.compactMap { role in pins.first { $0.role == role } }
        return RigWiring(kind: kind, description: description, pins: ordered)
    }
}
