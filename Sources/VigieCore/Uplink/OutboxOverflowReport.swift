/// Turns what a full outbox dropped into `outbox_overflow` events (fault priority): how many items, and how many
/// of each kind. Pure: time comes from the caller.
///
/// The first drops are reported at once; after that at most one report per `interval`, with everything dropped
/// in between, so that a unit cut off for days with a full outbox reports its losses without filling the outbox
/// with reports. Storing a report may itself push an item out: such a drop is counted in the next report but
/// does not call for one, or reports would feed on each other.
public struct OutboxOverflowReport: Sendable {
    /// The event kind, `event/outbox_overflow`.
    public static let kind = "outbox_overflow"

    /// Milliseconds between two reports, at least.
    public let interval: Int64
    private var waiting = OutboxDrops()
    private var called = false
    private var lastReport: Int64?

    public init(interval: Int64 = 60_000) {
        precondition(interval >= 0)
        self.interval = interval
    }

    /// Counts dropped items; `byReport` when they were pushed out by storing a report.
    public mutating func add(_ drops: OutboxDrops, byReport: Bool) {
        guard !drops.isEmpty else { return }
        waiting.add(drops)
        if !byReport { called = true }
    }

    /// When the waiting drops may be reported (milliseconds since the epoch), or nil if none calls for a report.
    public var due: Int64? {
        guard called else { return nil }
        return lastReport.map { $0 + interval } ?? .min
    }

    /// The event to raise at `millis`, if one is due; the drops it reports are then forgotten.
    public mutating func report(at millis: Int64) -> UplinkEvent? {
        guard let due else { return nil }
        // A clock stepped back must not hold reports for as long as it stepped.
        guard millis >= due || millis < (lastReport ?? .min) else { return nil }
        var details = [(key: "dropped", value: "\(waiting.total)")]
        for (label, count) in waiting.counts.sorted(by: { $0.key < $1.key }) {
            details.append((key: "dropped_\(label)", value: "\(count)"))
        }
        waiting = OutboxDrops()
        called = false
        lastReport = millis
        return UplinkEvent(kind: Self.kind, priority: Priority.fault, details: details)
    }
}
