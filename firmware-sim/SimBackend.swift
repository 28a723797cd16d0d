import EdgeIO

/// The simulator as a `LineBackend`: a fixed set of simulated chips, opened by label or by the
/// path "/dev/gpiochipN" (N = position in `chips`), as the libgpiod backend opens real ones.
public struct SimBackend: LineBackend {
    public let chips: [SimChip]

    public init(chips: [SimChip]) {
        self.chips = chips
    }

    public func openChip(label: String) throws(LineError) -> SimChip {
        guard let chip = chips.first(where: { $0.label == label }) else { throw .noSuchChip(chip: label) }
        return chip
    }

    public func openChip(path: String) throws(LineError) -> SimChip {
        for (index, chip) in chips.enumerated() where path == "/dev/gpiochip\(index)" {
            return chip
        }
        throw .noSuchChip(chip: path)
    }
}
