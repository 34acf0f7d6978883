/// Why an MQTT operation failed, in words a technician can act on.
public enum MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotCreateClient
    case invalidOption(String)
    case tls(String)
    case publishFailed(String)
    /// The message itself cannot be published, now or later: larger than the broker takes (the Maximum Packet
    /// Size of its CONNACK) or than MQTT allows, or an invalid topic. Its item is quarantined.
    case unpublishable(String)
    case notConnected

    public var description: String {
        switch self {
        case .cannotCreateClient: "MQTT: cannot create the client (out of memory?)"
        case .invalidOption(let reason): "MQTT: \(reason)"
        case .tls(let reason): "MQTT TLS: \(reason)"
        case .publishFailed(let reason): "MQTT publish failed: \(reason)"
        case .unpublishable(let reason): "MQTT: the message cannot be published: \(reason)"
        case .notConnected: "MQTT: not connected"
        }
    }
}
