import Synchronization

/// Hands new policy parameters from the learner thread to the control loop without either side ever
/// waiting for the other, allocating, or seeing a half-written set: a triple buffer.
///
/// Why a triple buffer and not a double buffer or a seqlock: with two buffers the learner could only
/// write the back one after the loop has stopped reading it, so one of them would have to wait. A
/// seqlock never blocks the writer, but its reader copies the whole set and retries whenever a
/// publish overlaps the copy: unbounded work inside the control step, and a reading of memory
/// being written (a data race in the C11/Swift memory model). With three slots each side always owns
/// one: the learner writes its slot, the loop reads its slot, and the third holds the newest
/// published set. Publishing and taking are one atomic exchange of a small state word (the middle
/// slot's index and a "fresh" bit): wait-free, O(1), no copying on the loop's side at all.
///
/// Memory order: the writer's exchange releases its writes into the slot it hands over; the reader's
/// exchange acquires them (and releases its reads of the slot it hands back, which the writer's next
/// exchange acquires before overwriting it).
///
/// Use: exactly one writer thread (`writerSlot`, `publish`) and one reader thread (`takeNewest`,
/// `current`). Every published set gets a version (1, 2, ...) so the loop can log which policy acted.
public final class PolicyMailbox<Slot: PolicyParameters>: @unchecked Sendable {
    /// Bit 2 of the state: the middle slot holds a set the reader has not taken yet.
    @usableFromInline static var fresh: Int { 4 }

    @usableFromInline let slots: [Slot]
    /// Version of the set in each slot (written only by the slot's owner of the moment).
    @usableFromInline let versions: UnsafeMutablePointer<UInt64>
    /// The middle slot's index | `fresh`.
    @usableFromInline let state: Atomic<Int>
    /// Writer-owned.
    @exclusivity(unchecked) @usableFromInline var writerIndex = 2
    @exclusivity(unchecked) @usableFromInline var lastVersion: UInt64 = 0
    /// Reader-owned.
    @exclusivity(unchecked) @usableFromInline var readerIndex = 0

    /// Makes the three slots with `makeSlot` and copies `initial` into the reader's, as version 0.
    public init(initial: Slot, makeSlot: () -> Slot) {
        slots = [makeSlot(), makeSlot(), makeSlot()]
        slots[0].copyParameters(from: initial)
        versions = .allocate(capacity: 3)
        versions.initialize(repeating: 0, count: 3)
        state = Atomic(1)
    }

    deinit { versions.deallocate() }

    // MARK: Writer (the learner thread)

    /// The slot the writer may fill in place before `publish()`.
    @inlinable public var writerSlot: Slot { slots[writerIndex] }

    /// Publishes what was written into `writerSlot`; the writer gets another slot to write next.
    /// Returns the new version. Wait-free, no allocation.
    @discardableResult
    public func publish() -> UInt64 {
        lastVersion += 1
        versions[writerIndex] = lastVersion
        let previous = state.exchange(writerIndex | Self.fresh, ordering: .acquiringAndReleasing)
        writerIndex = previous & 3
        return lastVersion
    }

    /// Copies `source` into `writerSlot` and publishes it. O(parameters), no allocation.
    @discardableResult
    public func publish(copyOf source: Slot) -> UInt64 {
        writerSlot.copyParameters(from: source)
        return publish()
    }

    /// Versions published so far (writer thread only).
    public var publishedVersion: UInt64 { lastVersion }

    // MARK: Reader (the control loop, at a step boundary)

    /// Switches `current` to the newest published set if there is one the reader has not taken.
    /// Returns true when it switched. Wait-free, no allocation, no copy.
    @inlinable
    public func takeNewest() -> Bool {
        guard state.load(ordering: .relaxed) & Self.fresh != 0 else { return false }
        let previous = state.exchange(readerIndex, ordering: .acquiringAndReleasing)
        readerIndex = previous & 3
        return true
    }

    /// The set the reader uses until its next successful `takeNewest()`.
    @inlinable public var current: Slot { slots[readerIndex] }

    /// The version of `current` (0: the initial set).
    @inlinable public var currentVersion: UInt64 { versions[readerIndex] }
}
