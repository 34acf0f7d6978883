import Synchronization
import VigieCore

/// The durable outbox in SQLite (WAL, synchronous commits): store-and-forward that survives crashes and
/// power cuts.
///
/// Two connections: the writer commits the uplink's batches, the reader serves `pending` and the counts; in WAL
/// mode a read never waits for a commit in progress, so the link never waits on the disk's fsync.
///
/// Full-outbox policy, applied with each commit: while over `maximumItems` or `maximumBytes`, drop quarantined
/// items first (they will not be delivered), then the oldest snapshot of the lowest priority, then the oldest
/// event of the lowest priority; never an item of `Priority.emergency` (the outbox grows past its bounds rather
/// than lose an emergency call), nor a report of the unit's own losses (`OutboxItem.reportKinds`).
public final class SQLiteOutbox: Outbox {
    private let writer: Mutex<SQLiteDatabase>
    private let reader: Mutex<SQLiteDatabase>
    public let maximumItems: Int
    public let maximumBytes: Int
    /// Items dropped by the full-outbox policy since the start, for telemetry.
    private let droppedCount = Atomic<Int>(0)
    /// Items dropped since the last `takeDropped()`, by kind.
    private let droppedItems = Mutex(OutboxDrops())

    /// The outbox's file in `directory` (beside it, SQLite's `-wal` and `-shm`).
    public static func path(directory: String) -> String { directory + "/" + fileName }
    public static let fileName = "outbox.sqlite"

    /// Opens or creates `outbox.sqlite` in `directory`, read-write; checks its structure first (`PRAGMA
    /// quick_check`, linear in its size). A damaged file throws an error whose `isCorruption` is true (see
    /// `openRecovering`, which sets such a file aside); a file or folder that cannot be written throws too.
    public init(directory: String, maximumItems: Int = 20_000, maximumBytes: Int = 256 << 20) throws(SQLiteError) {
        let path = Self.path(directory: directory)
        let database = try SQLiteDatabase(path: path)
        var problems: [String] = []
        try database.scan("PRAGMA quick_check", label: "quick_check") { row in
            problems.append(row.text(0))
            return problems.count < 3
        }
        if problems != ["ok"] {
            throw SQLiteError(
                code: SQLiteError.corrupt, message: problems.joined(separator: "; "), context: "quick_check \(path)")
        }
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
            CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO counters VALUES ('sequence', 0), ('boot', 0), ('reservation', 0);
            """)
        // Outboxes made before quarantine existed gain its column (NULL: not quarantined).
        var columns: [String] = []
        try database.query("PRAGMA table_info(outbox)") { columns.append($0.text(1)) }
        if !columns.contains("quarantine") {
            try database.execute("ALTER TABLE outbox ADD COLUMN quarantine TEXT")
        }
        // The delivery order of what can be delivered, read from the index alone: `quarantine` is in it so that
        // the index covers the query, which then never reads a row (nor its payload's overflow pages).
        try database.execute(
            """
            DROP INDEX IF EXISTS outbox_order;
            CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (priority DESC, id, quarantine)
                WHERE quarantine IS NULL;
            """)
        writer = Mutex(database)
        reader = Mutex(try SQLiteDatabase(path: path, mode: .reader))
        self.maximumItems = maximumItems
        self.maximumBytes = maximumBytes
    }

    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    public func counters() throws(SQLiteError) -> OutboxCounters {
        try reader.withLock { (database) throws(SQLiteError) -> OutboxCounters in try Self.counters(database) }
    }

    static func counters(_ database: SQLiteDatabase) throws(SQLiteError) -> OutboxCounters {
        var counters = OutboxCounters(sequence: 0, item: 0)
        try database.query("SELECT value FROM counters WHERE name = 'sequence'") {
            counters.sequence = $0.integer(0)
        }
        try database.query("SELECT value FROM counters WHERE name = 'reservation'") {
            counters.reservation = $0.integer(0)
        }
        // AUTOINCREMENT remembers the largest id ever used, even once its row is gone.
        try database.query(
            """
            SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0),
                       coalesce((SELECT max(id) FROM outbox), 0))
            """
        ) { counters.item = $0.integer(0) }
        return counters
    }

    @discardableResult
    public func write(_ batch: OutboxBatch) throws -> OutboxWriteResult {
        let (result, dropped) = try writer.withLock {
            (database) throws(SQLiteError) -> (OutboxWriteResult, OutboxDrops) in
            try database.transaction { () throws(SQLiteError) -> (OutboxWriteResult, OutboxDrops) in
                // Removals first: on a full disk they make room for what follows.
                var result = OutboxWriteResult()
                for id in batch.removals {
                    do throws(SQLiteError) {
                        try database.query("DELETE FROM outbox WHERE id = ?", [.integer(id)], label: "remove")
                    } catch {
                        // A full disk or an I/O error may have ended the transaction: then nothing is committed.
                        guard database.isInTransaction else { throw error }
                        result.failedRemovals.insert(id)
                        if result.removalError == nil { result.removalError = error.summary }
                    }
                }
                for stored in batch.items {
                    let item = stored.item
                    try database.query(
                        "INSERT INTO outbox (id, priority, kind, topic, payload, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            .integer(stored.id), .integer(Int64(item.priority)), .integer(Int64(item.kind.rawValue)),
                            .text(item.topic), .blob(item.payload), .integer(item.createdAt),
                        ], label: "store")
                }
                for (id, reason) in batch.quarantines.sorted(by: { $0.key < $1.key }) {
                    try database.query(
                        "UPDATE outbox SET quarantine = ? WHERE id = ?", [.text(reason), .integer(id)],
                        label: "quarantine")
                }
                if let sequence = batch.sequence {
                    try database.query(
                        "UPDATE counters SET value = max(value, ?) WHERE name = 'sequence'", [.integer(sequence)],
                        label: "sequence")
                }
                if let reservation = batch.reservation {
                    try database.query(
                        "UPDATE counters SET value = ? WHERE name = 'reservation'", [.integer(reservation)],
                        label: "reservation")
                }
                return (result, try enforceBounds(database))
            }
        }
        count(dropped)
        return result
    }

    public func takeDropped() -> OutboxDrops {
        droppedItems.withLock { dropped in
            defer { dropped = OutboxDrops() }
            return dropped
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
            try database.query("SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox", label: "bounds") {
                items = $0.integer(0)
                bytes = $0.integer(1)
            }
            guard items > maximumItems || bytes > maximumBytes else { return dropped }
            var victim: (id: Int64, label: String)?
            try database.query(
                """
                SELECT id, kind, topic FROM outbox WHERE priority < ? AND NOT (kind = ? AND (\(Self.reports)))
                ORDER BY quarantine IS NULL, priority ASC, kind DESC, id ASC LIMIT 1
                """, [.integer(Int64(Priority.emergency)), .integer(Int64(OutboxItem.Kind.event.rawValue))],
                label: "bounds"
            ) { row in
                let kind = OutboxItem.Kind(rawValue: Int(row.integer(1))) ?? .event
                victim = (row.integer(0), OutboxItem.label(kind: kind, topic: row.text(2)))
            }
            guard let victim else { return dropped }  // only emergencies and reports left: keep them all
            try database.query("DELETE FROM outbox WHERE id = ?", [.integer(victim.id)], label: "bounds")
            dropped.add(victim.label)
        }
    }

    /// The reports the bounds keep (`OutboxItem.reportKinds`), as a condition on `topic`. GLOB, not LIKE: `_`
    /// is an ordinary character to it.
    private static let reports = OutboxItem.reportKinds.sorted().map { "topic GLOB '*/event/\($0)'" }
        .joined(separator: " OR ")

    public func pending(limit: Int, excluding: Set<Int64>) throws -> [StoredItem] {
        try reader.withLock { (database) throws(SQLiteError) -> [StoredItem] in
            // The ids first, from the index alone: skipping what the uplink already tracks costs no payload read.
            var ids: [Int64] = []
            if limit > 0 {
                try database.scan(
                    "SELECT id FROM outbox WHERE quarantine IS NULL ORDER BY priority DESC, id ASC", label: "pending"
                ) { row in
                    let id = row.integer(0)
                    if !excluding.contains(id) { ids.append(id) }
                    return ids.count < limit
                }
            }
            guard !ids.isEmpty else { return [] }
            var items: [StoredItem] = []
            try database.query(
                """
                SELECT id, priority, kind, topic, payload, created_ms FROM outbox
                WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ","))) ORDER BY priority DESC, id ASC
                """,
                ids.map { .integer($0) }, label: "pending"
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

    /// Quarantined items, oldest first, with why they were set aside: for a technician, or a test.
    public func quarantined(limit: Int) throws -> [(stored: StoredItem, reason: String)] {
        try reader.withLock { (database) throws(SQLiteError) -> [(stored: StoredItem, reason: String)] in
            var items: [(stored: StoredItem, reason: String)] = []
            try database.query(
                """
                SELECT id, priority, kind, topic, payload, created_ms, quarantine FROM outbox
                WHERE quarantine IS NOT NULL ORDER BY id LIMIT ?
                """,
                [.integer(Int64(limit))]
            ) { row in
                let item = OutboxItem(
                    topic: row.text(3), payload: row.blob(4), priority: Int(row.integer(1)),
                    kind: OutboxItem.Kind(rawValue: Int(row.integer(2))) ?? .event, createdAt: row.integer(5))
                items.append((StoredItem(id: row.integer(0), item: item), row.text(6)))
            }
            return items
        }
    }

    public func count() throws -> Int {
        try reader.withLock { (database) throws(SQLiteError) -> Int in
            var count = 0
            try database.query("SELECT count(*) FROM outbox WHERE quarantine IS NULL") { count = Int($0.integer(0)) }
            return count
        }
    }

    public func quarantinedCount() throws -> Int {
        try reader.withLock { (database) throws(SQLiteError) -> Int in
            var count = 0
            try database.query("SELECT count(*) FROM outbox WHERE quarantine IS NOT NULL") {
                count = Int($0.integer(0))
            }
            return count
        }
    }

    /// The sequence number of the last event stored (0 before the first).
    public func lastSequence() throws -> Int64 { try counters().sequence }

    public func nextBoot() throws -> Int64 {
        try writer.withLock { (database) throws(SQLiteError) -> Int64 in
            var boot: Int64 = 0
            try database.query("UPDATE counters SET value = value + 1 WHERE name = 'boot' RETURNING value") {
                boot = $0.integer(0)
            }
            return boot
        }
    }
}
