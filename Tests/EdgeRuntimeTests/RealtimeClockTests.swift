import EdgeRuntime
import Testing

@Suite("Real-time clock")
struct RealtimeClockTests {
    /// Runs 200 steps at 1 kHz with a few µs of work each and checks the statistics agree.
    func realClockRun(_ label: String) -> ControlLoop<MonotonicClock> {
        let clock = MonotonicClock()
        let loop = ControlLoop(clock: clock, periodNs: 1_000_000, stopsOnSignals: false)
        var x: UInt64 = 1
        let start = clock.nowNs
        let exit = loop.run(steps: 200) { _ in
            for i in 0..<2_000 { x = x &* 6_364_136_223_846_793_005 &+ UInt64(i) }
            return true
        }
        let elapsed = clock.nowNs - start
        #expect(exit == .completed && x != 1)
        #expect(loop.steps == 200 && loop.latency.count == 200 && loop.jitter.count == 200)
        #expect(loop.jitter.minNs >= 0, "never woken before the deadline")
        #expect(loop.latency.minNs >= loop.jitter.minNs)
        #expect(loop.latency.percentile(0.5) <= loop.latency.percentile(0.99))
        #expect(loop.latency.percentile(0.99) <= loop.latency.maxNs)
        #expect(loop.missedDeadlines <= 200 && loop.skippedPeriods <= 200)
        // 200 deadlines 1 ms apart (skipped ones included) take at least 199 ms after the first.
        #expect(elapsed >= Int64(200 + loop.skippedPeriods) * 1_000_000 - 1_000_000)
        print("real clock 1 kHz, \(label): \(loop.summary)")
        return loop
    }

    @Test("200 steps at 1 kHz on CLOCK_MONOTONIC, default and 1 ns timer slack: consistent statistics (missed deadlines reported, not asserted)")
    func realClock() {
        _ = realClockRun("default timer slack")
        let status = RealtimeStatus.enable(.unprivileged)
        #expect(status.timerSlack == .granted && status.allGranted, "timer slack needs no privilege")
        _ = realClockRun("1 ns timer slack")
        _ = RealtimeStatus.enable(RealtimeRequest(priority: nil, lockMemory: false, cpu: nil, timerSlackNs: 0))
    }

    @Test("refused real-time parts come back with their errno and one line each naming the fix")
    func refusedParts() {
        // Priority 0 and CPU 100000 are invalid for everyone, root included: nothing changes.
        let status = RealtimeStatus.enable(RealtimeRequest(priority: 0, lockMemory: false, cpu: 100_000,
                                                           timerSlackNs: nil))
        #expect(status.scheduler == .notRequested, "priority 0 means: keep the normal scheduler")
        #expect(status.memoryLock == .notRequested)
        #expect(status.affinity == .refused(22))
        #expect(status.messages == ["pinning the control thread to CPU 100000 refused (EINVAL): this machine has "
                                    + "\(status.cpuCount) online CPUs (0-\(status.cpuCount - 1)); choose one"])
        #expect(!status.allGranted)
    }

    @Test("the messages for EPERM and ENOMEM say how to allow SCHED_FIFO and mlockall")
    func permissionMessages() {
        let status = RealtimeStatus(request: RealtimeRequest(priority: 80, lockMemory: true, cpu: 3),
                                    scheduler: .refused(1), memoryLock: .refused(12), affinity: .granted, cpuCount: 4)
        let lines = status.messages
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("SCHED_FIFO priority 80 refused (EPERM): run as root, or grant CAP_SYS_NICE"))
        #expect(lines[0].contains("rtprio") && lines[0].contains("/etc/security/limits.conf"))
        #expect(lines[1].hasPrefix("mlockall refused (ENOMEM): the locked-memory limit is too small"))
        #expect(lines[1].contains("ulimit -l unlimited"))
    }
}
