import CEdgeSys

/// SIGINT and SIGTERM turned into a flag the control loop polls, so that a stop request ends the
/// loop at a step boundary and the outputs go to their safe state on the way out (a signal handler
/// itself can do nothing safely but set the flag). A second signal while the first is still pending
/// ends the process the default way, for a loop that no longer responds.
public enum StopSignal {
    /// Installs the handlers for the whole process. Returns 0 or the errno of sigaction.
    @discardableResult
    public static func installHandlers() -> Int32 { edge_rt_install_stop_handlers() }

    /// The signal recorded (SIGINT 2, SIGTERM 15), 0 when none.
    @inlinable public static var received: Int32 { edge_rt_stop_signal() }

    /// Records `signal` as if it had arrived (a command asking the loop to stop; tests).
    public static func request(_ signal: Int32) { edge_rt_request_stop(signal) }

    /// Forgets the recorded signal (before starting another loop).
    public static func clear() { edge_rt_clear_stop() }

    /// "SIGINT", "SIGTERM" or "signal N".
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case 2: return "SIGINT"
        case 15: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}
