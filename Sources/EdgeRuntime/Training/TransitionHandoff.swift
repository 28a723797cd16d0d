import EdgeCore
import EdgeLearning
import Synchronization

/// Real transitions on their way from the control loop to the dataset log and the learner.
///
/// The control thread appends each transition of an episode to a staging area (no allocation: sized
/// for the longest episode at start), writes the staged episode to the log at its end
/// (`forEachUnpublished`), then `publish()`es it: the rows move into a ring of `capacity` rows that the
/// learner copies into its `TransitionBuffer` with `drain(into:)` whenever it looks. One writer
/// thread, one reader thread (the same thread in lockstep runs). The shared words are the published
/// count (release on publish, acquire on drain: the learner never sees a half-written row) and the
/// drained count (the writer never overwrites a row the learner has not copied). Neither side ever
/// waits: rows that would overwrite undrained ones are left out of the ring and counted in `overrun`
/// (they are in the log all the same; only the learner misses them).
public final class TransitionHandoff<let Obs: Int, let Act: Int>: @unchecked Sendable {
    /// Rows the learner may lag behind by before rows are left out for it.
    public var capacity: Int { ring.capacity }
    let staging: TransitionRows<Obs, Act>
    let ring: TransitionRows<Obs, Act>
    let published = Atomic<Int>(0)
    let drainedCount = Atomic<Int>(0)
    /// Writer-owned: rows staged since the last publish.
    @exclusivity(unchecked) public private(set) var staged = 0
    /// Writer-owned: rows moved into the ring over the handoff's life.
    @exclusivity(unchecked) public private(set) var writerPublished = 0
    /// Writer-owned: rows left out of the ring because the learner was a whole ring behind.
    @exclusivity(unchecked) public private(set) var overrun = 0
    /// Reader-owned: rows copied out.
    @exclusivity(unchecked) public private(set) var drained = 0

    /// - Parameters:
    ///   - episodeCapacity: the most transitions one episode appends.
    ///   - capacity: ring rows (at least `episodeCapacity`).
    public init(episodeCapacity: Int, capacity: Int) {
        precondition(episodeCapacity >= 1 && capacity >= episodeCapacity, "the ring holds at least one episode")
        staging = TransitionRows(capacity: episodeCapacity)
        ring = TransitionRows(capacity: capacity)
    }

    // MARK: Writer (the control thread)

    /// Stages one transition (O(Obs + Act), no allocation). Returns false when the episode has more
    /// transitions than `episodeCapacity`.
    @discardableResult
    public func append(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, reward: Float,
                       nextObs: UnsafePointer<Float>, terminal: Bool, episode: Int) -> Bool {
        guard staged < staging.capacity else { return false }
        staging.write(staged, obs: obs, action: action, reward: reward, nextObs: nextObs, terminal: terminal,
                      episode: episode)
        staged += 1
        return true
    }

    /// The staged rows, for the writer to persist before publishing them.
    public func forEachUnpublished(_ body: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>,
                                            _ reward: Float, _ nextObs: UnsafePointer<Float>,
                                            _ terminal: Bool, _ episode: Int) -> Void) {
        for r in 0..<staged { staging.read(r, body) }
    }

    /// Moves the staged rows into the ring and makes them visible to the reader.
    public func publish() {
        let free = ring.capacity - (writerPublished - drainedCount.load(ordering: .acquiring))
        let moving = min(staged, free)
        for r in 0..<moving {
            staging.read(r) { obs, action, reward, next, terminal, episode in
                ring.write((writerPublished + r) % ring.capacity, obs: obs, action: action, reward: reward,
                           nextObs: next, terminal: terminal, episode: episode)
            }
        }
        overrun += staged - moving
        writerPublished += moving
        staged = 0
        published.store(writerPublished, ordering: .releasing)
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
            ring.read(r % ring.capacity) { obs, action, reward, next, terminal, episode in
                buffer.append(obs: obs, action: action, reward: reward, nextObs: next, terminal: terminal,
                              episode: episode)
            }
        }
        drained = end
        drainedCount.store(end, ordering: .releasing)
        return end - start
    }
}

/// Fixed storage for `capacity` transitions, one row each: observation, action, reward, next
/// observation, plus the terminal flag and the episode index.
final class TransitionRows<let Obs: Int, let Act: Int> {
    static var width: Int { 2 * Obs + Act + 1 }
    let capacity: Int
    let values: UnsafeMutablePointer<Float>
    let terminals: UnsafeMutablePointer<Bool>
    let episodes: UnsafeMutablePointer<Int32>

    init(capacity: Int) {
        self.capacity = capacity
        values = allocateFloats(capacity * Self.width)
        terminals = .allocate(capacity: capacity)
        terminals.initialize(repeating: false, count: capacity)
        episodes = .allocate(capacity: capacity)
        episodes.initialize(repeating: 0, count: capacity)
    }

    deinit {
        values.deallocate()
        terminals.deallocate()
        episodes.deallocate()
    }

    func write(_ slot: Int, obs: UnsafePointer<Float>, action: UnsafePointer<Float>, reward: Float,
               nextObs: UnsafePointer<Float>, terminal: Bool, episode: Int) {
        let row = values + slot * Self.width
        row.update(from: obs, count: Obs)
        (row + Obs).update(from: action, count: Act)
        row[Obs + Act] = reward
        (row + Obs + Act + 1).update(from: nextObs, count: Obs)
        terminals[slot] = terminal
        episodes[slot] = Int32(truncatingIfNeeded: episode)
    }

    func read(_ slot: Int, _ body: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>, _ reward: Float,
                                    _ nextObs: UnsafePointer<Float>, _ terminal: Bool, _ episode: Int) -> Void) {
        let row = UnsafePointer(values + slot * Self.width)
        body(row, row + Obs, row[Obs + Act], row + Obs + Act + 1, terminals[slot], Int(episodes[slot]))
    }
}
