/// The uplink cannot be started: its MQTT client cannot be made, most often because a TLS file named in
/// `[uplink]` (`ca_file`, `cert_file`, `key_file`) is missing or unreadable. The camera and the masks keep
/// running; the event waits in the outbox with the others and goes out once the uplink works (the unit checks
/// the files again with backoff).
public enum UplinkFault {
    /// `event/uplink_fault`.
    public static let kind = "uplink_fault"

    /// The event: `reason` is what the client said, `retry` the longest wait between two attempts, in seconds.
    public static func event(reason: String, retry: Double) -> UplinkEvent {
        UplinkEvent(
            kind: kind, priority: Priority.fault,
            details: [("reason", String(reason.prefix(200))), ("retry_max_s", "\(Int(retry.rounded()))")])
    }
}
