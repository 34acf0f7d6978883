/// Turns what a full outbox dropped into `outbox_overflow` events (fault priority): how many items, and how many
/// of each kind. Pure: time comes from the caller.
///
/// The first drops are reported at once; after that at most one report per `interval`, with everything dropped
/// in between, so that a unit cut off for days with a full outbox reports its losses without filling the outbox
/// with reports. Storing a report may itself push an item out: such a drop is counted in the next report but
/// does not call for one, or reports would feed on each other.
public struct OutboxOverflowReport: ThrottledReport {
    /// The event kind, `event/outbox_overflow`.
    public static let kind = "outbox_overflow"

    private var tally: ThrottledTally

    public init(interval: Int64 = 60_000) { tally = ThrottledTally(interval: interval) }

    /// Milliseconds between two reports, at least.
    public var interval: Int64 { tally.interval }

    /// Counts dropped items; `byReport` when they were pushed out by storing a report.
    public mutating func add(_ drops: OutboxDrops, byReport: Bool) { tally.add(drops, byReport: byReport) }

    /// When the waiting drops may be reported (milliseconds since the epoch), or nil if none calls for a report.
    public var due: Int64? { tally.due }

    /// The event to raise at `millis`, if one is due; the drops it reports are then forgotten.
    public mutating func report(at millis: Int64) -> UplinkEvent? {
        guard let dropped = tally.take(at: millis) else { return nil }
        var details = [(key: "dropped", value: "\(dropped.total)")]
        for (label, count) in dropped.counts.sorted(by: { $0.key < $1.key }) {
            details.append((key: "dropped_\(label)", value: "\(count)"))
        }
        return UplinkEvent(kind: Self.kind, priority: Priority.fault, details: details)
    }
}
