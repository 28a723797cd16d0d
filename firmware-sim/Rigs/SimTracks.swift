/// The sim side of a quadrature encoder: turns a piecewise-linear position into A/B edges at the
/// exact times the position crosses each count boundary. Cell k (count k) spans
/// [k, k + 1) / countsPerUnit; its lines are the Gray code of k mod 4 (00, A, AB, B).
struct SimEncoderTrack {
    let a: UInt32
    let b: UInt32
    let countsPerUnit: Double
    /// Current count cell (floor of position × countsPerUnit).
    private(set) var cell: Int64 = 0
    private var startCounts = 0.0
    private var endCounts = 0.0
    private var startNs: Int64 = 0
    private var durationNs: Int64 = 0
    /// Time of the next boundary crossing in the current segment, or Int64.max.
    private(set) var nextEdgeNs = Int64.max

    init(a: UInt32, b: UInt32, countsPerUnit: Double) {
        self.a = a
        self.b = b
        self.countsPerUnit = countsPerUnit
    }

    /// Places the encoder at `position` with no motion; returns the line levels (A, B) there.
    mutating func place(at position: Double) -> (Bool, Bool) {
        let counts = position * countsPerUnit
        cell = Int64(counts.rounded(.down))
        startCounts = counts
        endCounts = counts
        nextEdgeNs = Int64.max
        let phase = Int(cell & 3)
        return (phase == 1 || phase == 2, phase >= 2)
    }

    /// The shaft moves linearly from `from` to `to` (units) between `startNs` and `endNs`.
    /// `from` must equal the previous segment's `to`.
    mutating func move(from: Double, to: Double, startNs: Int64, endNs: Int64) {
        startCounts = from * countsPerUnit
        endCounts = to * countsPerUnit
        self.startNs = startNs
        durationNs = endNs - startNs
        scheduleNext()
    }

    /// The line that toggles at `nextEdgeNs`; moves to the next cell and schedules the next edge.
    mutating func takeEdge() -> UInt32 {
        let line: UInt32
        if endCounts > startCounts {
            line = (cell & 1) == 0 ? a : b
            cell += 1
        } else {
            cell -= 1
            line = (cell & 1) == 0 ? a : b
        }
        scheduleNext()
        return line
    }

    private mutating func scheduleNext() {
        let boundary: Double
        if endCounts > startCounts {
            boundary = Double(cell + 1)
            guard boundary <= endCounts else { nextEdgeNs = Int64.max; return }
        } else if endCounts < startCounts {
            boundary = Double(cell)
            guard endCounts < boundary else { nextEdgeNs = Int64.max; return }
        } else {
            nextEdgeNs = Int64.max
            return
        }
        let fraction = (boundary - startCounts) / (endCounts - startCounts)
        nextEdgeNs = startNs + Int64((fraction * Double(durationNs)).rounded())
    }
}

/// A switch that is active beyond a position (a limit switch at the end of a rail). Its line is
/// active-low: pressed pulls it low.
struct SimSwitchTrack {
    let line: UInt32
    let threshold: Double
    /// Pressed when position >= threshold (true) or <= threshold (false).
    let activeAbove: Bool
    private(set) var pressed = false
    private(set) var nextEdgeNs = Int64.max

    init(line: UInt32, threshold: Double, activeAbove: Bool) {
        self.line = line
        self.threshold = threshold
        self.activeAbove = activeAbove
    }

    func isPressed(at position: Double) -> Bool {
        activeAbove ? position >= threshold : position <= threshold
    }

    /// Sets the state for `position` without an edge; returns the line level (low when pressed).
    mutating func place(at position: Double) -> Bool {
        pressed = isPressed(at: position)
        nextEdgeNs = Int64.max
        return !pressed
    }

    /// Schedules the crossing, if the segment crosses the threshold (one crossing per segment).
    mutating func move(from: Double, to: Double, startNs: Int64, endNs: Int64) {
        guard isPressed(at: to) != pressed, to != from else { nextEdgeNs = Int64.max; return }
        let fraction = min(max((threshold - from) / (to - from), 0), 1)
        nextEdgeNs = startNs + Int64((fraction * Double(endNs - startNs)).rounded())
    }

    /// Flips the switch; returns the new line level.
    mutating func takeEdge() -> Bool {
        pressed.toggle()
        nextEdgeNs = Int64.max
        return !pressed
    }
}

