import Foundation
import Testing
import EdgeIO
import FirmwareSim

/// boards/sim.board (parsed by the board-file parser) wires the rigs as FirmwareSim does.
@Suite("Simulated board file")
struct SimBoardFileTests {
    func simBoard() throws -> BoardDescription {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("boards/sim.board").path
        return try BoardFileParser.parse(try String(contentsOfFile: path, encoding: .utf8), path: path)
    }

    @Test("boards/sim.board names the sim chip and gives each rig the pins SimBoardPins uses")
    func wiringMatches() throws {
        let board = try simBoard()
        #expect(board.chipLabel == SimBoardPins.chipLabel)
        #expect(board.chipLines == SimBoardPins.lineCount)
        for kind in RigKind.allCases {
            let wiring = try #require(board.rig(kind))
            #expect(PlantPins(wiring: wiring) == SimBoardPins.plantPins(for: kind), "rig \(kind.rawValue)")
            let pwmPin = try #require(wiring.pin(for: .pwm))
            #expect(UInt32(pwmPin.line) == SimBoardPins.pwmLine)
            #expect(board.pwm?.channel(forPin: pwmPin.pin) == SimBoardPins.pwmChannel)
        }
    }
}
