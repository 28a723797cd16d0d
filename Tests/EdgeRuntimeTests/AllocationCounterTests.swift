import EdgeRuntime
import Synchronization
import Testing

/// The malloc interposer (CEdgeAllocCounter, linked into this test binary) counts per thread.
@Suite("Allocation counter")
struct AllocationCounterTests {
    @Test("the counter is linked into the test binary and counts a deliberate array allocation")
    func countsAnArray() {
        #expect(AllocationCounter.isAvailable)
        let (sum, allocations) = AllocationCounter.measure { () -> Int in
            var values = [Int]()
            for i in 0..<1_000 { values.append(i) }  // at least one heap buffer, grown a few times
            return values.reduce(0, +)
        }
        #expect(sum == 499_500)
        #expect((allocations ?? 0) >= 1)
    }

    @Test("a region that only does arithmetic on the stack counts 0")
    func arithmeticCountsZero() {
        let (value, allocations) = AllocationCounter.measure { () -> UInt64 in
            var x: UInt64 = 1
            for i in 0..<10_000 { x = x &* 6_364_136_223_846_793_005 &+ UInt64(i) }
            return x
        }
        #expect(value != 1)
        #expect(allocations == 0)
    }

    @Test("allocations of another thread are not counted on this one, but are in the process count")
    func perThread() throws {
        let started = DoneFlag(), finished = DoneFlag()
        let thread = try LearnerThread.start {
            while !started.value.load(ordering: .acquiring) {}
            var blocks: [[UInt8]] = []
            for i in 0..<100 { blocks.append([UInt8](repeating: UInt8(i), count: 64)) }
            precondition(blocks.count == 100)
            finished.value.store(true, ordering: .releasing)
        }
        // Count only while the other thread allocates (starting and joining it allocate here).
        let before = AllocationCounter.threadCount
        let processBefore = AllocationCounter.processCount ?? 0
        started.value.store(true, ordering: .releasing)
        while !finished.value.load(ordering: .acquiring) {}
        let mine = AllocationCounter.allocations(since: before)
        let all = (AllocationCounter.processCount ?? 0) - processBefore
        try thread.join()
        #expect(mine == 0)
        #expect(all >= 101, "100 arrays and the array of arrays")
    }
}
