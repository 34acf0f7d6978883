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

/// Outbox priorities: the emergency call first, then alerts, then the rest.
public enum Priority {
    public static let emergency = 100
    public static let alert = 50
    public static let fault = 40
    public static let routine = 10
}

/// A stored item with its place in the outbox.
public struct StoredItem: Sendable, Hashable {
    /// Unique and increasing: the order items were stored in.
    public var id: Int64
    public var item: OutboxItem

    public init(id: Int64, item: OutboxItem) {
        self.id = id
        self.item = item
    }
}

/// Durable store-and-forward queue: an item is committed to disk before it is published and removed only when
/// the broker has acknowledged it. Implementations are thread-safe.
public protocol Outbox: Sendable {
    /// Allocates the next event sequence number and stores what `build` makes of it, atomically (one commit).
    /// - Returns: the sequence number.
    @discardableResult
    func enqueue(_ build: @Sendable (Int64) -> [OutboxItem]) throws -> Int64
    /// Up to `limit` items, highest priority first, oldest first within a priority.
    func pending(limit: Int) throws -> [StoredItem]
    /// Forgets a delivered item.
    func remove(_ id: Int64) throws
    /// Items waiting.
    func count() throws -> Int
    /// Increments and returns the boot counter (one per daemon start).
    func nextBoot() throws -> Int64
}
