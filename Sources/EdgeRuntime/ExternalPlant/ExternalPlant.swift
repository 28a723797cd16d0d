import CEdgeSys

/// How long an external plant may take.
public struct ExternalPlantOptions: Equatable, Sendable {
    /// Seconds from start (or connection) to the end of the handshake: starting an interpreter and
    /// importing a simulator can take a while.
    public var handshakeTimeoutSeconds: Double = 60
    /// Seconds the plant has to answer each `reset` and `step` (and to read each request).
    public var stepTimeoutSeconds: Double = 10
    public init() {}
}

/// A plant in another process, spoken to with the edge-plant line protocol (`PlantProtocol`): edge-ctl
/// starts it (`exec:`) or connects to it (`unix:`), reads its handshake, then resets it with a seed
/// and steps it with actions; observations, rewards and the `done` / `truncated` flags come from it.
///
/// Actions are given normalized to [-1, 1] per dimension (the policy's range) and sent in the plant's
/// units: low + (a + 1) / 2 · (high − low), clipped to [low, high] (a NaN goes out as the midpoint).
/// `reset` and `step` allocate nothing; every failure is an `ExternalPlantError` naming the plant.
public final class ExternalPlant {
    public let address: PlantAddress
    public let description: PlantDescription
    public let options: ExternalPlantOptions
    let connection: PlantConnection
    /// The latest observation (`description.observationSize` values).
    public let observation: UnsafeMutablePointer<Float>
    /// The reward and flags of the latest step.
    public private(set) var reward: Float = 0
    public private(set) var done = false
    public private(set) var truncated = false
    /// Steps since the latest reset.
    public private(set) var stepsInEpisode = 0
    /// The action last sent, in the plant's units.
    public let sentAction: UnsafeMutablePointer<Float>
    let request: UnsafeMutablePointer<UInt8>
    let requestCapacity: Int
    let actionLow: UnsafeMutablePointer<Float>
    let actionHigh: UnsafeMutablePointer<Float>
    let stepTimeoutNs: Int64

    /// Starts or connects to the plant and reads its handshake.
    public init(address: PlantAddress, options: ExternalPlantOptions = ExternalPlantOptions()) throws(ExternalPlantError) {
        self.address = address
        self.options = options
        let connection = try PlantConnection(address: address)
        self.connection = connection
        var parser = HandshakeParser()
        let handshakeNs = Int64(options.handshakeTimeoutSeconds * 1e9)
        let deadline = edge_monotonic_ns() + handshakeNs
        while true {
            let left = deadline - edge_monotonic_ns()
            let line: UnsafeBufferPointer<UInt8>
            if left <= 0 {
                throw connection.failure(.timedOut(waitingFor: parser.waitingFor, seconds: options.handshakeTimeoutSeconds))
            }
            do throws(ExternalPlantError) {
                line = try connection.readLine(timeoutNs: left, waitingFor: parser.waitingFor)
            } catch {
                var e = error
                if case .timedOut(let what, _) = e.fault { e.fault = .timedOut(waitingFor: what, seconds: options.handshakeTimeoutSeconds) }
                throw e
            }
            do throws(ExternalPlantError.Fault) {
                if try parser.consume(line) { break }
            } catch {
                throw connection.failure(error)
            }
        }
        description = parser.description
        let n = description.observationSize, m = description.actionSize
        observation = .allocate(capacity: n)
        observation.initialize(repeating: 0, count: n)
        sentAction = .allocate(capacity: m)
        sentAction.initialize(repeating: 0, count: m)
        actionLow = .allocate(capacity: m)
        actionHigh = .allocate(capacity: m)
        for d in 0..<m { actionLow[d] = description.actionLow[d]; actionHigh[d] = description.actionHigh[d] }
        requestCapacity = max(PlantProtocol.stepCapacity(actions: m), 32)
        request = .allocate(capacity: requestCapacity)
        stepTimeoutNs = Int64(options.stepTimeoutSeconds * 1e9)
    }

    deinit {
        connection.close(graceNs: 0)
        observation.deallocate()
        sentAction.deallocate()
        actionLow.deallocate()
        actionHigh.deallocate()
        request.deallocate()
    }

    /// How messages name the plant.
    public var label: String { connection.label }

    /// Starts an episode: `reset SEED`, and reads the first observation into `observation`.
    public func reset(seed: UInt64) throws(ExternalPlantError) {
        let count = PlantProtocol.formatReset(seed: seed, into: request)
        try connection.write(request, count: count, timeoutNs: stepTimeoutNs, request: "reset")
        let line = try connection.readLine(timeoutNs: stepTimeoutNs, waitingFor: "the first observation after 'reset'")
        do throws(ExternalPlantError.Fault) {
            try PlantProtocol.parseResetReply(line, count: description.observationSize, into: observation)
        } catch {
            throw connection.failure(error)
        }
        stepsInEpisode = 0
        done = false
        truncated = false
        reward = 0
    }

    /// One step: sends `action` (normalized to [-1, 1], `description.actionSize` values) and reads the
    /// next observation, the reward and the flags.
    public func step(_ action: UnsafePointer<Float>) throws(ExternalPlantError) {
        let m = description.actionSize
        for d in 0..<m {
            let a = action[d]
            let unit: Float = a.isNaN ? 0 : (a < -1 ? -1 : (a > 1 ? 1 : a))
            let low = actionLow[d], high = actionHigh[d]
            let value = low + (unit + 1) * 0.5 * (high - low)
            sentAction[d] = value < low ? low : (value > high ? high : value)
        }
        let count = PlantProtocol.formatStep(action: sentAction, count: m, into: request)
        try connection.write(request, count: count, timeoutNs: stepTimeoutNs, request: "step")
        let line = try connection.readLine(timeoutNs: stepTimeoutNs,
                                           waitingFor: "the answer to 'step' (step \(self.stepsInEpisode + 1) of the episode)")
        do throws(ExternalPlantError.Fault) {
            (reward, done, truncated) = try PlantProtocol.parseStepReply(line, count: description.observationSize,
                                                                          into: observation)
        } catch {
            throw connection.failure(error)
        }
        stepsInEpisode += 1
    }

    /// Copies the latest observation into `destination`.
    public func observe(into destination: UnsafeMutablePointer<Float>) {
        destination.update(from: observation, count: description.observationSize)
    }

    /// Ends the session: sends `close`, gives the plant 2 s to exit (then ends it), closes the streams.
    /// Returns the child's exit status (nil for a socket plant). Errors on the way out are ignored.
    @discardableResult
    public func close() -> (exitCode: Int32, signal: Int32)? {
        var bytes: (UInt64) = 0
        withUnsafeMutableBytes(of: &bytes) { raw in
            for (k, b) in "close\n".utf8.enumerated() { raw[k] = b }
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            try? connection.write(p, count: 6, timeoutNs: 1_000_000_000, request: "close")
        }
        guard let exit = connection.close(graceNs: 2_000_000_000) else { return nil }
        return (exit.exit_code, exit.signal)
    }
}
