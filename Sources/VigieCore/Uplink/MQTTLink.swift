/// The link to the centre's brokers, as a state machine whose transitions return what to do. No threads, no
/// sockets, no clock: the MQTT client feeds it what happened and carries out the actions.
///
/// idle → connecting (broker i, version v) → connected → (dropped) backing off → connecting the same broker
/// again. A failed attempt backs off and moves on to the next broker in the list. With `protocol = auto` an
/// attempt in MQTT 5 that the broker refuses as an unsupported version, or answers by closing the connection,
/// is followed at once by an attempt in 3.1.1 on the same broker; the version a broker accepted is remembered
/// (in memory, for the life of the process) and tried first on the next connections to it.
public struct MQTTLink: Sendable {
    public enum State: Sendable, Equatable {
        /// Not started.
        case idle
        /// An attempt is in progress.
        case connecting(broker: Int, version: MQTTVersion)
        /// The broker accepted the connection.
        case connected(broker: Int, version: MQTTVersion)
        /// Waiting before the next attempt, which goes to `broker`.
        case backingOff(broker: Int)
        /// Stopped for good.
        case stopped
    }

    /// What the client must do, in order.
    public enum Action: Sendable, Equatable {
        /// Open a connection to broker number `broker` (an index into the configured list) speaking `version`,
        /// then report its outcome: `connectSucceeded`, `connectRefused`, `connectionClosed`, `connectFailed` or
        /// `connectTimedOut`.
        case connect(broker: Int, version: MQTTVersion)
        /// Close the connection, or give up the attempt in progress.
        case disconnect
        /// Pause this many seconds, then call `waited()` (or `stop()` when asked to stop meanwhile).
        case wait(seconds: Double)
        /// Subscribe to every filter again: each connection starts a clean session.
        case resubscribe
        /// Tell the owner: connected, with this version.
        case reportConnected(broker: Int, version: MQTTVersion)
        /// Tell the owner: this attempt failed, and why (the reason says when another version is tried next).
        case reportConnectFailed(broker: Int, version: MQTTVersion, reason: String)
        /// Tell the owner: the connection is gone (`"stopped"` after `stop()`).
        case reportDisconnected(reason: String)
    }

    public let brokerCount: Int
    public let choice: MQTTProtocolChoice
    /// A connection that held this long counts as healthy: the next reconnection starts from the shortest
    /// delay again. A broker that accepts and drops at once keeps the delays growing.
    public let stableAfter: Duration
    public private(set) var state = State.idle
    /// Per broker (by index), the version it accepted last under `auto`. In memory only: a restart negotiates
    /// again, which costs one refused MQTT 5 attempt per 3.1.1 broker.
    public private(set) var acceptedVersions: [Int: MQTTVersion] = [:]
    private var backoff: Backoff
    private var connectedAt: Duration = .zero
    /// The attempt in progress is already the other version: it does not switch back.
    private var switchedVersion = false

    /// - Parameters:
    ///   - brokers: how many brokers are configured (at least one); they are tried in turn from the first.
    ///   - choice: the `[uplink] protocol` setting.
    ///   - backoff: the delays between attempts (capped, jittered; a test gives one without jitter).
    public init(
        brokers: Int, protocol choice: MQTTProtocolChoice = .auto, backoff: Backoff = Backoff(),
        stableAfter: Duration = .seconds(30)
    ) {
        precondition(brokers > 0, "an MQTT link needs at least one broker")
        brokerCount = brokers
        self.choice = choice
        self.backoff = backoff
        self.stableAfter = stableAfter
    }

    /// Starts with the first broker.
    public mutating func start() -> [Action] {
        guard state == .idle else { return [] }
        return attempt(broker: 0, version: preferredVersion(0))
    }

    /// The broker accepted the connection (CONNACK, success) at `now`, a monotonic time from any origin.
    public mutating func connectSucceeded(now: Duration) -> [Action] {
        guard case .connecting(let broker, let version) = state else { return [] }
        state = .connected(broker: broker, version: version)
        connectedAt = now
        if choice == .auto { acceptedVersions[broker] = version }
        return [.resubscribe, .reportConnected(broker: broker, version: version)]
    }

    /// The broker refused the connection in its CONNACK. `code` is numbered as the version in use numbers it
    /// (MQTT 5 reason code from 0x80, MQTT 3.1.1 return code 1 to 5); `reason` says it in words.
    public mutating func connectRefused(code: Int, reason: String) -> [Action] {
        guard case .connecting(let broker, let version) = state else { return [] }
        guard version.refusesVersion(connackCode: code) else {
            return failed(broker, version, reason: "broker refused the connection: \(reason)")
        }
        if choice == .auto && !switchedVersion {
            let other: MQTTVersion = version == .v5 ? .v311 : .v5
            return switchVersion(broker, from: version, to: other, reason: "broker refused MQTT \(version) (\(reason))")
        }
        return failed(
            broker, version,
            reason: "broker refused the connection: \(reason) (it does not speak MQTT \(version); "
                + "[uplink] protocol = \"auto\" lets the unit fall back)")
    }

    /// The connection closed, with the broker's answer still awaited (`connecting`) or after it (`connected`).
    /// `now` is on the same clock as `connectSucceeded`'s.
    public mutating func connectionClosed(reason: String, now: Duration) -> [Action] {
        switch state {
        case .connecting(let broker, let version):
            // A broker that does not speak MQTT 5 may close the connection rather than refuse it.
            if version == .v5 && choice == .auto && !switchedVersion {
                return switchVersion(
                    broker, from: .v5, to: .v311, reason: "broker closed the connection without answering MQTT 5")
            }
            let hint =
                version == .v5 && choice != .auto
                ? "; a broker that speaks only MQTT 3.1.1 does this: [uplink] protocol = \"auto\" lets the unit fall back"
                : ""
            return failed(
                broker, version, reason: "broker closed the connection without answering (\(reason))\(hint)")
        case .connected(let broker, _):
            if now - connectedAt >= stableAfter { backoff.reset() }
            state = .backingOff(broker: broker)
            return [.reportDisconnected(reason: reason), .wait(seconds: backoff.next())]
        case .idle, .backingOff, .stopped:
            return []
        }
    }

    /// The connection could not be opened (name resolution, TCP, TLS): the broker's MQTT layer saw nothing,
    /// so this says nothing about the version.
    public mutating func connectFailed(reason: String) -> [Action] {
        guard case .connecting(let broker, let version) = state else { return [] }
        return failed(broker, version, reason: reason)
    }

    /// No answer within the connect timeout (`seconds`).
    public mutating func connectTimedOut(seconds: Double) -> [Action] {
        guard case .connecting(let broker, let version) = state else { return [] }
        return [.disconnect] + failed(broker, version, reason: "no answer within \(seconds) s")
    }

    /// The pause asked for by `.wait` is over.
    public mutating func waited() -> [Action] {
        guard case .backingOff(let broker) = state else { return [] }
        return attempt(broker: broker, version: preferredVersion(broker))
    }

    /// No more attempts; a connection is closed cleanly.
    public mutating func stop() -> [Action] {
        let previous = state
        state = .stopped
        switch previous {
        case .connected: return [.disconnect, .reportDisconnected(reason: "stopped")]
        case .connecting: return [.disconnect]
        case .idle, .backingOff, .stopped: return []
        }
    }

    // MARK: - Transitions

    private func preferredVersion(_ broker: Int) -> MQTTVersion {
        switch choice {
        case .only(let version): version
        case .auto: acceptedVersions[broker] ?? .v5
        }
    }

    private mutating func attempt(broker: Int, version: MQTTVersion, switched: Bool = false) -> [Action] {
        state = .connecting(broker: broker, version: version)
        switchedVersion = switched
        return [.connect(broker: broker, version: version)]
    }

    /// The same broker, the other version, at once: the broker answered, it is not down.
    private mutating func switchVersion(_ broker: Int, from: MQTTVersion, to: MQTTVersion, reason: String)
        -> [Action]
    {
        acceptedVersions[broker] = nil
        return [.reportConnectFailed(broker: broker, version: from, reason: "\(reason); trying MQTT \(to)")]
            + attempt(broker: broker, version: to, switched: true)
    }

    /// Back off, then try the next broker.
    private mutating func failed(_ broker: Int, _ version: MQTTVersion, reason: String) -> [Action] {
        state = .backingOff(broker: (broker + 1) % brokerCount)
        return [.reportConnectFailed(broker: broker, version: version, reason: reason), .wait(seconds: backoff.next())]
    }
}
