import EdgeIO
import Foundation
import Testing

/// The boards shipped in `boards/`, and reference facts written out independently of the files.
enum ShippedBoards {
    /// The package's `boards/` directory, found from this file's path.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("boards")

    /// Parses `boards/NAME.board`.
    static func load(_ name: String) throws -> BoardDescription {
        let file = directory.appendingPathComponent(name + ".board")
        let text = try String(contentsOf: file, encoding: .utf8)
        return try BoardFileParser.parse(text, path: "boards/\(name).board")
    }

    /// The Raspberry Pi 40-pin header: physical pin to BCM GPIO.
    static let raspberryPiGPIO: [Int: Int] = [
        3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10, 21: 9,
        22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19, 36: 16, 37: 26,
        38: 20, 40: 21,
    ]
    static let raspberryPiGround = [6, 9, 14, 20, 25, 30, 34, 39]

    /// Cells of the Markdown table row in `text` whose cells start with `first`.
    static func tableRow(_ text: String, startingWith first: [String]) -> [String]? {
        for line in text.split(separator: "\n") where line.hasPrefix("|") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.starts(with: first) { return cells }
        }
        return nil
    }
}

@Suite("Shipped board files")
struct BoardFilesTests {
    @Test("Every board file in boards/ parses, and the set is the documented one")
    func allBoardsParse() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: ShippedBoards.directory.path)
            .filter { $0.hasSuffix(".board") }.map { String($0.dropLast(6)) }.sorted()
        #expect(names == ["rpi3", "rpi4", "rpi5", "sim", "zero2w"])
        for name in names { #expect(try ShippedBoards.load(name).name == name) }
    }

    @Test("Chip labels, line counts and CPUs match each board's SoC",
          arguments: [("rpi3", "pinctrl-bcm2835", 54, "cortex-a53"), ("zero2w", "pinctrl-bcm2835", 54, "cortex-a53"),
                      ("rpi4", "pinctrl-bcm2711", 58, "cortex-a72"), ("rpi5", "pinctrl-rp1", 54, "cortex-a76"),
                      ("sim", "edge-sim", 54, "generic")])
    func chipAndCPU(name: String, label: String, lines: Int, cpu: String) throws {
        let board = try ShippedBoards.load(name)
        #expect(board.chipLabel == label)
        #expect(board.chipLines == lines)
        #expect(board.cpu == cpu)
    }

    @Test("Every board has the Raspberry Pi 40-pin header: BCM GPIO numbers, 3V3, 5V and ground",
          arguments: ["rpi3", "zero2w", "rpi4", "rpi5", "sim"])
    func raspberryPiHeader(name: String) throws {
        let board = try ShippedBoards.load(name)
        #expect(board.headerPins.count == 40)
        for pin in board.headerPins {
            if let gpio = ShippedBoards.raspberryPiGPIO[pin.number] {
                #expect(pin.function == .gpio(line: gpio), "pin \(pin.number)")
            } else if ShippedBoards.raspberryPiGround.contains(pin.number) {
                #expect(pin.function == .ground, "pin \(pin.number)")
            } else {
                #expect(pin.function == ([1, 17].contains(pin.number) ? .power3V3 : .power5V), "pin \(pin.number)")
            }
        }
    }

    @Test("Hardware PWM: the controller device and which pins carry which channel",
          arguments: [("rpi3", "3f20c000.pwm", [0, 1]), ("zero2w", "3f20c000.pwm", [0, 1]),
                      ("rpi4", "fe20c000.pwm", [0, 1]), ("rpi5", "1f00098000.pwm", [2, 3])])
    func hardwarePWM(name: String, controller: String, channels: [Int]) throws {
        let pwm = try #require(try ShippedBoards.load(name).pwm)
        #expect(pwm.controller == controller)
        #expect(pwm.channels == [PWMChannel(channel: channels[0], pin: 12), PWMChannel(channel: channels[1], pin: 35)])
        #expect(pwm.channel(forPin: 12) == channels[0])
        #expect(pwm.channel(forPin: 11) == nil)
    }

    @Test("The three rigs are wired to the same lines on every board, the simulated one included",
          arguments: ["rpi3", "zero2w", "rpi4", "rpi5", "sim"])
    func rigWiring(name: String) throws {
        let board = try ShippedBoards.load(name)
        #expect(board.rigs.map(\.kind) == [.pendulum, .motor, .cartpole])
        for kind in [RigKind.pendulum, .motor] {
            let rig = try #require(board.rig(kind))
            #expect(rig.pins.map(\.line) == [17, 27, 18, 23, 24])
            #expect(rig.pins.map(\.pin) == [11, 13, 12, 16, 18])
        }
        let cartpole = try #require(board.rig(.cartpole))
        #expect(cartpole.pins.map(\.line) == [17, 27, 5, 6, 18, 23, 24, 20, 21])
        for role in [RigRole.estop, .limitLeft, .limitRight] {
            #expect(cartpole.pin(for: role)?.activeLow == true)
            #expect(cartpole.pin(for: role)?.bias == .pullUp)
        }
        #expect(cartpole.pin(for: .pwm)?.activeLow == false)
    }

    @Test("The pin table shows the header as laid out on the board and each rig's wiring")
    func pinTable() throws {
        let text = BoardPinTable.render(try ShippedBoards.load("rpi4"))
        #expect(text.hasPrefix("## rpi4: Raspberry Pi 4 Model B (BCM2711, Cortex-A72)\n"))
        #expect(ShippedBoards.tableRow(text, startingWith: ["3V3"]) == ["3V3", "", "1", "2", "", "5V"])
        #expect(ShippedBoards.tableRow(text, startingWith: ["GPIO17"]) == ["GPIO17", "17", "11", "12", "18", "GPIO18 PWM0"])
        #expect(ShippedBoards.tableRow(text, startingWith: ["GND", "", "39"]) == ["GND", "", "39", "40", "21", "GPIO21"])
        #expect(ShippedBoards.tableRow(text, startingWith: ["1"]) == ["1", "35", "19"])
        #expect(ShippedBoards.tableRow(text, startingWith: ["pwm"]) == ["pwm", "12", "18", "output, hardware PWM channel 0"])
        #expect(ShippedBoards.tableRow(text, startingWith: ["limit right"]) == ["limit right", "40", "21", "input, pull-up, active-low"])
        #expect(text.components(separatedBy: "### Rig ").count == 4)
    }
}
