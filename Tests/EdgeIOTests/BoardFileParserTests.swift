import EdgeIO
import Testing

/// A small valid board and helpers to change and parse it; the error tests change one line of it.
enum BoardFileFixture {
    /// Line numbers, used in the assertions: [board] 1, name 2, cpu 4, [chip] 5, label 6, lines 7,
    /// [header] 8, pins 9, `pin N` on line 9 + N, [pwm] 18, controller 19, channel 0 20, [rig motor] 21,
    /// encoder a 23, encoder b 24, pwm 25, direction 26, estop 27.
    static let text = """
[board]
name = tiny
description = A test board
cpu = cortex-a72
[chip]
label = tiny-gpio
lines = 6
[header]
pins = 8
pin 1 = 3v3
pin 2 = gpio 0
pin 3 = gpio 1
pin 4 = gpio 2 (PWM)
pin 5 = gpio 3
pin 6 = gpio 4
pin 7 = gpio 5
pin 8 = ground
[pwm]
controller = x.pwm
channel 0 = pin 4
[rig motor]
description = bench motor
encoder a = pin 2 pull-up
encoder b = pin 3 pull-up
pwm = pin 4
direction = pin 5
estop = pin 6 active-low pull-up
"""

    /// The fixture with the first line equal to `old` replaced by `new` (nil removes the line).
    static func replacing(_ old: String, with new: String?) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let index = lines.firstIndex(of: old)!
        if let new { lines[index] = new } else { lines.remove(at: index) }
        return lines.joined(separator: "\n")
    }

    /// The error parsing `text` as `path`, or nil when it parses.
    static func error(parsing text: String, path: String = "tiny.board") -> BoardFileError? {
        do {
            _ = try BoardFileParser.parse(text, path: path)
            return nil
        } catch {
            return error
        }
    }

    /// `text` with the first occurrence of `target` replaced.
    static func substituting(_ target: String, with replacement: String, in text: String) -> String {
        guard let range = text.range(of: target) else { return text }
        return text.replacingCharacters(in: range, with: replacement)
    }
}

@Suite("Board file parser")
struct BoardFileParserTests {
    @Test("A valid file gives the chip, every header pin, the PWM channel and the rig wiring")
    func parsesTinyBoard() throws {
        let board = try BoardFileParser.parse(BoardFileFixture.text, path: "boards/tiny.board")
        #expect(board.name == "tiny")
        #expect(board.cpu == "cortex-a72")
        #expect(board.chipLabel == "tiny-gpio")
        #expect(board.chipLines == 6)
        #expect(board.headerPins.map(\.number) == Array(1...8))
        #expect(board.headerPins.map(\.line) == [nil, 0, 1, 2, 3, 4, 5, nil])
        #expect(board.headerPin(4)?.note == "PWM")
        #expect(board.headerPin(8)?.function == .ground)
        #expect(board.pwm == HardwarePWM(controller: "x.pwm", setup: "", channels: [PWMChannel(channel: 0, pin: 4)]))
        let motor = try #require(board.rig(.motor))
        #expect(motor.pins.map(\.role) == [.encoderA, .encoderB, .pwm, .direction, .estop])
        #expect(motor.pins.map(\.pin) == [2, 3, 4, 5, 6])
        #expect(motor.pins.map(\.line) == [0, 1, 2, 3, 4])
        #expect(motor.pin(for: .estop) == RigPin(role: .estop, pin: 6, line: 4, activeLow: true, bias: .pullUp))
        #expect(motor.pin(for: .encoderA)?.bias == .pullUp)
        #expect(board.rig(.pendulum) == nil)
    }

    @Test("Comments, blank lines, CRLF line ends and extra spaces are accepted")
    func toleratesLayout() throws {
        var text = BoardFileFixture.substituting("cpu = cortex-a72", with: "  cpu   =   cortex-a72   # the core",
                                                 in: BoardFileFixture.text)
        text = BoardFileFixture.substituting("[chip]", with: "[ chip ]", in: text)
        text = "# a board\r\n\r\n" + text.split(separator: "\n").joined(separator: "\r\n")
        let board = try BoardFileParser.parse(text, path: "tiny.board")
        #expect(board.cpu == "cortex-a72")
        #expect(board.chipLines == 6)
        #expect(board.rig(.motor)?.pins.count == 5)
    }

    @Test("An unknown key is reported at its line and column with the keys allowed there")
    func unknownKey() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("cpu = cortex-a72", with: "cpu = cortex-a72\n  colour = red"))
        #expect(error?.line == 5)
        #expect(error?.column == 3)
        #expect(error?.problem == .unknownKey(key: "colour", section: "board", expected: "name, description, cpu"))
        #expect(error?.message == "tiny.board:5:3: error: unknown key 'colour' in [board] (expected: name, description, cpu)")
    }

    @Test("A key given twice names the line of the first one")
    func duplicateKey() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("lines = 6", with: "lines = 6\nlabel = other"))
        #expect(error?.line == 8)
        #expect(error?.column == 1)
        #expect(error?.problem == .duplicateKey(key: "label", section: "chip", firstLine: 6))
    }

    @Test("A header pin listed twice is a duplicate, also when written with a leading zero")
    func duplicatePin() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pin 8 = ground", with: "pin 8 = ground\npin 03 = 5v"))
        #expect(error?.line == 18)
        #expect(error?.problem == .duplicateKey(key: "pin 03", section: "header", firstLine: 12))
    }

    @Test("A line offset at or above the chip's line count is out of range, pointing at the number")
    func lineOutOfRange() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pin 7 = gpio 5", with: "pin 7 = gpio 6"))
        #expect(error?.line == 16)
        #expect(error?.column == 14)
        #expect(error?.problem == .lineOutOfRange(line: 6, chipLines: 6))
        #expect(error?.message.hasSuffix("line offset 6 is out of range: the chip has 6 lines (0...5)") == true)
    }

    @Test("Two header pins mapped to one chip line are rejected")
    func lineUsedTwice() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pin 7 = gpio 5", with: "pin 7 = gpio 1"))
        #expect(error?.line == 16)
        #expect(error?.problem == .lineUsedTwice(line: 1, pin: 7, otherPin: 3))
    }

    @Test("A pin given two roles in one rig is rejected at the second role")
    func pinUsedTwiceInRig() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("direction = pin 5", with: "direction = pin 2"))
        #expect(error?.line == 26)
        #expect(error?.column == 13)
        #expect(error?.problem == .pinUsedTwice(pin: 2, use: "direction", otherUse: "encoder a"))
    }

    @Test("Two PWM channels on one pin are rejected")
    func pwmPinUsedTwice() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("channel 0 = pin 4", with: "channel 0 = pin 4\nchannel 1 = pin 4"))
        #expect(error?.line == 21)
        #expect(error?.problem == .pinUsedTwice(pin: 4, use: "channel 1", otherUse: "channel 0"))
    }

    @Test("A missing required key is reported at its section header")
    func missingKey() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("cpu = cortex-a72", with: nil))
        #expect(error?.line == 1)
        #expect(error?.column == 1)
        #expect(error?.problem == .missingKey(key: "cpu", section: "board"))
        let rigError = BoardFileFixture.error(parsing: BoardFileFixture.replacing("estop = pin 6 active-low pull-up", with: nil))
        #expect(rigError?.line == 21)
        #expect(rigError?.problem == .missingKey(key: "estop", section: "rig motor"))
    }

    @Test("A missing section and a header that skips a pin are errors")
    func missingSectionAndPin() {
        var noChip = BoardFileFixture.replacing("[chip]", with: nil)
        noChip = BoardFileFixture.substituting("label = tiny-gpio\n", with: "", in: noChip)
        noChip = BoardFileFixture.substituting("lines = 6\n", with: "", in: noChip)
        #expect(BoardFileFixture.error(parsing: noChip)?.problem == .missingSection(name: "chip"))
        let error = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pin 6 = gpio 4", with: nil))
        #expect(error?.line == 8)
        #expect(error?.problem == .pinMissing(pin: 6, headerPins: 8))
    }

    @Test("Bad values say what was expected")
    func badValues() {
        let lines = BoardFileFixture.error(parsing: BoardFileFixture.replacing("lines = 6", with: "lines = six"))
        #expect(lines?.line == 7)
        #expect(lines?.column == 9)
        #expect(lines?.problem == .badValue(key: "lines", value: "six", expected: "a whole number in 1...4096"))
        let cpu = BoardFileFixture.error(parsing: BoardFileFixture.replacing("cpu = cortex-a72", with: "cpu = pentium"))
        #expect(cpu?.problem == .badValue(key: "cpu", value: "pentium",
                                          expected: "one of cortex-a53, cortex-a72, cortex-a76, generic"))
        let pin = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pin 5 = gpio 3", with: "pin 5 = gpoi 3"))
        #expect(pin?.line == 14)
        if case .badValue(let key, let value, _)? = pin?.problem {
            #expect(key == "pin 5")
            #expect(value == "gpoi 3")
        } else {
            Issue.record("expected a bad value, got \(String(describing: pin))")
        }
        let option = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pwm = pin 4", with: "pwm = pin 4 fast"))
        #expect(option?.column == 13)
        let bias = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pwm = pin 4", with: "pwm = pin 4 pull-up"))
        #expect(bias?.problem == .biasOnOutput(role: "pwm"))
    }

    @Test("Roles and PWM channels must sit on GPIO pins that exist")
    func pinsMustBeGPIO() {
        let ground = BoardFileFixture.error(parsing: BoardFileFixture.replacing("direction = pin 5", with: "direction = pin 8"))
        #expect(ground?.problem == .notAGPIOPin(pin: 8, function: "ground"))
        let missing = BoardFileFixture.error(parsing: BoardFileFixture.replacing("channel 0 = pin 4", with: "channel 0 = pin 9"))
        #expect(missing?.line == 20)
        #expect(missing?.column == 17)
        #expect(missing?.problem == .pinOutOfRange(pin: 9, headerPins: 8))
        let headerKey = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pin 8 = ground", with: "pin 9 = ground"))
        #expect(headerKey?.problem == .pinOutOfRange(pin: 9, headerPins: 8))
    }

    @Test("Sections: unknown names, duplicates and keys before any section are errors")
    func sections() {
        let unknown = BoardFileFixture.error(parsing: BoardFileFixture.replacing("[rig motor]", with: "[rig crane]"))
        #expect(unknown?.line == 21)
        #expect(unknown?.column == 2)
        if case .unknownSection(let name, _)? = unknown?.problem { #expect(name == "rig crane") } else {
            Issue.record("expected an unknown section")
        }
        let twice = BoardFileFixture.error(parsing: BoardFileFixture.text + "\n[chip]\nlabel = again")
        #expect(twice?.problem == .duplicateSection(name: "chip", firstLine: 5))
        let outside = BoardFileFixture.error(parsing: "name = tiny\n" + BoardFileFixture.text)
        #expect(outside?.line == 1)
        #expect(outside?.problem == .entryOutsideSection(key: "name"))
        let syntax = BoardFileFixture.error(parsing: BoardFileFixture.replacing("pins = 8", with: "pins 8"))
        #expect(syntax?.line == 9)
        #expect(syntax?.problem == .syntax(expected: "'key = value' or '[section]'"))
        let unclosed = BoardFileFixture.error(parsing: BoardFileFixture.replacing("[pwm]", with: "[pwm"))
        #expect(unclosed?.line == 18)
        #expect(unclosed?.column == 5)
    }

    @Test("The board name must equal the file name")
    func nameMatchesFile() {
        let error = BoardFileFixture.error(parsing: BoardFileFixture.text, path: "boards/other.board")
        #expect(error?.line == 2)
        #expect(error?.column == 8)
        #expect(error?.problem == .nameMismatch(name: "tiny", fileStem: "other"))
        #expect(BoardFileFixture.error(parsing: BoardFileFixture.text, path: "pasted text") == nil)
        #expect(BoardFileFixture.error(parsing: BoardFileFixture.replacing("name = tiny", with: "name = Tiny_1"), path: "x")?.problem
            == .badValue(key: "name", value: "Tiny_1", expected: "lowercase letters, digits and '-', starting with a letter"))
    }
}
