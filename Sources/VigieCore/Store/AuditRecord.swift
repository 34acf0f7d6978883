/// A record of who took what from the unit, or changed what it hides, and why: kept in the event store and sent
/// to the centre (`UnitEvent.audit`, kinds `export` and `mask_change`, see docs/mqtt.md).
public struct AuditRecord: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// Events and snapshots recorded from `since` to `until` (milliseconds since the epoch) were written out.
        case export(since: Int64, until: Int64, events: Int, snapshots: Int, output: String)
        /// A reload changed the privacy masks: the names of the masks added, removed and redrawn, and how many
        /// there are now.
        case maskChange(added: [String], removed: [String], redrawn: [String], now: Int)
    }

    public var action: Action
    /// The Unix user who ran the export, or `vigied` for a reload (SIGHUP or `cmd/reload`).
    public var user: String
    /// Why, in the words of whoever did it (an export's `--reason`; `reload` for a mask change).
    public var reason: String

    public init(action: Action, user: String, reason: String) {
        self.action = action
        self.user = user
        self.reason = reason
    }

    /// `export` or `mask_change`.
    public var kind: String {
        switch action {
        case .export: "export"
        case .maskChange: "mask_change"
        }
    }

    /// The mask change between two configurations, `nil` when their masks are the same.
    public static func maskChange(from old: PrivacyMask, to new: PrivacyMask, user: String, reason: String)
        -> AuditRecord?
    {
        guard old != new else { return nil }
        let before = Dictionary(old.polygons.map { ($0.name, $0.points) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.polygons.map { ($0.name, $0.points) }, uniquingKeysWith: { first, _ in first })
        let added = new.polygons.map(\.name).filter { before[$0] == nil }
        let removed = old.polygons.map(\.name).filter { after[$0] == nil }
        let redrawn = new.polygons.map(\.name).filter { before[$0] != nil && before[$0] != after[$0] }
        return AuditRecord(
            action: .maskChange(added: added, removed: removed, redrawn: redrawn, now: new.polygons.count),
            user: user, reason: reason)
    }

    /// The facts the centre receives, keys in order.
    public var details: [(key: String, value: String)] {
        var details: [(key: String, value: String)] = [("user", user), ("reason", reason)]
        switch action {
        case .export(let since, let until, let events, let snapshots, let output):
            details += [
                ("since", Timestamp.rfc3339(millis: since)), ("until", Timestamp.rfc3339(millis: until)),
                ("events", "\(events)"), ("snapshots", "\(snapshots)"), ("output", output),
            ]
        case .maskChange(let added, let removed, let redrawn, let now):
            details += [
                ("added", added.joined(separator: ",")), ("removed", removed.joined(separator: ",")),
                ("redrawn", redrawn.joined(separator: ",")), ("masks", "\(now)"),
            ]
        }
        return details
    }
}
