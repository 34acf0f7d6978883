/// A report raised at most once per interval (`OutboxOverflowReport`, `QuarantineReport`): the event when one is
/// due, and when the next will be.
public protocol ThrottledReport: Sendable {
    var due: Int64? { get }
    mutating func report(at millis: Int64) -> UplinkEvent?
}

/// Counts by label what a report will tell: the first counts at once, then at most one report per `interval`
/// with everything counted in between. Counts caused by storing a report are kept for the next report but do
/// not call for one, or reports would feed on each other. Pure: time comes from the caller. The reports of a
/// full outbox (`OutboxOverflowReport`) and of quarantined items (`QuarantineReport`) are made of it.
struct ThrottledTally: Sendable {
    /// Milliseconds between two reports, at least.
    let interval: Int64
    private(set) var waiting = OutboxDrops()
    private var called = false
    private var lastReport: Int64?

    init(interval: Int64) {
        precondition(interval >= 0)
        self.interval = interval
    }

    /// Counts `counts`; `byReport` when storing a report caused them.
    mutating func add(_ counts: OutboxDrops, byReport: Bool) {
        guard !counts.isEmpty else { return }
        waiting.add(counts)
        if !byReport { called = true }
    }

    /// When the waiting counts may be reported (milliseconds since the epoch), or nil if none calls for a report.
    var due: Int64? {
        guard called else { return nil }
        return lastReport.map { $0 + interval } ?? .min
    }

    /// The counts to report at `millis`, if a report is due; they are then forgotten.
    mutating func take(at millis: Int64) -> OutboxDrops? {
        guard let due else { return nil }
        // A clock stepped back must not hold reports for as long as it stepped.
        guard millis >= due || millis < (lastReport ?? .min) else { return nil }
        defer {
            waiting = OutboxDrops()
            called = false
            lastReport = millis
        }
        return waiting
    }
}
