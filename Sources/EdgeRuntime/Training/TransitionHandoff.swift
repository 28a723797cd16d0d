import EdgeCore
import EdgeLearning
import Synchronization

/// Real transitions on their way from the control loop to the learner. The control thread appends
/// rows during an episode (no allocation: the capacity is the run's real-step budget, fixed at start),
/// writes the episode to the dataset log at its end, then makes it visible with `publish()`; the
/// learner copies whatever was published since its last look into its `TransitionBuffer` with
/// `drain(into:)`. One writer thread, one reader thread (the same thread in lockstep runs); the
/// published count is the only shared word (release on publish, acquire on drain), so the learner
/// never sees a half-written row and neither side ever waits for the other.
public final class TransitionHandoff<let Obs: Int, let Act: Int>: @unchecked Sendable {
    /// Floats per row: observation, action, reward, next observation.
    static var width: Int { 2 * Obs + Act + 1 }

    public let capacity: Int
    let rows: UnsafeMutablePointer<Float>
    let terminals: UnsafeMutablePointer<Bool>
    let episodes: UnsafeMutablePointer<Int32>
    let published = Atomic<Int>(0)
    /// Writer-owned: rows written (published or not).
    @exclusivity(unchecked) public private(set) var written = 0
    /// Writer-owned: rows made visible to the reader.
    @exclusivity(unchecked) public private(set) var writerPublished = 0
    /// Reader-owned: rows copied out.
    @exclusivity(unchecked) public private(set) var drained = 0

    public init(capacity: Int) {
        precondition(capacity >= 0, "capacity must not be negative")
        self.capacity = capacity
        rows = allocateFloats(max(capacity, 1) * Self.width)
        terminals = .allocate(capacity: max(capacity, 1))
        terminals.initialize(repeating: false, count: max(capacity, 1))
        episodes = .allocate(capacity: max(capacity, 1))
        episodes.initialize(repeating: 0, count: max(capacity, 1))
    }

    deinit {
        rows.deallocate()
        terminals.deallocate()
        episodes.deallocate()
    }

    // MARK: Writer (the control thread)

    /// Appends one transition (O(Obs + Act), no allocation). Returns false when the handoff is full.
    @discardableResult
    public func append(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, reward: Float,
                       nextObs: UnsafePointer<Float>, terminal: Bool, episode: Int) -> Bool {
        guard written < capacity else { return false }
        let row = rows + written * Self.width
        row.update(from: obs, count: Obs)
        (row + Obs).update(from: action, count: Act)
        row[Obs + Act] = reward
        (row + Obs + Act + 1).update(from: nextObs, count: Obs)
        terminals[written] = terminal
        episodes[written] = Int32(truncatingIfNeeded: episode)
        written += 1
        return true
    }

    /// The rows written but not yet published, for the writer to persist before publishing them.
    public func forEachUnpublished(_ body: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>,
                                            _ reward: Float, _ nextObs: UnsafePointer<Float>,
                                            _ terminal: Bool, _ episode: Int) -> Void) {
        for r in writerPublished..<written {
            let row = UnsafePointer(rows + r * Self.width)
            body(row, row + Obs, row[Obs + Act], row + Obs + Act + 1, terminals[r], Int(episodes[r]))
        }
    }

    /// Makes every row written so far visible to the reader.
    public func publish() {
        writerPublished = written
        published.store(written, ordering: .releasing)
    }

    // MARK: Reader (the learner)

    /// Rows published and not yet drained.
    public var pending: Int { published.load(ordering: .acquiring) - drained }

    /// Appends every published row not drained yet to `buffer`; returns how many.
    @discardableResult
    public func drain(into buffer: TransitionBuffer<Obs, Act>) -> Int {
        let end = published.load(ordering: .acquiring)
        let start = drained
        for r in start..<end {
            let row = UnsafePointer(rows + r * Self.width)
            buffer.append(obs: row, action: row + Obs, reward: row[Obs + Act], nextObs: row + Obs + Act + 1,
                          terminal: terminals[r], episode: Int(episodes[r]))
        }
        drained = end
        return end - start
    }
}
