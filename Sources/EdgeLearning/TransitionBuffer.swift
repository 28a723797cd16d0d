import EdgeCore

/// The real transitions (s, a, r, s', terminal, episode) the models are fitted on and imagination starts
/// from. Row-major Float storage allocated at init; `append` doubles the capacity when full (that
/// allocates, so append from the learner, not from inside the control step) — or, with a `window`, keeps
/// only the newest `window` transitions: once full, each append overwrites the oldest row, so memory
/// stays fixed however long a run goes on (a board that learns for weeks).
///
/// Each row is assigned to the training or the holdout split when it is appended, by a deterministic
/// low-discrepancy rule (row i is held out when frac((i + 1) · 0.618…) < holdoutFraction). A row never
/// changes split as data grows, so held-out rows are never trained on in a later refit, and every
/// prefix of the buffer holds out close to `holdoutFraction` of its rows.
///
/// Not thread-safe.
public final class TransitionBuffer<let Obs: Int, let Act: Int> {
    /// Number of transitions stored.
    public private(set) var count = 0
    /// Rows the storage holds before the next doubling.
    public private(set) var capacity: Int
    /// Fraction of rows assigned to the holdout split.
    public let holdoutFraction: Double
    /// Most rows kept (the newest); nil: every transition is kept and the storage grows.
    public let window: Int?
    /// Transitions appended over the buffer's life (more than `count` once a window has wrapped).
    public private(set) var appended = 0

    @usableFromInline var obsRows: UnsafeMutablePointer<Float>      // [capacity][Obs]
    @usableFromInline var actionRows: UnsafeMutablePointer<Float>   // [capacity][Act]
    @usableFromInline var nextObsRows: UnsafeMutablePointer<Float>  // [capacity][Obs]
    @usableFromInline var rewards: UnsafeMutablePointer<Float>      // [capacity]
    var terminals: UnsafeMutablePointer<Bool>                       // [capacity]
    var episodes: UnsafeMutablePointer<Int32>                       // [capacity]
    var trainList: UnsafeMutablePointer<Int32>                      // [capacity], rows in the train split
    var holdoutList: UnsafeMutablePointer<Int32>                    // [capacity], rows held out
    /// Rows in the training split.
    public private(set) var trainCount = 0
    /// Rows in the holdout split.
    public private(set) var holdoutCount = 0
    // Per observation dimension: smallest and largest value seen in obs or nextObs.
    let low: UnsafeMutablePointer<Float>
    let high: UnsafeMutablePointer<Float>

    /// An empty buffer for `capacity` transitions (at least 1) with `holdoutFraction` (0 ..< 1) held out;
    /// with a `window` it holds that many rows at most, allocated now, and never grows.
    public init(capacity: Int, holdoutFraction: Double = 0.15, window: Int? = nil) {
        precondition(Obs > 0 && Act > 0, "observation and action sizes must be positive")
        precondition(holdoutFraction >= 0 && holdoutFraction < 1, "holdoutFraction must be in [0, 1)")
        precondition(window.map { $0 >= 1 } ?? true, "a window holds at least one transition")
        self.capacity = window ?? max(capacity, 1)
        self.window = window
        self.holdoutFraction = holdoutFraction
        obsRows = allocateFloats(self.capacity * Obs)
        actionRows = allocateFloats(self.capacity * Act)
        nextObsRows = allocateFloats(self.capacity * Obs)
        rewards = allocateFloats(self.capacity)
        terminals = .allocate(capacity: self.capacity)
        episodes = .allocate(capacity: self.capacity)
        trainList = .allocate(capacity: self.capacity)
        holdoutList = .allocate(capacity: self.capacity)
        low = allocateFloats(Obs)
        high = allocateFloats(Obs)
        low.update(repeating: .infinity, count: Obs)
        high.update(repeating: -.infinity, count: Obs)
    }

    deinit {
        obsRows.deallocate(); actionRows.deallocate(); nextObsRows.deallocate(); rewards.deallocate()
        terminals.deallocate(); episodes.deallocate(); trainList.deallocate(); holdoutList.deallocate()
        low.deallocate(); high.deallocate()
    }

    /// Whether row `row` belongs to the holdout split (fixed for the life of the buffer).
    public func isHoldout(_ row: Int) -> Bool {
        let phase = Double(row + 1) * 0.618_033_988_749_894_9
        return phase - phase.rounded(.down) < holdoutFraction
    }

    /// Appends one transition: `obs` and `nextObs` hold Obs values, `action` Act values. O(Obs + Act),
    /// except when the storage doubles (O(count), allocates). With a full window the oldest row is
    /// overwritten in place; it keeps its split, so the holdout fraction and lists stay as they were.
    public func append(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, reward: Float,
                       nextObs: UnsafePointer<Float>, terminal: Bool, episode: Int) {
        let wraps = window.map { count == $0 } ?? false
        if count == capacity && !wraps { grow() }
        let r = wraps ? appended % capacity : count
        appended += 1
        (obsRows + r * Obs).update(from: obs, count: Obs)
        (actionRows + r * Act).update(from: action, count: Act)
        (nextObsRows + r * Obs).update(from: nextObs, count: Obs)
        rewards[r] = reward
        terminals[r] = terminal
        episodes[r] = Int32(truncatingIfNeeded: episode)
        for d in 0..<Obs {
            low[d] = min(low[d], obs[d], nextObs[d])
            high[d] = max(high[d], obs[d], nextObs[d])
        }
        guard !wraps else { return }
        if isHoldout(r) { holdoutList[holdoutCount] = Int32(r); holdoutCount += 1 }
        else { trainList[trainCount] = Int32(r); trainCount += 1 }
        count += 1
    }

    /// Array convenience for `append(obs:action:reward:nextObs:terminal:episode:)` (tests, tools).
    public func append(obs: [Float], action: [Float], reward: Float, nextObs: [Float], terminal: Bool = false,
                       episode: Int = 0) {
        precondition(obs.count == Obs && nextObs.count == Obs && action.count == Act, "wrong transition sizes")
        obs.withUnsafeBufferPointer { o in
            action.withUnsafeBufferPointer { a in
                nextObs.withUnsafeBufferPointer { n in
                    append(obs: o.baseAddress!, action: a.baseAddress!, reward: reward, nextObs: n.baseAddress!,
                           terminal: terminal, episode: episode)
                }
            }
        }
    }

    func grow() {
        let newCapacity = 2 * capacity
        func moved<T>(_ old: UnsafeMutablePointer<T>, _ perRow: Int, _ fresh: UnsafeMutablePointer<T>)
            -> UnsafeMutablePointer<T> {
            fresh.update(from: old, count: count * perRow)
            old.deallocate()
            return fresh
        }
        obsRows = moved(obsRows, Obs, allocateFloats(newCapacity * Obs))
        actionRows = moved(actionRows, Act, allocateFloats(newCapacity * Act))
        nextObsRows = moved(nextObsRows, Obs, allocateFloats(newCapacity * Obs))
        rewards = moved(rewards, 1, allocateFloats(newCapacity))
        terminals = moved(terminals, 1, .allocate(capacity: newCapacity))
        episodes = moved(episodes, 1, .allocate(capacity: newCapacity))
        let newTrain = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity)
        newTrain.update(from: trainList, count: trainCount); trainList.deallocate(); trainList = newTrain
        let newHoldout = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity)
        newHoldout.update(from: holdoutList, count: holdoutCount); holdoutList.deallocate(); holdoutList = newHoldout
        capacity = newCapacity
    }

    // MARK: Reading rows

    /// Observation value `d` of row `row`.
    @inlinable public func observation(_ row: Int, _ d: Int) -> Float { obsRows[row * Obs + d] }
    /// Action value `d` of row `row`.
    @inlinable public func action(_ row: Int, _ d: Int) -> Float { actionRows[row * Act + d] }
    /// Next-observation value `d` of row `row`.
    @inlinable public func nextObservation(_ row: Int, _ d: Int) -> Float { nextObsRows[row * Obs + d] }
    /// Reward of row `row`.
    @inlinable public func reward(_ row: Int) -> Float { rewards[row] }
    /// Whether row `row` ended its episode in a terminal state.
    public func isTerminal(_ row: Int) -> Bool { terminals[row] }
    /// Episode id of row `row`.
    public func episode(_ row: Int) -> Int { Int(episodes[row]) }

    /// Row index of the i-th transition of the training split (i < trainCount), in append order.
    public func trainRow(_ i: Int) -> Int { Int(trainList[i]) }
    /// Row index of the i-th transition of the holdout split (i < holdoutCount), in append order.
    public func holdoutRow(_ i: Int) -> Int { Int(holdoutList[i]) }
    /// Rows of the training split (`trainCount` of them); valid until the next `append`.
    public var trainRows: UnsafePointer<Int32> { UnsafePointer(trainList) }
    /// Rows of the holdout split (`holdoutCount` of them); valid until the next `append`.
    public var holdoutRows: UnsafePointer<Int32> { UnsafePointer(holdoutList) }

    /// Smallest value of observation dimension `d` seen in any obs or nextObs (+∞ when empty).
    public func observationLow(_ d: Int) -> Float { low[d] }
    /// Largest value of observation dimension `d` seen in any obs or nextObs (−∞ when empty).
    public func observationHigh(_ d: Int) -> Float { high[d] }

    /// Writes every row's model input (obs then action) row-major into rows[count][Obs + Act].
    func copyObservationActionRows(into rows: UnsafeMutablePointer<Float>) {
        for r in 0..<count {
            (rows + r * (Obs + Act)).update(from: obsRows + r * Obs, count: Obs)
            (rows + r * (Obs + Act) + Obs).update(from: actionRows + r * Act, count: Act)
        }
    }

    // MARK: Gathering into the lane layout

    /// Copies rows `rows[0..<count]` into the batched layout, one transition per lane: obs[Obs][lanes],
    /// action[Act][lanes], reward[lanes], nextObs[Obs][lanes] (nil skips a field). Lanes from `count`
    /// to `lanes` are set to zero. O((2 Obs + Act + 1) · lanes), allocates nothing.
    public func gather(rows: UnsafePointer<Int32>, count n: Int, lanes: Int,
                       obs: UnsafeMutablePointer<Float>?, action: UnsafeMutablePointer<Float>?,
                       reward: UnsafeMutablePointer<Float>?, nextObs: UnsafeMutablePointer<Float>?) {
        precondition(n <= lanes, "more rows than lanes")
        for l in 0..<lanes {
            writeLane(l, row: l < n ? Int(rows[l]) : -1, lanes: lanes, obs: obs, action: action, reward: reward,
                      nextObs: nextObs)
        }
    }

    /// `count` transitions drawn uniformly with replacement from all rows (e.g. imagination start
    /// states), written like `gather`. The buffer must not be empty. Allocates nothing.
    public func sample(count n: Int, lanes: Int, rng: inout RandomSource,
                       obs: UnsafeMutablePointer<Float>?, action: UnsafeMutablePointer<Float>? = nil,
                       reward: UnsafeMutablePointer<Float>? = nil, nextObs: UnsafeMutablePointer<Float>? = nil) {
        precondition(count > 0, "sampling from an empty transition buffer")
        precondition(n <= lanes, "more samples than lanes")
        for l in 0..<lanes {
            writeLane(l, row: l < n ? rng.nextInt(below: count) : -1, lanes: lanes, obs: obs, action: action,
                      reward: reward, nextObs: nextObs)
        }
    }

    /// Writes row `row` into lane `l` of each given field, or zeros when `row` is negative.
    func writeLane(_ l: Int, row r: Int, lanes: Int, obs: UnsafeMutablePointer<Float>?,
                   action: UnsafeMutablePointer<Float>?, reward: UnsafeMutablePointer<Float>?,
                   nextObs: UnsafeMutablePointer<Float>?) {
        if let obs { for d in 0..<Obs { obs[d * lanes + l] = r < 0 ? 0 : obsRows[r * Obs + d] } }
        if let action { for d in 0..<Act { action[d * lanes + l] = r < 0 ? 0 : actionRows[r * Act + d] } }
        if let reward { reward[l] = r < 0 ? 0 : rewards[r] }
        if let nextObs { for d in 0..<Obs { nextObs[d * lanes + l] = r < 0 ? 0 : nextObsRows[r * Obs + d] } }
    }
}
