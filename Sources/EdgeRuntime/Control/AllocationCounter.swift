import CEdgeSys

/// Heap allocations counted by the `CEdgeAllocCounter` malloc interposer, which only the host CLI and
/// the runtime tests link (Linux with glibc). Elsewhere (the board binary, macOS) the counter is
/// unavailable and every reading is nil: "0 allocations" is only ever claimed when measured.
///
///     let before = AllocationCounter.threadCount
///     step.run(...)
///     let allocations = AllocationCounter.allocations(since: before)   // nil: not measured
public enum AllocationCounter {
    /// True when the interposer is linked into this program.
    @inlinable public static var isAvailable: Bool { edge_rt_thread_allocations() >= 0 }

    /// Allocations made by the calling thread so far, or nil when unavailable. Reading it neither
    /// allocates nor takes a lock (one thread-local load).
    @inlinable public static var threadCount: UInt64? {
        let n = edge_rt_thread_allocations()
        return n >= 0 ? UInt64(n) : nil
    }

    /// Allocations made by every thread so far, or nil when unavailable.
    public static var processCount: UInt64? {
        let n = edge_rt_process_allocations()
        return n >= 0 ? UInt64(n) : nil
    }

    /// Allocations of the calling thread since the reading `start` (nil if either is unavailable).
    @inlinable public static func allocations(since start: UInt64?) -> UInt64? {
        guard let start, let now = threadCount else { return nil }
        return now &- start
    }

    /// Runs `body` and returns its result with the allocations the calling thread made in it (nil
    /// when unavailable). Other threads' allocations are not counted.
    @inlinable
    public static func measure<Result, Failure: Error>(
        _ body: () throws(Failure) -> Result
    ) throws(Failure) -> (result: Result, allocations: UInt64?) {
        let start = threadCount
        let result = try body()
        return (result, allocations(since: start))
    }
}
