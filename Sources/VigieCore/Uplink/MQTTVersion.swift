/// An MQTT protocol version the unit speaks.
public enum MQTTVersion: String, Sendable, Hashable, CustomStringConvertible {
    /// MQTT 5: reason codes on every acknowledgement, response topics for command replies.
    case v5 = "5"
    /// MQTT 3.1.1: what every broker speaks; replies go to `reply/<id>`.
    case v311 = "3.1.1"

    public var description: String { rawValue }

    /// Whether a refusal in CONNACK says that the broker does not speak this version. `code` is numbered as
    /// this version numbers it: MQTT 5 reason code 0x84 (unsupported protocol version), or MQTT 3.1.1 return
    /// code 1 (unacceptable protocol version).
    public func refusesVersion(connackCode code: Int) -> Bool {
        switch self {
        case .v5: code == 0x84
        case .v311: code == 1
        }
    }
}

/// `[uplink] protocol`: which MQTT version the unit speaks.
public enum MQTTProtocolChoice: Sendable, Hashable, CustomStringConvertible {
    /// MQTT 5, and MQTT 3.1.1 with a broker that refuses or drops an MQTT 5 CONNECT (`"auto"`, the default).
    case auto
    /// This version only (`"5"` or `"3.1.1"`).
    case only(MQTTVersion)

    /// Reads the configuration's spelling: `"auto"`, `"5"` or `"3.1.1"`.
    public init?(_ text: String) {
        if text == "auto" {
            self = .auto
        } else if let version = MQTTVersion(rawValue: text) {
            self = .only(version)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .only(let version): version.rawValue
        }
    }
}
