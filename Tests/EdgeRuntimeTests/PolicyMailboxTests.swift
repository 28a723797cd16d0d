import CEdgeSys
import EdgeRuntime
import Synchronization
import Testing

/// A parameter set whose every value is derived from one stamp, so a set mixing two publishes is
/// detectable: value 0 is the stamp mod 2^24, value i ≥ 1 is (stamp mod 65536) · 256 + i. All are
/// integers below 2^24, exact in Float. (A fast writer publishes more than 2^24 sets within the test:
/// storing the whole stamp once made Float rounding look like tearing.)
final class PatternSlot: PolicyParameters {
    static let count = 256
    let values: UnsafeMutablePointer<Float>

    init() {
        values = .allocate(capacity: Self.count)
        values.initialize(repeating: 0, count: Self.count)
    }

    deinit { values.deallocate() }

    func copyParameters(from other: PatternSlot) { values.update(from: other.values, count: Self.count) }

    static let stampModulus = 1 << 24

    func fill(stamp: Int) {
        values[0] = Float(stamp % Self.stampModulus)
        for i in 1..<Self.count { values[i] = Float((stamp & 65_535) * 256 + i) }
    }

    /// The stamp mod 2^24 if every value agrees with it, or nil for a torn set.
    func consistentStamp() -> Int? {
        let stamp = Int(values[0])
        for i in 1..<Self.count where values[i] != Float((stamp & 65_535) * 256 + i) { return nil }
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

    @Test("a learner thread publishes without pause while the loop takes 100,000 sets: never a torn set, versions only grow")
    func concurrentNoTearing() throws {
        let wanted = 100_000
        let initial = PatternSlot()
        let mailbox = PolicyMailbox(initial: initial) { PatternSlot() }
        let readerDone = DoneFlag(), writerDone = DoneFlag()
        let learner = try LearnerThread.start {
            var stamp = 0
            while !readerDone.value.load(ordering: .acquiring) {
                stamp += 1
                mailbox.writerSlot.fill(stamp: stamp)
                precondition(mailbox.publish() == UInt64(stamp))
            }
            writerDone.value.store(true, ordering: .releasing)
        }
        var swaps = 0, torn = 0, mismatched = 0, backwards = 0
        var lastVersion: UInt64 = 0
        func check() {
            guard let stamp = mailbox.current.consistentStamp() else { torn += 1; return }
            if stamp != Int(mailbox.currentVersion % UInt64(PatternSlot.stampModulus)) { mismatched += 1 }
            if mailbox.currentVersion <= lastVersion { backwards += 1 }
            lastVersion = mailbox.currentVersion
        }
        let giveUpNs = edge_monotonic_ns() + 20_000_000_000  // a starved machine: report, do not hang
        while swaps < wanted && !writerDone.value.load(ordering: .acquiring) && edge_monotonic_ns() < giveUpNs {
            if mailbox.takeNewest() { swaps += 1; check() }
        }
        readerDone.value.store(true, ordering: .releasing)
        try learner.join()
        let published = mailbox.publishedVersion
        if mailbox.takeNewest() { check() }
        // On a starved shared machine the 20 s guard may stop the reader early; 10,000 swaps under a
        // writer that never pauses is still a strong test of tearing.
        #expect(swaps >= wanted / 10, "the reader took \(swaps) sets of \(published) published")
        #expect(torn == 0)
        #expect(mismatched == 0, "each slot's version is the stamp written into it")
        #expect(backwards == 0)
        #expect(lastVersion == published, "the last publish is always delivered")
        print("policy mailbox: \(swaps) swaps by the reader while \(published) sets were published, \(torn) torn")
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
