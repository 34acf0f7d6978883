/// How the unit reaches the centre's broker.
public struct UplinkSettings: Sendable, Hashable {
    /// Tried in turn until one answers.
    public var brokers: [BrokerURL] = []
    /// CA certificate(s) that sign the broker's certificate (PEM). Required for `mqtts://`.
    public var caFile: String?
    /// This unit's certificate and key (PEM), for brokers that identify units by certificate.
    public var certFile: String?
    public var keyFile: String?
    public var username: String?
    public var password: String?
    /// Check that the broker's certificate names the host we connected to. Only for a lab: never turn off in the field.
    public var verifyHostname = true
    /// Which MQTT version to speak: `auto` (MQTT 5, falling back to 3.1.1 per broker), or one version only.
    public var mqttProtocol = MQTTProtocolChoice.auto
    /// Seconds between telemetry messages.
    public var telemetryInterval = 60.0
    /// MQTT keepalive, seconds: how soon the broker notices a dead link and publishes the last will.
    public var keepalive = 30
    /// Largest outbox (items and bytes) before the oldest low-priority items are dropped (never an emergency).
    public var outboxMaximumItems = 20_000
    public var outboxMaximumBytes = 256 << 20

    public init() {}
}
