import CEdgeSys

/// Why a thread could not be started or joined.
public struct ThreadError: Error, Equatable, Sendable {
    /// errno from pthread (EAGAIN: too many threads; EINVAL: no such CPU; EDEADLK: joined itself).
    public var code: Int32
    public var operation: String

    /// One line naming the operation, the errno and what to do.
    public var message: String {
        switch code {
        case 11: return "\(operation) failed (EAGAIN): the system is out of threads or memory; close other programs"
        case 22: return "\(operation) failed (EINVAL): no such CPU; choose one below \(edge_rt_cpu_count())"
        default: return "\(operation) failed (\(errnoName(code)))"
        }
    }
}

/// A thread of its own for the learner (model fitting, imagination, PPO), so the control loop never
/// waits on learning. It runs with the normal scheduler even when started from a SCHED_FIFO thread,
/// optionally pinned to a CPU away from the control loop's. It talks to the loop only through a
/// `PolicyMailbox` (and atomics); whatever `body` captures must not be touched by another thread
/// while it runs.
///
///     let learner = try LearnerThread.start(cpu: 2) { while !done.load(...) { ...; mailbox.publish(copyOf: policy) } }
///     ...
///     try learner.join()
public final class LearnerThread {
    let handle: OpaquePointer
    var joined = false

    init(handle: OpaquePointer) { self.handle = handle }

    /// Starts `body` on a new thread (pinned to `cpu` if given).
    public static func start(cpu: Int32? = nil, _ body: @escaping () -> Void) throws(ThreadError) -> LearnerThread {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var handle: OpaquePointer? = nil
        let code = edge_thread_start({ context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context, cpu ?? -1, &handle)
        guard code == 0, let handle else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            throw ThreadError(code: code, operation: "starting the learner thread")
        }
        return LearnerThread(handle: handle)
    }

    /// Waits until `body` has returned. Call it once.
    public func join() throws(ThreadError) {
        precondition(!joined, "a learner thread is joined once")
        joined = true
        let code = edge_thread_join(handle)
        if code != 0 { throw ThreadError(code: code, operation: "joining the learner thread") }
    }

    deinit { precondition(joined, "join a LearnerThread before releasing it") }
}

/// The closure a thread runs, kept alive across the C call by an Unmanaged reference.
final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
