/// Whether the outbox's disk takes writes, told to the centre once per episode. Pure: time comes from the caller.
///
/// The first failed write of an episode raises `storage_fault`; the failures after it are only counted. The
/// episode ends with `storage_recovered` once what failed works again (new items stored, if storing failed; the
/// removals, if they failed) and writes have kept working for `settle` milliseconds: a disk that fails again
/// within that time stays in the same episode, so a flapping disk makes one report, not one per write. A full
/// disk that still takes the sequence counter but not an event has not recovered.
public struct StorageHealth: Sendable {
    /// `event/storage_fault`: the outbox cannot write (disk full, I/O errors, read-only), or cannot remove a
    /// delivered item.
    public static let faultKind = "storage_fault"
    /// `event/storage_recovered`: writes work again, and what was kept in memory meanwhile is in the outbox.
    public static let recoveredKind = "storage_recovered"

    /// The `storage_recovered` that tells of a damaged outbox found at open (not a database, or a failed
    /// integrity check), set aside as `setAside` and replaced by a new, empty one: its undelivered events are not
    /// delivered, and sequence numbers start again. `reason` is what was wrong, in SQLite's words.
    public static func corruptionRecovered(reason: String, setAside: String) -> UplinkEvent {
        UplinkEvent(
            kind: recoveredKind, priority: Priority.fault,
            details: [
                ("cause", "corrupt_outbox"), ("reason", String(reason.prefix(200))), ("set_aside", setAside),
            ])
    }

    /// What failed.
    public enum Operation: String, Sendable {
        /// Committing new items, quarantines or the sequence counter.
        case store
        /// Removing delivered items.
        case remove
    }

    enum State: Sendable, Equatable {
        case healthy
        case failing
        case settling(since: Int64)
    }

    /// Milliseconds writes must work before an episode ends.
    public let settle: Int64
    private var state = State.healthy
    private var start: Int64 = 0
    private var failures = 0
    private var written = 0
    /// Storing failed in this episode, and no item has been stored since.
    private var storeFailed = false

    public init(settle: Int64 = 10_000) {
        precondition(settle >= 0)
        self.settle = settle
    }

    /// Outside an episode.
    public var isHealthy: Bool { state == .healthy }

    /// When to call `succeeded` again to end an episode whose writes work, if one is settling.
    public var settlesAt: Int64? {
        guard case .settling(let since) = state else { return nil }
        return since + settle
    }

    /// A write failed at `millis`. Returns `storage_fault` when this begins an episode. `heldInMemory` is how
    /// many items are kept in memory instead.
    public mutating func failed(_ operation: Operation, reason: String, heldInMemory: Int, at millis: Int64)
        -> UplinkEvent?
    {
        failures += 1
        if operation == .store { storeFailed = true }
        switch state {
        case .failing:
            return nil
        case .settling:
            state = .failing
            return nil
        case .healthy:
            state = .failing
            start = millis
            failures = 1
            written = 0
            storeFailed = operation == .store
            return UplinkEvent(
                kind: Self.faultKind, priority: Priority.fault,
                details: [
                    ("operation", operation.rawValue), ("reason", String(reason.prefix(200))),
                    ("held_in_memory", "\(heldInMemory)"),
                ])
        }
    }

    /// A commit worked at `millis`, with `items` new items in it; `removalsFailing` when some delivered items
    /// still cannot be removed. Returns `storage_recovered` when this ends an episode. Call it again at
    /// `settlesAt`.
    public mutating func succeeded(items: Int, removalsFailing: Bool, at millis: Int64) -> UplinkEvent? {
        guard state != .healthy else { return nil }
        written += items
        if items > 0 { storeFailed = false }
        if removalsFailing || storeFailed {
            state = .failing
            return nil
        }
        if state == .failing { state = .settling(since: millis) }
        // A clock stepped back must not hold the episode open for as long as it stepped.
        guard case .settling(let since) = state, millis >= since + settle || millis < since else { return nil }
        state = .healthy
        let tenths = max(0, millis - start) / 100
        return UplinkEvent(
            kind: Self.recoveredKind, priority: Priority.fault,
            details: [
                ("duration_s", "\(tenths / 10).\(tenths % 10)"), ("failed_writes", "\(failures)"),
                ("written", "\(written)"),
            ])
    }
}
