import CEdgeSys

/// What `--realtime` asks of the operating system for the control thread.
public struct RealtimeRequest: Equatable, Sendable {
    /// SCHED_FIFO priority 1-99 (nil: keep the normal scheduler). 80 is above the kernel's threaded
    /// interrupt handlers (50) and below the watchdog and migration threads (99).
    public var priority: Int32?
    /// Lock all present and future pages in RAM, so the loop takes no page faults.
    public var lockMemory: Bool
    /// CPU to pin the control thread to (nil: any). On a 4-core Pi: core 3, the learner elsewhere.
    public var cpu: Int32?
    /// Timer slack of the control thread in ns (nil: leave it; 0: the default). Linux lets a normal
    /// thread's timers fire up to 50 µs late to batch wake-ups; 1 ns asks for precise wake-ups. It
    /// needs no privilege, so it is worth asking for even without SCHED_FIFO.
    public var timerSlackNs: Int64?

    public init(priority: Int32? = 80, lockMemory: Bool = true, cpu: Int32? = nil, timerSlackNs: Int64? = 1) {
        self.priority = priority
        self.lockMemory = lockMemory
        self.cpu = cpu
        self.timerSlackNs = timerSlackNs
    }

    /// Only what needs no privilege: precise timer wake-ups for the calling thread.
    public static var unprivileged: RealtimeRequest {
        RealtimeRequest(priority: nil, lockMemory: false, cpu: nil, timerSlackNs: 1)
    }
}

/// The outcome of one part of a `RealtimeRequest`.
public enum RealtimePart: Equatable, Sendable {
    case notRequested
    case granted
    /// Refused, with the errno value.
    case refused(Int32)

    init(code: Int32) {
        switch code {
        case EDGE_RT_NOT_REQUESTED: self = .notRequested
        case 0: self = .granted
        default: self = .refused(code)
        }
    }
}

/// What the operating system granted. The loop runs either way; `messages` says, one line per
/// refused part, what was refused and how to allow it.
public struct RealtimeStatus: Equatable, Sendable {
    public var request: RealtimeRequest
    public var scheduler: RealtimePart
    public var memoryLock: RealtimePart
    public var affinity: RealtimePart
    public var timerSlack: RealtimePart
    /// Online CPUs (to explain a refused CPU number).
    public var cpuCount: Int32

    public init(request: RealtimeRequest, scheduler: RealtimePart, memoryLock: RealtimePart,
                affinity: RealtimePart, timerSlack: RealtimePart = .notRequested, cpuCount: Int32) {
        self.request = request
        self.scheduler = scheduler
        self.memoryLock = memoryLock
        self.affinity = affinity
        self.timerSlack = timerSlack
        self.cpuCount = cpuCount
    }

    /// Asks for `request` for the calling thread (and, for the memory lock, the process). Start the
    /// learner thread before or after: `LearnerThread` never inherits SCHED_FIFO, but give it its own
    /// CPU if the control thread is pinned.
    public static func enable(_ request: RealtimeRequest) -> RealtimeStatus {
        var status = edge_rt_status(scheduler: 0, memory_lock: 0, affinity: 0, timer_slack: 0)
        edge_rt_enable(request.priority ?? 0, request.cpu ?? -1, request.lockMemory ? 1 : 0,
                       request.timerSlackNs ?? -1, &status)
        return RealtimeStatus(request: request, scheduler: RealtimePart(code: status.scheduler),
                              memoryLock: RealtimePart(code: status.memory_lock),
                              affinity: RealtimePart(code: status.affinity),
                              timerSlack: RealtimePart(code: status.timer_slack), cpuCount: edge_rt_cpu_count())
    }

    /// Every requested part was granted.
    public var allGranted: Bool { messages.isEmpty }

    /// One line per refused part, naming the part, the errno and the fix.
    public var messages: [String] {
        var lines: [String] = []
        if case .refused(let code) = scheduler {
            let priority = request.priority ?? 0
            let what = "SCHED_FIFO priority \(priority) refused (\(errnoName(code)))"
            switch code {
            case 1:  // EPERM
                lines.append(what + ": run as root, or grant CAP_SYS_NICE (sudo setcap cap_sys_nice+ep "
                             + "<binary>) or an rtprio limit ('<user> - rtprio 99' in "
                             + "/etc/security/limits.conf, then log in again); running at normal priority")
            case 22:  // EINVAL
                lines.append(what + ": use a priority from 1 to 99")
            default:
                lines.append(what + "; running at normal priority")
            }
        }
        if case .refused(let code) = memoryLock {
            let what = "mlockall refused (\(errnoName(code)))"
            switch code {
            case 1, 11, 12:  // EPERM, EAGAIN, ENOMEM
                lines.append(what + ": the locked-memory limit is too small; raise it ('ulimit -l unlimited', "
                             + "or '<user> - memlock unlimited' in /etc/security/limits.conf) or run as "
                             + "root; pages may fault inside the loop")
            default:
                lines.append(what + "; pages may fault inside the loop")
            }
        }
        if case .refused(let code) = affinity {
            let cpu = request.cpu ?? -1
            let what = "pinning the control thread to CPU \(cpu) refused (\(errnoName(code)))"
            if code == 22 {  // EINVAL
                lines.append(what + ": this machine has \(cpuCount) online CPUs (0-\(cpuCount - 1)); choose one")
            } else {
                lines.append(what + "; the thread runs on any CPU")
            }
        }
        if case .refused(let code) = timerSlack {
            lines.append("setting the timer slack to \(request.timerSlackNs ?? 0) ns refused (\(errnoName(code))); "
                         + "wake-ups may come up to 50 µs late")
        }
        return lines
    }
}

/// "EPERM" for the errno values the real-time calls return, "errno N (text)" for others.
func errnoName(_ code: Int32) -> String {
    switch code {
    case 1: return "EPERM"
    case 3: return "ESRCH"
    case 11: return "EAGAIN"
    case 12: return "ENOMEM"
    case 22: return "EINVAL"
    default:
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        let text = withUnsafeMutableBytes(of: &buffer) { raw -> String in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            edge_strerror(code, base, raw.count)
            return String(cString: base)
        }
        return "errno \(code): \(text)"
    }
}
