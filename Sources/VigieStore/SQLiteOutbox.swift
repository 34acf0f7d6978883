import Synchronization
import VigieCore

/// The durable outbox in SQLite (WAL, synchronous commits): store-and-forward that survives crashes and
/// power cuts.
///
/// Full-outbox policy, applied when an item is stored: while over `maximumItems` or `maximumBytes`, drop the
/// oldest snapshot of the lowest priority, then the oldest event of the lowest priority, never an item of
/// `Priority.emergency` (the outbox grows past its bounds rather than lose an emergency call).
public final class SQLiteOutbox: Outbox {
    private let database: Mutex<SQLiteDatabase>
    public let maximumItems: Int
    public let maximumBytes: Int
    /// Items dropped by the full-outbox policy since the start, for telemetry.
    private let droppedCount = Atomic<Int>(0)
    /// Items dropped since the last `takeDropped()`, by kind.
    private let droppedItems = Mutex(OutboxDrops())

    /// Opens or creates `outbox.sqlite` in `directory`.
    public init(directory: String, maximumItems: Int = 20_000, maximumBytes: Int = 256 << 20) throws(SQLiteError) {
        let database = try SQLiteDatabase(path: directory + "/outbox.sqlite")
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                priority INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                topic TEXT NOT NULL,
                payload BLOB NOT NULL,
                created_ms INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS outbox_order ON outbox (priority DESC, id);
            CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO counters VALUES ('sequence', 0), ('boot', 0);
            """)
        self.database = Mutex(database)
        self.maximumItems = maximumItems
        self.maximumBytes = maximumBytes
    }

    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    @discardableResult
    public func enqueue(_ build: @Sendable (Int64) -> [OutboxItem]) throws -> Int64 {
        let (sequence, dropped) = try database.withLock { (database) throws(SQLiteError) -> (Int64, OutboxDrops) in
            try database.transaction { () throws(SQLiteError) -> (Int64, OutboxDrops) in
                var sequence: Int64 = 0
                try database.query("UPDATE counters SET value = value + 1 WHERE name = 'sequence' RETURNING value") {
                    sequence = $0.integer(0)
                }
                try insert(build(sequence), into: database)
                return (sequence, try enforceBounds(database))
            }
        }
        count(dropped)
        return sequence
    }

    public func store(_ items: [OutboxItem]) throws {
        let dropped = try database.withLock { (database) throws(SQLiteError) -> OutboxDrops in
            try database.transaction { () throws(SQLiteError) -> OutboxDrops in
                try insert(items, into: database)
                return try enforceBounds(database)
            }
        }
        count(dropped)
    }

    public func takeDropped() -> OutboxDrops {
        droppedItems.withLock { dropped in
            defer { dropped = OutboxDrops() }
            return dropped
        }
    }

    private func insert(_ items: [OutboxItem], into database: SQLiteDatabase) throws(SQLiteError) {
        for item in items {
            try database.query(
                "INSERT INTO outbox (priority, kind, topic, payload, created_ms) VALUES (?, ?, ?, ?, ?)",
                [
                    .integer(Int64(item.priority)), .integer(Int64(item.kind.rawValue)), .text(item.topic),
                    .blob(item.payload), .integer(item.createdAt),
                ])
        }
    }

    /// Counted only once the transaction that dropped them is committed.
    private func count(_ dropped: OutboxDrops) {
        guard !dropped.isEmpty else { return }
        droppedCount.add(dropped.total, ordering: .relaxed)
        droppedItems.withLock { $0.add(dropped) }
    }

    /// Drops items until the outbox is within its bounds; returns what it dropped.
    private func enforceBounds(_ database: SQLiteDatabase) throws(SQLiteError) -> OutboxDrops {
        var dropped = OutboxDrops()
        while true {
            var items: Int64 = 0
            var bytes: Int64 = 0
            try database.query("SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox") {
                items = $0.integer(0)
                bytes = $0.integer(1)
            }
            guard items > maximumItems || bytes > maximumBytes else { return dropped }
            var victim: (id: Int64, label: String)?
            try database.query(
                """
                SELECT id, kind, topic FROM outbox WHERE priority < ? ORDER BY priority ASC, kind DESC, id ASC LIMIT 1
                """, [.integer(Int64(Priority.emergency))]
            ) { row in
                let kind = OutboxItem.Kind(rawValue: Int(row.integer(1))) ?? .event
                victim = (row.integer(0), OutboxItem.label(kind: kind, topic: row.text(2)))
            }
            guard let victim else { return dropped }  // only emergencies left: keep them all
            try database.query("DELETE FROM outbox WHERE id = ?", [.integer(victim.id)])
            dropped.add(victim.label)
        }
    }

    public func pending(limit: Int) throws -> [StoredItem] {
        try database.withLock { (database) throws(SQLiteError) -> [StoredItem] in
            var items: [StoredItem] = []
            try database.query(
                "SELECT id, priority, kind, topic, payload, created_ms FROM outbox ORDER BY priority DESC, id ASC LIMIT ?",
                [.integer(Int64(limit))]
            ) { row in
                items.append(
                    StoredItem(
                        id: row.integer(0),
                        item: OutboxItem(
                            topic: row.text(3), payload: row.blob(4), priority: Int(row.integer(1)),
                            kind: OutboxItem.Kind(rawValue: Int(row.integer(2))) ?? .event, createdAt: row.integer(5))))
            }
            return items
        }
    }

    public func remove(_ id: Int64) throws {
        try database.withLock { (database) throws(SQLiteError) in
            try database.query("DELETE FROM outbox WHERE id = ?", [.integer(id)])
        }
    }

    public func count() throws -> Int {
        try database.withLock { (database) throws(SQLiteError) -> Int in
            var count = 0
            try database.query("SELECT count(*) FROM outbox") { count = Int($0.integer(0)) }
            return count
        }
    }

    /// The sequence number of the last event stored (0 before the first).
    public func lastSequence() throws -> Int64 {
        try database.withLock { (database) throws(SQLiteError) -> Int64 in
            var value: Int64 = 0
            try database.query("SELECT value FROM counters WHERE name = 'sequence'") { value = $0.integer(0) }
            return value
        }
    }

    public func nextBoot() throws -> Int64 {
        try database.withLock { (database) throws(SQLiteError) -> Int64 in
            var boot: Int64 = 0
            try database.query("UPDATE counters SET value = value + 1 WHERE name = 'boot' RETURNING value") {
                boot = $0.integer(0)
            }
            return boot
        }
    }
}
