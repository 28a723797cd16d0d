/// A problem in a board file, with the place it was found. `message` is the compiler-style one-line
/// form `file:line:column: error: ...` that editors and terminals can jump to.
public struct BoardFileError: Error, Equatable, Sendable {
    /// The path as given to the parser.
    public var file: String
    /// 1-based line of the offending text.
    public var line: Int
    /// 1-based column (in bytes) of the offending token.
    public var column: Int
    public var problem: BoardFileProblem

    public init(file: String, line: Int, column: Int, problem: BoardFileProblem) {
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
    }

    /// `file:line:column: error: what is wrong and what is expected`.
    public var message: String {
        "\(file):\(line):\(column): error: \(problem.explanation)"
    }
}

/// What is wrong, with the values needed to say so precisely.
public enum BoardFileProblem: Equatable, Sendable {
    /// A line that is neither `[section]` nor `key = value`.
    case syntax(expected: String)
    case unknownSection(name: String, expected: String)
    case duplicateSection(name: String, firstLine: Int)
    /// A `key = value` line before the first section.
    case entryOutsideSection(key: String)
    case unknownKey(key: String, section: String, expected: String)
    case duplicateKey(key: String, section: String, firstLine: Int)
    case missingKey(key: String, section: String)
    case missingSection(name: String)
    case badValue(key: String, value: String, expected: String)
    /// A GPIO line offset at or above the chip's line count.
    case lineOutOfRange(line: Int, chipLines: Int)
    /// A pin number outside 1...headerPins.
    case pinOutOfRange(pin: Int, headerPins: Int)
    /// The header section does not list this pin.
    case pinMissing(pin: Int, headerPins: Int)
    /// Two header pins claim the same chip line.
    case lineUsedTwice(line: Int, pin: Int, otherPin: Int)
    /// One pin given two jobs (two roles of a rig, or two PWM channels).
    case pinUsedTwice(pin: Int, use: String, otherUse: String)
    /// A role or PWM channel placed on a power or ground pin.
    case notAGPIOPin(pin: Int, function: String)
    /// `name` differs from the file name, so `boards show NAME` would not find it.
    case nameMismatch(name: String, fileStem: String)
    /// Pull-up or pull-down on a role the program drives.
    case biasOnOutput(role: String)

    /// The part of the message after `error: `.
    public var explanation: String {
        switch self {
        case .syntax(let expected):
            return "expected \(expected)"
        case .unknownSection(let name, let expected):
            return "unknown section [\(name)] (known sections: \(expected))"
        case .duplicateSection(let name, let firstLine):
            return "section [\(name)] appears twice (first on line \(firstLine)); merge them"
        case .entryOutsideSection(let key):
            return "'\(key)' comes before any [section]; start the file with [board]"
        case .unknownKey(let key, let section, let expected):
            return "unknown key '\(key)' in [\(section)] (expected: \(expected))"
        case .duplicateKey(let key, let section, let firstLine):
            return "duplicate key '\(key)' in [\(section)] (first set on line \(firstLine))"
        case .missingKey(let key, let section):
            return "[\(section)] is missing the required key '\(key)'"
        case .missingSection(let name):
            return "missing required section [\(name)]"
        case .badValue(let key, let value, let expected):
            return "bad value '\(value)' for '\(key)': expected \(expected)"
        case .lineUsedTwice(let line, let pin, let otherPin):
            return "line \(line) is mapped twice: pin \(pin) and pin \(otherPin); each chip line belongs to one pin"
        case .lineOutOfRange(let line, let chipLines):
            return "line offset \(line) is out of range: the chip has \(chipLines) lines (0...\(chipLines - 1))"
        case .pinOutOfRange(let pin, let headerPins):
            return "pin \(pin) is out of range: the header has pins 1...\(headerPins)"
        case .pinMissing(let pin, let headerPins):
            return "[header] does not list pin \(pin); list every pin 1...\(headerPins) (gpio N, 3v3, 5v or ground)"
        case .pinUsedTwice(let pin, let use, let otherUse):
            return "pin \(pin) is used twice: '\(use)' and '\(otherUse)'; give each its own pin"
        case .notAGPIOPin(let pin, let function):
            return "pin \(pin) is \(function), not a GPIO; pick a pin listed as 'gpio N' in [header]"
        case .nameMismatch(let name, let fileStem):
            return "name '\(name)' differs from the file name '\(fileStem).board'; make them equal"
        case .biasOnOutput(let role):
            return "'\(role)' is an output; pull-up and pull-down apply to inputs only"
        }
    }
}
