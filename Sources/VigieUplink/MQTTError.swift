/// Why an MQTT operation failed, in words a technician can act on.
public enum MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotCreateClient
    case invalidOption(String)
    case tls(String)
    case publishFailed(String)
    case notConnected

    public var description: String {
        switch self {
        case .cannotCreateClient: "MQTT: cannot create the client (out of memory?)"
        case .invalidOption(let reason): "MQTT: \(reason)"
        case .tls(let reason): "MQTT TLS: \(reason)"
        case .publishFailed(let reason): "MQTT publish failed: \(reason)"
        case .notConnected: "MQTT: not connected"
        }
    }
}
