/// Figures the unit sends periodically (QoS 0): enough for the centre to see a unit degrade before it fails.
public struct TelemetrySample: Sendable, Hashable {
    public var framesPerSecond = 0.0
    public var frames = 0
    public var droppedFrames = 0
    /// One-minute load average.
    public var cpuLoad: Double?
    /// Degrees Celsius, from the first thermal zone.
    public var cpuTemperature: Double?
    public var diskFreeBytes: Int64?
    public var uptimeSeconds = 0.0
    public var armed = true
    /// Items quarantined: refused by the broker or impossible to publish, kept in the outbox and never offered
    /// again; set by the uplink.
    public var outboxQuarantined: Int?
    /// What is degraded (e.g. an outbox that cannot be written), in a few words each; left out when empty.
    public var faults: [String] = []

    public init() {}

    func payload(deviceID: String, millis: Int64, outboxDepth: Int, link: String, protocol: MQTTVersion?) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.string("device", deviceID)
        json.string("time", Timestamp.rfc3339(millis: millis))
        json.number("fps", framesPerSecond, decimals: 2)
        json.integer("frames", frames)
        json.integer("dropped_frames", droppedFrames)
        if let cpuLoad { json.number("cpu_load", cpuLoad, decimals: 2) }
        if let cpuTemperature { json.number("cpu_temperature", cpuTemperature, decimals: 1) }
        if let diskFreeBytes { json.integer("disk_free_bytes", Int(diskFreeBytes)) }
        json.integer("outbox_depth", outboxDepth)
        if let outboxQuarantined { json.integer("outbox_quarantined", outboxQuarantined) }
        json.number("uptime_s", uptimeSeconds, decimals: 1)
        json.string("link", link)
        if let `protocol` { json.string("protocol", `protocol`.rawValue) }
        json.bool("armed", armed)
        if !faults.isEmpty {
            json.beginArray("faults")
            for fault in faults { json.string(nil, fault) }
            json.endArray()
        }
        json.endObject()
        return Array(json.text.utf8)
    }
}

extension TelemetrySample {
    /// The telemetry JSON (see docs/mqtt.md); `protocol` is the MQTT version of the link.
    public func json(
        deviceID: String, millis: Int64, outboxDepth: Int, link: String, protocol: MQTTVersion? = nil
    ) -> [UInt8] {
        payload(deviceID: deviceID, millis: millis, outboxDepth: outboxDepth, link: link, protocol: `protocol`)
    }
}
