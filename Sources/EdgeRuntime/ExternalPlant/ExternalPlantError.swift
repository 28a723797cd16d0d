import EdgeCore

/// What went wrong with an external plant, as one line that names the plant and what edge-ctl expected.
///
/// Every fault of the plant process or its messages is its own case, so tests (and scripts reading the
/// message) can tell a timeout from a crash from a malformed number.
public struct ExternalPlantError: Error, Equatable {
    public enum Fault: Error, Equatable, Sendable {
        /// The `--plant` text is neither `exec:COMMAND` nor `unix:PATH`.
        case badAddress(String)
        /// The plant process could not be started (errno of posix_spawn or pipe).
        case cannotStart(errno: Int32)
        /// No plant accepts connections at the Unix socket (errno of connect).
        case cannotConnect(path: String, errno: Int32)
        /// The plant sent no complete line within `seconds` while edge-ctl waited for `waitingFor`.
        case timedOut(waitingFor: String, seconds: Double)
        /// The plant did not read edge-ctl's request within `seconds`.
        case notReading(request: String, seconds: Double)
        /// The plant process ended (exit status, or the signal that killed it) while edge-ctl waited
        /// for `waitingFor` or was sending to it.
        case exited(waitingFor: String, exitCode: Int32, signal: Int32)
        /// The plant closed its end (end of file) but did not exit: a socket plant, or a process that
        /// closed its standard output.
        case closed(waitingFor: String)
        /// A system call on the pipe or socket failed.
        case io(call: String, errno: Int32)
        /// A line longer than `limit` bytes (no newline in sight).
        case lineTooLong(waitingFor: String, limit: Int)
        /// A message that is not the one the protocol calls for here.
        case unexpected(got: String, expected: String)
        /// A message with the wrong number of values for `what` (observation, action, ...).
        case wrongCount(what: String, got: Int, expected: Int)
        /// A token that is not a decimal number where `what` was expected.
        case notANumber(what: String, token: String)
        /// NaN or an infinity where `what` must be finite.
        case notFinite(what: String, token: String)
        /// A flag that is not 0 or 1.
        case badFlag(what: String, token: String)
        /// The handshake is malformed or declares something edge-ctl cannot use.
        case badHandshake(String)
        /// The handshake's protocol version is not one this edge-ctl speaks.
        case unsupportedVersion(String)
        /// The plant answered `error TEXT`.
        case plantReported(String)
        /// No compiled-in network shape fits the plant's sizes.
        case unsupportedShape(observations: Int, actions: Int, supported: String)
    }

    /// How errors name the plant: `exec:'COMMAND'` or `unix:PATH`.
    public var plant: String
    public var fault: Fault
    /// The last lines the plant wrote to its standard error (joined by " | "), empty when none.
    public var stderrTail: String

    public init(plant: String, fault: Fault, stderrTail: String = "") {
        self.plant = plant
        self.fault = fault
        self.stderrTail = stderrTail
    }

    /// One line: `plant exec:'python3 plant.py': exited with status 1 while edge-ctl waited for the
    /// handshake; its standard error ended with: ...`.
    public var message: String {
        let tail = stderrTail.isEmpty ? "" : "; its standard error ended with: " + stderrTail
        return "plant " + plant + ": " + detail + tail
    }

    /// The fault alone, without the plant's name.
    public var detail: String {
        switch fault {
        case .badAddress(let text):
            return "'" + text + "' is not a plant address (expected exec:'COMMAND ARGS' or unix:PATH)"
        case .cannotStart(let code):
            return "cannot start /bin/sh for it: " + errnoDescription(code) + " (errno \(code))"
        case .cannotConnect(let path, let code):
            return "cannot connect to the Unix socket " + path + ": " + errnoDescription(code) + " (errno \(code))"
                + " (is the plant listening there?)"
        case .timedOut(let what, let seconds):
            return "sent no complete line for " + formatFloat(seconds, digits: 4) + " s while edge-ctl waited for "
                + what + " (a slow plant needs a larger --plant-timeout)"
        case .notReading(let request, let seconds):
            return "did not read edge-ctl's '" + request + "' request within " + formatFloat(seconds, digits: 4) + " s"
        case .exited(let what, let code, let signal):
            let how = signal != 0 ? "was killed by signal \(signal)" : "exited with status \(code)"
            return how + " while edge-ctl waited for " + what
        case .closed(let what):
            return "closed the connection (end of file) while edge-ctl waited for " + what
        case .io(let call, let code):
            return call + " failed: " + errnoDescription(code) + " (errno \(code))"
        case .lineTooLong(let what, let limit):
            return "sent a line longer than \(limit) bytes while edge-ctl waited for " + what
        case .unexpected(let got, let expected):
            return "sent '" + got + "' where edge-ctl expected " + expected
        case .wrongCount(let what, let got, let expected):
            return "sent \(got) " + what + " values where \(expected) were expected"
        case .notANumber(let what, let token):
            return "sent '" + token + "' as " + what + ", which is not a decimal number"
        case .notFinite(let what, let token):
            return "sent " + token + " as " + what + " (NaN and infinities are rejected)"
        case .badFlag(let what, let token):
            return "sent '" + token + "' as the " + what + " flag (expected 0 or 1)"
        case .badHandshake(let text):
            return "bad handshake: " + text
        case .unsupportedVersion(let version):
            return "speaks protocol version " + version + "; this edge-ctl speaks version \(PlantProtocol.version)"
        case .plantReported(let text):
            return "reported an error: " + text
        case .unsupportedShape(let observations, let actions, let supported):
            return "has \(observations) observations and \(actions) actions; this build has networks for "
                + "(observations, actions) = " + supported + " only"
        }
    }
}
