import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The unit's local record (SQLite, WAL, synchronous commits, `events.sqlite` beside the outbox): every event it
/// raised, kept after delivery with its masked snapshot, one 16×16 motion-activity grid per minute, the operators'
/// verdicts on alerts and the audit records of exports and mask changes; purged by age and size, oldest first.
///
/// Snapshots live in the database, in a table of their own: an event and its picture are committed in one
/// transaction (a power cut leaves neither an orphan file nor an event pointing at nothing), one purge and one
/// size cap cover both, the integrity check covers both, and a query of events never reads a picture's pages.
///
/// Thread-safe: one writer connection and one reader connection, each behind a mutex; in WAL mode a read never
/// waits for a commit. The camera never calls it directly: `EventRecorder` commits in batches off its thread.
public final class EventStore: Sendable {
    /// In a store opened for reading, a second read-only connection: any write fails (`query_only`).
    private let writer: Mutex<SQLiteDatabase>
    private let reader: Mutex<SQLiteDatabase>
    public let path: String

    public static let fileName = "events.sqlite"
    public static func path(directory: String) -> String { directory + "/" + fileName }
    /// Audit records kept at most (the newest): they hold no picture and are tiny, but never unbounded.
    public static let auditsKept = 10_000

    /// Opens or creates `events.sqlite` in `directory`, read-write, after an integrity check (`PRAGMA
    /// quick_check`); a damaged file throws an error whose `isCorruption` is true (`openRecovering` sets it aside).
    public init(directory: String) throws(SQLiteError) {
        path = Self.path(directory: directory)
        let database = try SQLiteDatabase(path: path)
        try Self.check(database, path: path)
        // Before any table exists: pages freed by a purge can then be given back to the filesystem.
        try database.execute("PRAGMA auto_vacuum=INCREMENTAL")
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS events (
                row INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                seq INTEGER,
                time_ms INTEGER NOT NULL,
                kind TEXT NOT NULL,
                priority INTEGER NOT NULL,
                zone TEXT,
                x REAL, y REAL, w REAL, h REAL,
                payload BLOB NOT NULL,
                snapshot_bytes INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX IF NOT EXISTS events_time ON events (time_ms);
            CREATE INDEX IF NOT EXISTS events_kind ON events (kind, time_ms);
            CREATE INDEX IF NOT EXISTS events_zone ON events (zone, time_ms) WHERE zone IS NOT NULL;
            CREATE INDEX IF NOT EXISTS events_seq ON events (seq) WHERE seq IS NOT NULL;
            CREATE TABLE IF NOT EXISTS snapshots (event INTEGER PRIMARY KEY, jpeg BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS verdicts (
                event TEXT NOT NULL,
                confirmed INTEGER NOT NULL,
                operator TEXT NOT NULL,
                note TEXT,
                time_ms INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS verdicts_event ON verdicts (event);
            CREATE TABLE IF NOT EXISTS activity (
                minute INTEGER PRIMARY KEY,
                c0 INTEGER NOT NULL, c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, c3 INTEGER NOT NULL,
                counts BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS audits (
                row INTEGER PRIMARY KEY,
                time_ms INTEGER NOT NULL,
                kind TEXT NOT NULL,
                user TEXT NOT NULL,
                reason TEXT NOT NULL,
                details TEXT NOT NULL,
                event TEXT
            );
            """)
        writer = Mutex(database)
        reader = Mutex(try SQLiteDatabase(path: path, mode: .reader))
    }

    /// Opens the store in `directory` without writing anything, for `vigie events` while the daemon runs or not:
    /// read-only, or, where even SQLite's shared-memory file cannot be made, as an immutable file (which does not
    /// see what only the write-ahead log holds). Throws if there is no store.
    public init(readingFrom directory: String) throws(SQLiteError) {
        path = Self.path(directory: directory)
        guard access(path, F_OK) == 0 else {
            throw SQLiteError(code: 14, message: "no event store here", context: "open \(path)")
        }
        writer = Mutex(try Self.inspect(path))
        reader = Mutex(try Self.inspect(path))
    }

    private static func inspect(_ path: String) throws(SQLiteError) -> SQLiteDatabase {
        do throws(SQLiteError) {
            let database = try SQLiteDatabase(path: path, mode: .inspect(immutable: false))
            try database.execute("SELECT count(*) FROM events")
            return database
        } catch {
            return try SQLiteDatabase(path: path, mode: .inspect(immutable: true))
        }
    }

    private static func check(_ database: SQLiteDatabase, path: String) throws(SQLiteError) {
        var problems: [String] = []
        try database.scan("PRAGMA quick_check", label: "quick_check") { row in
            problems.append(row.text(0))
            return problems.count < 3
        }
        if problems != ["ok"] {
            throw SQLiteError(
                code: SQLiteError.corrupt, message: problems.joined(separator: "; "), context: "quick_check \(path)")
        }
    }

    // MARK: - Writing

    /// One commit's worth of what `EventRecorder` gathered.
    public struct Batch: Sendable {
        public var events: [(event: StoredEvent, snapshot: [UInt8]?)] = []
        public var minutes: [(minute: Int64, grid: ActivityGrid)] = []

        public init() {}

        public var isEmpty: Bool { events.isEmpty && minutes.isEmpty }
    }

    /// Commits `batch` in one transaction (one fsync). An event already stored (same id) is kept as it was; a
    /// minute already stored gains the new counts.
    public func write(_ batch: Batch) throws(SQLiteError) {
        try writer.withLock { (database) throws(SQLiteError) in
            try database.transaction { () throws(SQLiteError) in
                for (event, snapshot) in batch.events {
                    var row: Int64?
                    try database.query(
                        """
                        INSERT INTO events (id, seq, time_ms, kind, priority, zone, x, y, w, h, payload, snapshot_bytes)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING row
                        """,
                        [
                            .text(event.id), event.sequence.map { .integer($0) } ?? .null, .integer(event.millis),
                            .text(event.kind), .integer(Int64(event.priority)), event.zone.map { .text($0) } ?? .null,
                            event.area.map { .real($0.x) } ?? .null, event.area.map { .real($0.y) } ?? .null,
                            event.area.map { .real($0.width) } ?? .null, event.area.map { .real($0.height) } ?? .null,
                            .blob(event.payload), .integer(Int64(snapshot?.count ?? 0)),
                        ], label: "store event"
                    ) { row = $0.integer(0) }
                    if let row, let snapshot, !snapshot.isEmpty {
                        try database.query(
                            "INSERT INTO snapshots (event, jpeg) VALUES (?, ?)", [.integer(row), .blob(snapshot)],
                            label: "store snapshot")
                    }
                }
                for (minute, grid) in batch.minutes {
                    var merged = grid
                    try database.query("SELECT counts FROM activity WHERE minute = ?", [.integer(minute)]) { row in
                        if let old = ActivityGrid(bytes: row.blob(0)) { merged.merge(old) }
                    }
                    let words = merged.cells.words.map { Int64(bitPattern: $0) }
                    try database.query(
                        "INSERT OR REPLACE INTO activity (minute, c0, c1, c2, c3, counts) VALUES (?, ?, ?, ?, ?, ?)",
                        [.integer(minute)] + words.map { .integer($0) } + [.blob(merged.bytes)], label: "store activity"
                    )
                }
            }
        }
    }

    /// How far ahead of the clock an event may be stamped before a purge takes it for one written with a wrong clock.
    static let futureTolerance: Int64 = 86_400_000
    /// Verdicts kept per event: the latest decide; a centre that repeats itself cannot fill the store with them.
    static let verdictsKept = 16

    /// Records an operator's verdict on the event `verdict.event`; false (and nothing recorded) when the store
    /// does not hold that event.
    public func record(_ verdict: AlertVerdict, millis: Int64) throws(SQLiteError) -> Bool {
        try writer.withLock { (database) throws(SQLiteError) -> Bool in
            try database.transaction { () throws(SQLiteError) -> Bool in
                var known = false
                try database.query("SELECT 1 FROM events WHERE id = ?", [.text(verdict.event)]) { _ in known = true }
                guard known else { return false }
                try database.query(
                    "INSERT INTO verdicts (event, confirmed, operator, note, time_ms) VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(verdict.event), .integer(verdict.confirmed ? 1 : 0), .text(verdict.operatorName),
                        verdict.note.map { .text($0) } ?? .null, .integer(millis),
                    ], label: "store verdict")
                try database.query(
                    """
                    DELETE FROM verdicts WHERE event = ? AND rowid NOT IN (
                        SELECT rowid FROM verdicts WHERE event = ? ORDER BY rowid DESC LIMIT ?)
                    """, [.text(verdict.event), .text(verdict.event), .integer(Int64(Self.verdictsKept))],
                    label: "bound verdicts")
                return true
            }
        }
    }

    /// Records an audit record (`event`: the id of the event that told the centre, if one was raised).
    public func record(_ audit: AuditRecord, event: String?, millis: Int64) throws(SQLiteError) {
        try writer.withLock { (database) throws(SQLiteError) in
            try database.transaction { () throws(SQLiteError) in
                let details = audit.details.dropFirst(2).map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                try database.query(
                    "INSERT INTO audits (time_ms, kind, user, reason, details, event) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .integer(millis), .text(audit.kind), .text(audit.user), .text(audit.reason), .text(details),
                        event.map { .text($0) } ?? .null,
                    ], label: "store audit")
                try database.query(
                    "DELETE FROM audits WHERE row <= (SELECT max(row) FROM audits) - ?",
                    [.integer(Int64(Self.auditsKept))],
                    label: "bound audits")
            }
        }
    }

    // MARK: - Retention

    /// Removes what is older than `retentionMillis` before `now`, then, while the store holds more than
    /// `maximumBytes` (its pages in use), the oldest events and minutes; gives freed pages back to the filesystem.
    @discardableResult
    public func purge(now: Int64, retentionMillis: Int64, maximumBytes: Int64) throws(SQLiteError) -> PurgeResult {
        let result = try writer.withLock { (database) throws(SQLiteError) -> PurgeResult in
            try database.transaction { () throws(SQLiteError) -> PurgeResult in
                var result = PurgeResult()
                let cutoff = now - retentionMillis
                result.events += try Self.deleteEvents(database, before: cutoff)
                result.minutes += try Self.deleteMinutes(database, before: cutoff)
                // Stamped more than a day ahead: written while the clock was wrong (a board without a real-time
                // clock, before NTP). Their age cannot be known, so they would outlive the retention: they go.
                let future = now + Self.futureTolerance
                result.events += try Self.deleteEvents(database, where: "time_ms > ?", future)
                try database.query(
                    "DELETE FROM activity WHERE minute > ? RETURNING 1", [.integer(future / 60_000)],
                    label: "purge future activity"
                ) { _ in result.minutes += 1 }
                while try Self.bytesInUse(database) > maximumBytes {
                    // The oldest 1 % (32 at least) at a time across both tables: events and minutes go in the order
                    // they happened, and a store far over its cap is brought back in a hundred steps or so.
                    var threshold: Int64?
                    try database.query(
                        """
                        SELECT t FROM (SELECT time_ms AS t FROM events UNION ALL SELECT minute * 60000 FROM activity)
                        ORDER BY t LIMIT 1 OFFSET (
                            WITH n(rows) AS (SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM activity))
                            SELECT min(max(31, rows / 100), rows - 1) FROM n)
                        """, label: "purge oldest"
                    ) { threshold = $0.integer(0) }
                    guard let threshold else { break }
                    let events = try Self.deleteEvents(database, before: threshold + 1)
                    let minutes = try Self.deleteMinutes(database, before: threshold + 1)
                    guard events + minutes > 0 else { break }
                    result.events += events
                    result.minutes += minutes
                    result.forSize += events + minutes
                }
                return result
            }
        }
        if result.events + result.minutes > 0 {
            try writer.withLock { (database) throws(SQLiteError) in try database.execute("PRAGMA incremental_vacuum") }
        }
        return result
    }

    private static func deleteEvents(_ database: SQLiteDatabase, before millis: Int64) throws(SQLiteError) -> Int {
        try deleteEvents(database, where: "time_ms < ?", millis)
    }

    /// Deletes the events (with their snapshots and verdicts) whose row matches `condition` on `time_ms` with
    /// `millis`; returns how many.
    private static func deleteEvents(
        _ database: SQLiteDatabase, where condition: String, _ millis: Int64
    ) throws(SQLiteError) -> Int {
        var count = 0
        try database.query("SELECT count(*) FROM events WHERE \(condition)", [.integer(millis)]) {
            count = Int($0.integer(0))
        }
        guard count > 0 else { return 0 }
        try database.query(
            "DELETE FROM snapshots WHERE event IN (SELECT row FROM events WHERE \(condition))", [.integer(millis)],
            label: "purge snapshots")
        try database.query(
            "DELETE FROM verdicts WHERE event IN (SELECT id FROM events WHERE \(condition))", [.integer(millis)],
            label: "purge verdicts")
        try database.query("DELETE FROM events WHERE \(condition)", [.integer(millis)], label: "purge events")
        return count
    }

    private static func deleteMinutes(_ database: SQLiteDatabase, before millis: Int64) throws(SQLiteError) -> Int {
        var count = 0
        // A minute goes once it has begun before `millis`: ceiling division, also for negative times.
        let minute = millis >= 0 ? (millis + 59_999) / 60_000 : millis / 60_000
        try database.query(
            "DELETE FROM activity WHERE minute < ? RETURNING 1", [.integer(minute)], label: "purge activity"
        ) { _ in count += 1 }
        return count
    }

    private static func bytesInUse(_ database: SQLiteDatabase) throws(SQLiteError) -> Int64 {
        var pages: Int64 = 0
        var free: Int64 = 0
        var size: Int64 = 0
        try database.query("PRAGMA page_count") { pages = $0.integer(0) }
        try database.query("PRAGMA freelist_count") { free = $0.integer(0) }
        try database.query("PRAGMA page_size") { size = $0.integer(0) }
        return (pages - free) * size
    }

    /// The store's pages in use, in bytes (what the size cap bounds).
    public func bytesInUse() throws(SQLiteError) -> Int64 {
        try reader.withLock { (database) throws(SQLiteError) in try Self.bytesInUse(database) }
    }

    // MARK: - Reading

    private static let columns = """
        e.id, e.seq, e.time_ms, e.kind, e.priority, e.zone, e.x, e.y, e.w, e.h, e.payload, e.snapshot_bytes,
        v.confirmed, v.operator, v.note, v.time_ms
        FROM events e LEFT JOIN verdicts v ON v.rowid = (SELECT max(rowid) FROM verdicts WHERE event = e.id)
        """

    private static func event(_ row: SQLiteDatabase.Row) -> StoredEvent {
        var event = StoredEvent(
            id: row.text(0), sequence: row.isNull(1) ? nil : row.integer(1), millis: row.integer(2),
            kind: row.text(3), priority: Int(row.integer(4)), zone: row.isNull(5) ? nil : row.text(5), boxes: [],
            payload: row.blob(10), snapshotBytes: Int(row.integer(11)))
        if !row.isNull(6) {
            event.area = NormalizedRect(x: row.real(6), y: row.real(7), width: row.real(8), height: row.real(9))
        }
        if !row.isNull(12) {
            event.verdict = StoredEvent.Verdict(
                confirmed: row.integer(12) != 0, operatorName: row.text(13), note: row.isNull(14) ? nil : row.text(14),
                millis: row.integer(15))
        }
        return event
    }

    /// The events that match `filter`, oldest first, at most `filter.limit`.
    public func events(_ filter: EventFilter) throws(SQLiteError) -> [StoredEvent] {
        var conditions: [String] = []
        var parameters: [SQLiteDatabase.Value] = []
        if !filter.kinds.isEmpty {
            conditions.append("e.kind IN (\(filter.kinds.map { _ in "?" }.joined(separator: ",")))")
            parameters += filter.kinds.map { .text($0) }
        }
        if let since = filter.since {
            conditions.append("e.time_ms >= ?")
            parameters.append(.integer(since))
        }
        if let until = filter.until {
            conditions.append("e.time_ms < ?")
            parameters.append(.integer(until))
        }
        if let area = filter.area {
            conditions.append("e.x < ? AND e.x + e.w > ? AND e.y < ? AND e.y + e.h > ?")
            parameters += [
                .real(area.x + area.width), .real(area.x), .real(area.y + area.height), .real(area.y),
            ]
        }
        let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        parameters.append(.integer(Int64(filter.limit)))
        return try reader.withLock { (database) throws(SQLiteError) -> [StoredEvent] in
            var events: [StoredEvent] = []
            try database.query(
                "SELECT \(Self.columns) \(clause) ORDER BY e.time_ms, e.id LIMIT ?", parameters, label: "events"
            ) { events.append(Self.event($0)) }
            return events
        }
    }

    /// The stored events numbered `from`…`to` by the uplink, in order (for `cmd/replay`), with their snapshots.
    public func events(fromSequence from: Int64, to: Int64) throws(SQLiteError) -> [(
        event: StoredEvent, snapshot: [UInt8]?
    )] {
        try reader.withLock { (database) throws(SQLiteError) -> [(event: StoredEvent, snapshot: [UInt8]?)] in
            var events: [(event: StoredEvent, snapshot: [UInt8]?)] = []
            try database.query(
                "SELECT \(Self.columns) WHERE e.seq BETWEEN ? AND ? ORDER BY e.seq", [.integer(from), .integer(to)],
                label: "replay"
            ) { events.append((Self.event($0), nil)) }
            for index in events.indices where events[index].event.snapshotBytes > 0 {
                events[index].snapshot = try Self.snapshot(database, of: events[index].event.id)
            }
            return events
        }
    }

    /// The masked snapshot of event `id`, if it has one.
    public func snapshot(of id: String) throws(SQLiteError) -> [UInt8]? {
        try reader.withLock { (database) throws(SQLiteError) -> [UInt8]? in try Self.snapshot(database, of: id) }
    }

    private static func snapshot(_ database: SQLiteDatabase, of id: String) throws(SQLiteError) -> [UInt8]? {
        var jpeg: [UInt8]?
        try database.query(
            "SELECT s.jpeg FROM snapshots s JOIN events e ON e.row = s.event WHERE e.id = ?", [.text(id)],
            label: "snapshot"
        ) { jpeg = $0.blob(0) }
        return jpeg
    }

    /// When something moved in `area` between `since` and `until` (minutes that began in that period), as spans of
    /// consecutive minutes, oldest first.
    public func activity(in area: NormalizedRect, since: Int64?, until: Int64?) throws(SQLiteError) -> [ActivitySpan] {
        let cells = ActivityCells(covering: area)
        let words = cells.words.map { SQLiteDatabase.Value.integer(Int64(bitPattern: $0)) }
        let first = since.map { $0 >= 0 ? ($0 + 59_999) / 60_000 : $0 / 60_000 } ?? Int64.min
        let last = until.map { ($0 - 1) >= 0 ? ($0 - 1) / 60_000 : ($0 - 60_000) / 60_000 } ?? Int64.max
        return try reader.withLock { (database) throws(SQLiteError) -> [ActivitySpan] in
            var spans: [ActivitySpan] = []
            try database.query(
                """
                SELECT minute, counts FROM activity WHERE minute BETWEEN ? AND ?
                AND ((c0 & ?) != 0 OR (c1 & ?) != 0 OR (c2 & ?) != 0 OR (c3 & ?) != 0) ORDER BY minute
                """, [.integer(first), .integer(last)] + words, label: "activity"
            ) { row in
                let start = row.integer(0) * 60_000
                let peak = ActivityGrid(bytes: row.blob(1))?.peak(in: cells) ?? 0
                if let previous = spans.last, previous.end == start {
                    spans[spans.count - 1].end = start + 60_000
                    spans[spans.count - 1].minutes += 1
                    spans[spans.count - 1].peak = max(previous.peak, peak)
                } else {
                    spans.append(ActivitySpan(start: start, end: start + 60_000, minutes: 1, peak: peak))
                }
            }
            return spans
        }
    }

    /// How many events, snapshots and activity minutes the store holds.
    public func counts() throws(SQLiteError) -> (events: Int, snapshots: Int, minutes: Int, audits: Int) {
        try reader.withLock {
            (database) throws(SQLiteError) -> (events: Int, snapshots: Int, minutes: Int, audits: Int) in
            var counts = (events: 0, snapshots: 0, minutes: 0, audits: 0)
            try database.query(
                """
                SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM snapshots),
                       (SELECT count(*) FROM activity), (SELECT count(*) FROM audits)
                """
            ) { row in
                counts = (Int(row.integer(0)), Int(row.integer(1)), Int(row.integer(2)), Int(row.integer(3)))
            }
            return counts
        }
    }

    /// An audit record as stored.
    public struct StoredAudit: Sendable, Hashable {
        public var millis: Int64
        public var kind: String
        public var user: String
        public var reason: String
        /// The action's facts, `key=value; …`.
        public var details: String
        /// The id of the event that told the centre.
        public var event: String?
    }

    /// The audit records, oldest first.
    public func audits() throws(SQLiteError) -> [StoredAudit] {
        try reader.withLock { (database) throws(SQLiteError) -> [StoredAudit] in
            var audits: [StoredAudit] = []
            try database.query("SELECT time_ms, kind, user, reason, details, event FROM audits ORDER BY row") { row in
                audits.append(
                    StoredAudit(
                        millis: row.integer(0), kind: row.text(1), user: row.text(2), reason: row.text(3),
                        details: row.text(4), event: row.isNull(5) ? nil : row.text(5)))
            }
            return audits
        }
    }
}
