/// A message waiting to be delivered to the centre.
public struct OutboxItem: Sendable, Hashable {
    /// What the message is, for the full-outbox policy and for marking late events.
    public enum Kind: Int, Sendable {
        case event = 0
        case snapshot = 1
    }

    public var topic: String
    public var payload: [UInt8]
    /// Higher goes first. `Priority.emergency` is never dropped.
    public var priority: Int
    public var kind: Kind
    /// When it was raised, milliseconds since the Unix epoch.
    public var createdAt: Int64

    public init(topic: String, payload: [UInt8], priority: Int, kind: Kind, createdAt: Int64) {
        self.topic = topic
        self.payload = payload
        self.priority = priority
        self.kind = kind
        self.createdAt = createdAt
    }
}

extension OutboxItem {
    /// What an item is, in the words of the `outbox_overflow` event: the kind of an event (the last level of its
    /// topic, `…/event/<kind>`) or `snapshot`.
    public static func label(kind: Kind, topic: String) -> String {
        switch kind {
        case .snapshot: "snapshot"
        case .event: topic.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? "event"
        }
    }
}

extension OutboxItem {
    /// The kinds of the events in which the unit tells its own losses and storage or uplink faults
    /// (`outbox_overflow`, `outbox_quarantine`, `storage_fault`, `storage_recovered`, `uplink_fault`). Bounds never
    /// drop them, as they never drop an emergency: a report dropped by the bound it reports on would leave a gap
    /// in `seq` unexplained (and an uplink fault explains why the outbox filled). They are throttled where they
    /// are raised, so they cannot fill anything.
    public static let reportKinds: Set<String> = [
        OutboxOverflowReport.kind, QuarantineReport.kind, StorageHealth.faultKind, StorageHealth.recoveredKind,
        UplinkFault.kind,
    ]

    /// Never dropped to make room: an emergency, or a report of the unit's own losses (`reportKinds`).
    public var isKeptPastBounds: Bool {
        priority >= Priority.emergency
            || (kind == .event && Self.reportKinds.contains(Self.label(kind: kind, topic: topic)))
    }
}

/// Items the full-outbox policy dropped, counted by what they were (`motion`, `motion_end`, `snapshot`, …).
public struct OutboxDrops: Sendable, Hashable {
    public private(set) var counts: [String: Int] = [:]

    public init() {}

    public var total: Int { counts.values.reduce(0, +) }
    public var isEmpty: Bool { counts.isEmpty }

    public mutating func add(_ label: String, count: Int = 1) { counts[label, default: 0] += count }

    public mutating func add(_ other: OutboxDrops) {
        for (label, count) in other.counts { add(label, count: count) }
    }
}

/// Outbox priorities: the emergency call first, then alerts, then the rest.
public enum Priority {
    public static let emergency = 100
    public static let alert = 50
    public static let fault = 40
    public static let routine = 10
    /// Events sent again at the centre's request (`cmd/replay`, marked `historical`): after everything live, and
    /// the first to go when the outbox is full, since the event store keeps them anyway.
    public static let historical = 5
}

/// A stored item with its place in the outbox.
public struct StoredItem: Sendable, Hashable {
    /// Unique and increasing: the order items were raised in. Given by the uplink when the item is raised (so
    /// that it names the item in memory before it is committed) and kept by the outbox.
    public var id: Int64
    public var item: OutboxItem

    public init(id: Int64, item: OutboxItem) {
        self.id = id
        self.item = item
    }
}

/// What one commit changes in the outbox, applied all at once or not at all (except removals, see `Outbox`).
public struct OutboxBatch: Sendable, Hashable {
    /// Items to add, with the ids the uplink gave them, in that order.
    public var items: [StoredItem] = []
    /// Items to set aside for good (added in this batch or before), with why: they stay in the outbox but are
    /// never offered again.
    public var quarantines: [Int64: String] = [:]
    /// Delivered items to remove.
    public var removals: [Int64] = []
    /// The event sequence counter moves up to this number (never down): the last event raised so far.
    public var sequence: Int64?
    /// The sequence numbers reserved becomes this: numbers up to it may be in use by events published before
    /// their commit, so that a crash never lets them be given again. 0 releases the reservation (a clean stop).
    public var reservation: Int64?

    public init(
        items: [StoredItem] = [], quarantines: [Int64: String] = [:], removals: [Int64] = [], sequence: Int64? = nil,
        reservation: Int64? = nil
    ) {
        self.items = items
        self.quarantines = quarantines
        self.removals = removals
        self.sequence = sequence
        self.reservation = reservation
    }

    public var isEmpty: Bool {
        items.isEmpty && quarantines.isEmpty && removals.isEmpty && sequence == nil && reservation == nil
    }

    /// The removals alone, and the rest: written apart while the disk fails, so that a full disk frees room before
    /// anything is added.
    public var split: (removals: OutboxBatch, rest: OutboxBatch) {
        (
            OutboxBatch(removals: removals),
            OutboxBatch(
                items: items, quarantines: quarantines, sequence: sequence, reservation: reservation
            )
        )
    }
}

/// What a commit could not do although the commit itself succeeded.
public struct OutboxWriteResult: Sendable, Hashable {
    /// Removals that failed (the items stay in the outbox), and why the first of them failed.
    public var failedRemovals: Set<Int64> = []
    public var removalError: String?

    public init(failedRemovals: Set<Int64> = [], removalError: String? = nil) {
        self.failedRemovals = failedRemovals
        self.removalError = removalError
    }
}

/// Where the outbox's numbering stands, for the uplink to continue it.
public struct OutboxCounters: Sendable, Hashable {
    /// The sequence number of the last event stored (0 before the first).
    public var sequence: Int64
    /// The largest item id ever stored (ids are never used twice, even after removals).
    public var item: Int64
    /// The sequence numbers reserved (`OutboxBatch.reservation`; 0 after a clean stop): after a crash, numbering
    /// continues past them.
    public var reservation: Int64

    public init(sequence: Int64, item: Int64, reservation: Int64 = 0) {
        self.sequence = sequence
        self.item = item
        self.reservation = reservation
    }
}

/// Durable store-and-forward queue: an item stays until the broker has acknowledged it (or the full-outbox
/// policy drops it). The uplink numbers items and events itself, publishes an item while its commit is in
/// flight, and commits batches from one writer thread; reads may come from another thread at the same time and
/// must not wait for a commit in progress. Implementations are thread-safe.
public protocol Outbox: Sendable {
    /// Where the numbering stands: the uplink continues from there.
    func counters() throws -> OutboxCounters
    /// Applies `batch` in one commit: removals first (each on its own: one that fails leaves its item and is
    /// reported in the result, the rest of the batch goes on), then the items, the quarantines and the sequence
    /// counter, then the full-outbox policy. Throws if the commit fails, and then nothing of the batch is applied.
    @discardableResult
    func write(_ batch: OutboxBatch) throws -> OutboxWriteResult
    /// What the full-outbox policy dropped since the last call (then forgets it), for `outbox_overflow`.
    func takeDropped() -> OutboxDrops
    /// Up to `limit` items to deliver (not quarantined, not in `excluding`), highest priority first, oldest
    /// first within a priority. Skipping `excluding` (what the uplink already tracks) must not cost reading their
    /// payloads.
    func pending(limit: Int, excluding: Set<Int64>) throws -> [StoredItem]
    /// Items waiting to be delivered (quarantined ones not counted).
    func count() throws -> Int
    /// Items set aside by a quarantine.
    func quarantinedCount() throws -> Int
    /// Increments and returns the boot counter (one per daemon start).
    func nextBoot() throws -> Int64
}

extension Outbox {
    /// Up to `limit` items to deliver, highest priority first, oldest first within a priority.
    public func pending(limit: Int) throws -> [StoredItem] { try pending(limit: limit, excluding: []) }
}
