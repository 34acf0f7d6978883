/// How the unit reaches the centre's broker.
public struct UplinkSettings: Sendable, Hashable {
    /// Tried in turn until one answers.
    public var brokers: [BrokerURL] = []
    /// CA certificate(s) that sign the broker's certificate (PEM). Required for `mqtts://`.
    public var caFile: String?
    /// This unit's certificate and key (PEM), for brokers that identify units by certificate.
    public var certFile: String?
    public var keyFile: String?
    /// Only over TLS or to a broker on this machine (see `plaintextProblems`).
    public var username: String?
    public var password: String?
    /// Check that the broker's certificate names the host we connected to. Only for a lab: never turn off in the field.
    public var verifyHostname = true
    /// Which MQTT version to speak: `auto` (MQTT 5, falling back to 3.1.1 per broker), or one version only.
    public var mqttProtocol = MQTTProtocolChoice.auto
    /// Accept plain `mqtt://` to a broker that is not on this machine (a trusted lab network). Off by default:
    /// without TLS, events, snapshots and commands can be read and forged on the way.
    public var allowPlaintext = false
    /// Where MQTT 5 response topics may point besides the unit's own `reply/` tree: the centre's reply tree,
    /// ending in `/` (e.g. `csu/replies/`). A response topic anywhere else is not used.
    public var replyPrefix: String?
    /// Commands of one name that may run at once before the rate limit applies…
    public var commandBurst = 5
    /// …and how many a minute after that, per command name. Beyond, the reply is `rate_limited`.
    public var commandsPerMinute = 30.0
    /// Commands in progress at once; more are answered `busy` and not run.
    public var commandQueue = 32
    /// An event delivered more than this many seconds after it was raised is marked `historical`.
    public var historicalAfter = 5.0
    /// Seconds between telemetry messages.
    public var telemetryInterval = 60.0
    /// MQTT keepalive, seconds: how soon the broker notices a dead link and publishes the last will.
    public var keepalive = 30
    /// Largest outbox (items and bytes) before the oldest low-priority items are dropped (never an emergency).
    public var outboxMaximumItems = 20_000
    public var outboxMaximumBytes = 256 << 20

    public init() {}
}

/// A reason not to start the uplink: it would cross a network in clear.
public enum PlaintextProblem: Sendable, Hashable, CustomStringConvertible {
    /// `brokers[index]` (0-based) is plain `mqtt://` to a host that is not this machine.
    case remoteBroker(index: Int, BrokerURL)
    /// `username` or `password` (the key) would be sent in clear to this broker.
    case credentials(key: String, broker: BrokerURL)

    public var description: String {
        switch self {
        case .remoteBroker(_, let broker):
            "\(broker) is plain MQTT to a broker that is not on this machine: events, snapshots and commands would "
                + "cross the network unencrypted and could be forged; use mqtts:// (with ca_file), or on a trusted "
                + "network set allow_plaintext = true"
        case .credentials(_, let broker):
            "refused: it would be sent in clear to \(broker) (plain MQTT, not this machine), even with "
                + "allow_plaintext; credentials need mqtts://"
        }
    }
}

extension UplinkSettings {
    /// Brokers reached without TLS on another machine: what they carry is readable on the way.
    public var plaintextRemoteBrokers: [BrokerURL] { brokers.filter { !$0.tls && !$0.isLoopback } }

    /// Why these settings must be refused: plain `mqtt://` to another machine without `allowPlaintext`, and a
    /// username or password for such a broker whatever `allowPlaintext` says. Empty when they are acceptable.
    public var plaintextProblems: [PlaintextProblem] {
        var problems: [PlaintextProblem] = []
        if !allowPlaintext {
            for (index, broker) in brokers.enumerated() where !broker.tls && !broker.isLoopback {
                problems.append(.remoteBroker(index: index, broker))
            }
        }
        if let broker = plaintextRemoteBrokers.first {
            if username != nil { problems.append(.credentials(key: "username", broker: broker)) }
            if password != nil { problems.append(.credentials(key: "password", broker: broker)) }
        }
        return problems
    }
}
