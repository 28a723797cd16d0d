import EdgeIO

/// A fixed-capacity FIFO of edge events, like the kernel's kfifo for a line (v1) or a request (v2).
/// When full, `push` refuses the event: the kernel drops the NEWEST event on overflow.
/// Storage is allocated once; push and pop never allocate. The capacity is a power of two, as the
/// kernel's kfifo rounds it, so indices wrap with a mask (a division per event cost more).
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
final class SimEventQueue {
    let capacity: Int
    private let storage: UnsafeMutablePointer<EdgeEvent>
    @exclusivity(unchecked) private var head = 0
    @exclusivity(unchecked) private(set) var count = 0
    /// Events refused because the queue was full.
    @exclusivity(unchecked) private(set) var dropped = 0

    init(capacity: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "a kfifo's capacity is a power of two")
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Appends `event`, or drops it (and counts the drop) if the queue is full.
    func push(_ event: EdgeEvent) {
        guard count < capacity else {
            dropped += 1
            return
        }
        (storage + (head + count) & (capacity - 1)).initialize(to: event)
        count += 1
    }

    /// Removes and returns the oldest event. The queue must not be empty.
    func pop() -> EdgeEvent {
        let event = (storage + head).move()
        head = (head + 1) & (capacity - 1)
        count -= 1
        return event
    }

    func removeAll() {
        while count > 0 { _ = pop() }
    }
}
