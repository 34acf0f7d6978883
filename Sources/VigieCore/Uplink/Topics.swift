/// The MQTT topic tree of one unit, version 1: `vigie/v1/<device-id>/…` (see docs/mqtt.md).
public struct Topics: Sendable, Hashable {
    public let prefix: String

    public init(deviceID: String) { prefix = "vigie/v1/\(deviceID)/" }

    /// Retained birth message; the last will replaces it with `lost`.
    public var status: String { prefix + "status" }
    public var telemetry: String { prefix + "telemetry" }
    public func event(_ kind: String) -> String { prefix + "event/" + kind }
    public func snapshot(_ id: String) -> String { prefix + "snapshot/" + id }
    /// Subscription filter for commands.
    public var commands: String { prefix + "cmd/#" }
    public var commandPrefix: String { prefix + "cmd/" }
    public func reply(_ requestID: String) -> String { replies + requestID }
    /// The unit's reply tree, `…/reply/`: the only place in it an MQTT 5 response topic may point to.
    public var replies: String { prefix + "reply/" }
    /// Where an error goes when the request carried no usable id (and no MQTT 5 response topic).
    public var replyError: String { prefix + "reply/error" }
}
