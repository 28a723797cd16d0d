/// What `BoardProbe.probe` found.
public struct BoardProbeReport: Equatable, Sendable {
    /// Kernel name of the chip that carries the label (e.g. "gpiochip0").
    public var chipName: String
    public var chipLabel: String
    public var lineCount: Int

    public init(chipName: String, chipLabel: String, lineCount: Int) {
        self.chipName = chipName
        self.chipLabel = chipLabel
        self.lineCount = lineCount
    }
}

/// Checks that the machine has the board a board file describes: its chip (found by label) opens and
/// has every line the header uses. `edge-ctl boards probe NAME` runs this before any wiring is trusted.
public enum BoardProbe {
    /// Opens `board`'s chip through `backend`, checks its lines and closes it again.
    /// Throws the backend's error (e.g. `noSuchChip` naming the label) or `offsetOutOfRange` when the
    /// chip is smaller than the header needs.
    public static func probe<Backend: LineBackend>(_ board: BoardDescription,
                                                   backend: Backend) throws(LineError) -> BoardProbeReport {
        let chip = try backend.openChip(label: board.chipLabel)
        defer { chip.close() }
        if let highest = board.headerPins.compactMap({ $0.line }).max(), highest >= chip.lineCount {
            throw .offsetOutOfRange(chip: chip.label, offset: UInt32(highest), lineCount: chip.lineCount)
        }
        return BoardProbeReport(chipName: chip.name, chipLabel: chip.label, lineCount: chip.lineCount)
    }
}
