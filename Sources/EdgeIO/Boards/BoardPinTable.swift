/// The wiring of a board as Markdown tables (`edge-ctl boards show NAME`): the header laid out as on
/// the board (odd pins left, even pins right), the hardware PWM channels, and one table per rig.
/// Columns are padded, so the same text reads well in a terminal and renders in a README.
public enum BoardPinTable {
    public static func render(_ board: BoardDescription) -> String {
        var out = "## \(board.name): \(board.description)\n\n"
        out += "Chip `\(board.chipLabel)` (\(board.chipLines) lines), CPU \(board.cpu).\n\n"

        var rows: [[String]] = [["use", "line", "pin", "pin", "line", "use"]]
        var index = 0
        while index < board.headerPins.count {
            let left = board.headerPins[index]
            let right = index + 1 < board.headerPins.count ? board.headerPins[index + 1] : nil
            rows.append([use(left), line(left), "\(left.number)",
                         right.map { "\($0.number)" } ?? "", right.map(line) ?? "", right.map(use) ?? ""])
            index += 2
        }
        out += markdownTable(rows, rightAligned: [1, 2]) + "\n"

        if let pwm = board.pwm {
            out += "Hardware PWM `\(pwm.controller)`"
            out += pwm.setup.isEmpty ? ":\n\n" : " (enable: \(pwm.setup)):\n\n"
            var pwmRows: [[String]] = [["channel", "pin", "line"]]
            for channel in pwm.channels {
                pwmRows.append(["\(channel.channel)", "\(channel.pin)", board.headerPin(channel.pin).map(line) ?? ""])
            }
            out += markdownTable(pwmRows, rightAligned: [0, 1, 2]) + "\n"
        }

        for rig in board.rigs {
            out += "### Rig \(rig.kind.rawValue)\n\n\(rig.description)\n\n"
            var rigRows: [[String]] = [["role", "pin", "line", "settings"]]
            for pin in rig.pins {
                rigRows.append([pin.role.rawValue, "\(pin.pin)", "\(pin.line)", settings(pin, board)])
            }
            out += markdownTable(rigRows, rightAligned: [1, 2]) + "\n"
        }
        return out
    }

    private static func use(_ pin: HeaderPin) -> String {
        let base: String
        switch pin.function {
        case .gpio(let line): base = "GPIO\(line)"
        case .power3V3: base = "3V3"
        case .power5V: base = "5V"
        case .ground: base = "GND"
        }
        return pin.note.isEmpty ? base : base + " " + pin.note
    }

    private static func line(_ pin: HeaderPin) -> String {
        pin.line.map { "\($0)" } ?? ""
    }

    private static func settings(_ pin: RigPin, _ board: BoardDescription) -> String {
        var parts: [String] = [pin.role.isOutput ? "output" : "input"]
        if pin.bias != .none { parts.append(pin.bias.rawValue) }
        if pin.activeLow { parts.append("active-low") }
        if pin.role == .pwm {
            if let channel = board.pwm?.channel(forPin: pin.pin) {
                parts.append("hardware PWM channel \(channel)")
            } else {
                parts.append("software PWM")
            }
        }
        return parts.joined(separator: ", ")
    }

    /// A Markdown table with padded columns; the first row is the heading, `rightAligned` lists the
    /// columns (from 0) to align right, such as numbers.
    public static func markdownTable(_ rows: [[String]], rightAligned: [Int] = []) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = [Int](repeating: 3, count: columns)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.utf8.count) }
        }
        func padded(_ cell: String, _ column: Int) -> String {
            let fill = String(repeating: " ", count: widths[column] - cell.utf8.count)
            return rightAligned.contains(column) ? fill + cell : cell + fill
        }
        var out = ""
        for (index, row) in rows.enumerated() {
            out += "| " + row.enumerated().map { padded($0.element, $0.offset) }.joined(separator: " | ") + " |\n"
            if index == 0 {
                out += "|" + widths.enumerated().map { column, width in
                    rightAligned.contains(column) ? String(repeating: "-", count: width + 1) + ":"
                                                  : String(repeating: "-", count: width + 2)
                }.joined(separator: "|") + "|\n"
            }
        }
        return out
    }
}
