// libFuzzer target: the board-file parser (Sources/EdgeIO/Boards/BoardFileParser.swift).
// Any input must either parse into a consistent board or fail with a one-line `file:line:column: error:`
// message; a crash, a hang or an unclear message is a finding.
import EdgeIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBoardFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // The first byte picks the path the parser is given: with a `.board` suffix the name must match it.
    let path = size > 0 && bytes[0] & 1 == 1 ? "boards/sim.board" : "fuzz-input"
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        let board = try BoardFileParser.parse(text, path: path)
        // Parsed: every header pin listed once, in order; lines within the chip; roles on GPIO pins.
        require(!board.headerPins.isEmpty, "a board with no header pins parsed")
        for (index, pin) in board.headerPins.enumerated() {
            require(pin.number == index + 1, "header pins out of order or missing at \(index + 1)")
            if let line = pin.line { require(line >= 0 && line < board.chipLines, "line \(line) beyond the chip") }
        }
        for rig in board.rigs {
            for role in rig.pins {
                require(board.headerPin(role.pin)?.line == role.line, "rig role on a pin that is not its line")
            }
        }
        if let pwm = board.pwm {
            for channel in pwm.channels { require(board.headerPin(channel.pin)?.line != nil, "PWM on a non-GPIO pin") }
        }
        _ = BoardPinTable.render(board)
    } catch {
        let message = error.message
        requireClearError(message, naming: path)
        require(message.hasPrefix(path + ":") && message.contains(": error: "), "not file:line:column: \(message)")
        require(error.line >= 1 && error.column >= 1, "position \(error.line):\(error.column) in \(message)")
    }
    return 0
}
