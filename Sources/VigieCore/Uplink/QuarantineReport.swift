/// Turns quarantined items into `outbox_quarantine` events (fault priority): how many items, how many of each
/// kind, and why the last one was set aside. Each item is told once. Pure: time comes from the caller.
///
/// As with `outbox_overflow`, the first quarantine is reported at once and then at most one report per
/// `interval`. A report the broker refuses in turn (an ACL that denies every event) is quarantined too, and
/// counted in the next report without calling for one: a refusing broker costs one report a minute at most.
public struct QuarantineReport: ThrottledReport {
    /// The event kind, `event/outbox_quarantine`.
    public static let kind = "outbox_quarantine"

    private var tally: ThrottledTally
    private var reason = ""

    public init(interval: Int64 = 60_000) { tally = ThrottledTally(interval: interval) }

    /// Counts a quarantined item: `label` is what it is (`OutboxItem.label`), `reason` why it was set aside.
    /// A quarantined `outbox_quarantine` report does not call for another report.
    public mutating func add(label: String, reason: String) {
        var counts = OutboxDrops()
        counts.add(label)
        tally.add(counts, byReport: label == Self.kind)
        self.reason = reason
    }

    /// When the waiting items may be reported (milliseconds since the epoch), or nil if none calls for a report.
    public var due: Int64? { tally.due }

    /// The event to raise at `millis`, if one is due; the items it reports are then forgotten.
    public mutating func report(at millis: Int64) -> UplinkEvent? {
        guard let items = tally.take(at: millis) else { return nil }
        var details = [(key: "quarantined", value: "\(items.total)")]
        for (label, count) in items.counts.sorted(by: { $0.key < $1.key }) {
            details.append((key: "quarantined_\(label)", value: "\(count)"))
        }
        details.append((key: "reason", value: String(reason.prefix(200))))
        return UplinkEvent(kind: Self.kind, priority: Priority.fault, details: details)
    }
}
