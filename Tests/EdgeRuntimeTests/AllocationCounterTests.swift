import EdgeRuntime
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
        let before = AllocationCounter.threadCount
        let processBefore = AllocationCounter.processCount ?? 0
        let thread = try LearnerThread.start {
            var blocks: [[UInt8]] = []
            for i in 0..<100 { blocks.append([UInt8](repeating: UInt8(i), count: 64)) }
            precondition(blocks.count == 100)
        }
        try thread.join()
        #expect(AllocationCounter.allocations(since: before) == 0)
        #expect((AllocationCounter.processCount ?? 0) - processBefore >= 100)
    }
}
