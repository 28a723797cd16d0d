import EdgeRuntime
import Synchronization
import Testing

/// A parameter set whose every value is derived from one stamp, so a set mixing two publishes is
/// detectable: values 0 and 1 hold the stamp's high and low 10 bits, value i ≥ 2 is
/// (stamp mod 8192) · 1024 + i. All are integers below 2^24, exact in Float.
final class PatternSlot: PolicyParameters {
    static let count = 1_024
    let values: UnsafeMutablePointer<Float>

    init() {
        values = .allocate(capacity: Self.count)
        values.initialize(repeating: 0, count: Self.count)
    }

    deinit { values.deallocate() }

    func copyParameters(from other: PatternSlot) { values.update(from: other.values, count: Self.count) }

    /// Fills the set for `stamp` (< 2^20): two header values hold the stamp, the rest a pattern of it.
    func fill(stamp: Int) {
        values[0] = Float(stamp >> 10)
        values[1] = Float(stamp & 1_023)
        for i in 2..<Self.count { values[i] = Float((stamp & 8_191) * 1_024 + i) }
    }

    /// The stamp if every value agrees with it, or nil for a torn set.
    func consistentStamp() -> Int? {
        let stamp = Int(values[0]) << 10 | Int(values[1])
        for i in 2..<Self.count where values[i] != Float((stamp & 8_191) * 1_024 + i) { return nil }
        return stamp
    }
}

/// Set by the writer thread when it has published everything.
final class DoneFlag: Sendable {
    let value = Atomic<Bool>(false)
}

@Suite("Policy mailbox")
struct PolicyMailboxTests {
    @Test("the reader starts on the initial set as version 0 and sees nothing new before a publish")
    func initialState() {
        let initial = PatternSlot()
        initial.fill(stamp: 0)
        let mailbox = PolicyMailbox(initial: initial) { PatternSlot() }
        #expect(mailbox.current.consistentStamp() == 0)
        #expect(mailbox.currentVersion == 0)
        #expect(!mailbox.takeNewest())
        mailbox.writerSlot.fill(stamp: 7)
        #expect(mailbox.publish() == 1)
        #expect(mailbox.takeNewest())
        #expect(mailbox.current.consistentStamp() == 7 && mailbox.currentVersion == 1)
        #expect(!mailbox.takeNewest(), "taking twice gives nothing new")
    }

    @Test("two publishes between reads: the reader gets the newest and skips the older one")
    func newestWins() {
        let initial = PatternSlot()
        let mailbox = PolicyMailbox(initial: initial) { PatternSlot() }
        mailbox.writerSlot.fill(stamp: 1)
        mailbox.publish()
        mailbox.writerSlot.fill(stamp: 2)
        mailbox.publish()
        #expect(mailbox.takeNewest())
        #expect(mailbox.current.consistentStamp() == 2 && mailbox.currentVersion == 2)
    }

    @Test("100,000 publishes from a learner thread while the loop swaps: never a torn set, versions only grow")
    func concurrentNoTearing() throws {
        let publishes = 100_000
        let initial = PatternSlot()
        let mailbox = PolicyMailbox(initial: initial) { PatternSlot() }
        let writerDone = DoneFlag()
        let learner = try LearnerThread.start {
            for stamp in 1...publishes {
                mailbox.writerSlot.fill(stamp: stamp)
                let version = mailbox.publish()
                precondition(version == UInt64(stamp))
            }
            writerDone.value.store(true, ordering: .releasing)
        }
        var swaps = 0, torn = 0, mismatched = 0, backwards = 0
        var lastVersion: UInt64 = 0
        func check() {
            guard let stamp = mailbox.current.consistentStamp() else { torn += 1; return }
            if UInt64(stamp) != mailbox.currentVersion { mismatched += 1 }
            if mailbox.currentVersion <= lastVersion { backwards += 1 }
            lastVersion = mailbox.currentVersion
        }
        while !writerDone.value.load(ordering: .acquiring) {
            if mailbox.takeNewest() { swaps += 1; check() }
        }
        try learner.join()
        if mailbox.takeNewest() { swaps += 1; check() }
        #expect(torn == 0)
        #expect(mismatched == 0, "each slot's version is the stamp written into it")
        #expect(backwards == 0)
        #expect(lastVersion == UInt64(publishes), "the last publish is always delivered")
        #expect(swaps >= 100, "the reader really swapped while the writer ran (\(swaps) swaps)")
        print("policy mailbox: \(publishes) publishes, \(swaps) swaps by the reader, \(torn) torn")
    }

    @Test("publishing a copy and taking it allocate nothing")
    func noAllocation() {
        let initial = PatternSlot()
        let source = PatternSlot()
        source.fill(stamp: 42)
        let mailbox = PolicyMailbox(initial: initial) { PatternSlot() }
        let (_, allocations) = AllocationCounter.measure { () -> Bool in
            mailbox.publish(copyOf: source)
            return mailbox.takeNewest()
        }
        #expect(allocations == 0)
        #expect(mailbox.current.consistentStamp() == 42)
    }
}
