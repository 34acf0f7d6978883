/// An event for the centre, before it is stored: what happened, where, and an optional masked snapshot.
public struct UplinkEvent: Sendable {
    /// `motion`, `camera_lost`, `config_changed`, `test`, …: the last part of the topic `event/<kind>`.
    public var kind: String
    public var priority: Int
    public var zone: String?
    public var boxes: [NormalizedRect]
    /// Short facts for the operator, e.g. `["reason": "ENODEV"]`. Keys in order.
    public var details: [(key: String, value: String)]
    /// JPEG bytes of an already-masked frame (`JPEGEncoder` only takes a `MaskedFrame`).
    public var snapshot: [UInt8]?

    public init(
        kind: String, priority: Int = Priority.alert, zone: String? = nil, boxes: [NormalizedRect] = [],
        details: [(key: String, value: String)] = [], snapshot: [UInt8]? = nil
    ) {
        self.kind = kind
        self.priority = priority
        self.zone = zone
        self.boxes = boxes
        self.details = details
        self.snapshot = snapshot
    }

    /// The event's JSON (see docs/mqtt.md). `historical` is added at delivery time when it is late.
    public func payload(id: String, sequence: Int64, millis: Int64, deviceID: String, snapshotTopic: String?) -> [UInt8]
    {
        var json = JSONWriter()
        json.beginObject()
        json.string("id", id)
        json.string("kind", kind)
        json.string("device", deviceID)
        json.string("time", Timestamp.rfc3339(millis: millis))
        json.integer("seq", Int(sequence))
        json.integer("priority", priority)
        if let zone { json.string("zone", zone) }
        if !boxes.isEmpty {
            json.beginArray("boxes")
            for box in boxes { json.rect(nil, box) }
            json.endArray()
        }
        if !details.isEmpty {
            json.beginObject("details")
            for (key, value) in details { json.string(key, value) }
            json.endObject()
        }
        if let snapshotTopic {
            json.beginObject("snapshot")
            json.string("id", id)
            json.string("topic", snapshotTopic)
            json.endObject()
        }
        json.endObject()
        return Array(json.text.utf8)
    }

    /// The `id` of an event payload this type wrote (it comes first; a historical mark may precede it).
    public static func id(of payload: [UInt8]) -> String? {
        let key = Array("\"id\":\"".utf8)
        guard let start = payload.firstRange(of: key)?.upperBound,
            let end = payload[start...].firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        return String(decoding: payload[start..<end], as: UTF8.self)
    }

    /// Marks a stored event payload as delivered late: `{"historical":true,…}`.
    public static func markHistorical(_ payload: [UInt8]) -> [UInt8] {
        // Marked once: a replayed event that waits in the outbox must not gain a second, duplicate key.
        guard payload.first == UInt8(ascii: "{"), !payload.starts(with: historicalMark) else { return payload }
        return historicalMark + payload.dropFirst()
    }

    private static let historicalMark = Array("{\"historical\":true,".utf8)
}
