import EdgeIO
import FirmwareSim
import Testing

@Suite("Board probe")
struct BoardFileProbeTests {
    @Test("Probing the sim board through the simulated backend finds its chip and line count")
    func probeSim() throws {
        let board = try ShippedBoards.load("sim")
        let report = try BoardProbe.probe(board, backend: SimBackend(chips: [SimChip()]))
        #expect(report == BoardProbeReport(chipName: "edge-sim", chipLabel: "edge-sim", lineCount: 54))
    }

    @Test("A chip with fewer lines than the header uses fails with the highest line offset")
    func chipTooSmall() throws {
        let board = try ShippedBoards.load("sim")
        let small = SimBackend(chips: [SimChip(label: "edge-sim", lineCount: 20)])
        do {
            _ = try BoardProbe.probe(board, backend: small)
            Issue.record("expected offsetOutOfRange")
        } catch {
            #expect(error == .offsetOutOfRange(chip: "edge-sim", offset: 27, lineCount: 20))
        }
    }

    @Test("A board whose chip label is absent fails with noSuchChip naming the label")
    func wrongBoard() throws {
        let board = try ShippedBoards.load("rpi5")
        do {
            _ = try BoardProbe.probe(board, backend: SimBackend(chips: [SimChip()]))
            Issue.record("expected noSuchChip")
        } catch {
            #expect(error == .noSuchChip(chip: "pinctrl-rp1"))
        }
    }
}
