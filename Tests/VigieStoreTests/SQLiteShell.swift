import CSQLite

/// Runs SQL on a database file through a connection of its own, as a technician's `sqlite3` would: for tests
/// that break or inspect an outbox behind the code's back.
enum SQLiteShell {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func execute(_ path: String, _ sql: String) throws {
        var db: OpaquePointer?
        defer { sqlite3_close(db) }
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw Failure(description: "cannot open \(path)") }
        sqlite3_busy_timeout(db, 5000)
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &error) == SQLITE_OK else {
            defer { sqlite3_free(error) }
            throw Failure(description: error.map { String(cString: $0) } ?? "error")
        }
    }

    /// The first column of each row `sql` gives, as text.
    static func rows(_ path: String, _ sql: String, _ row: (String) -> Void) throws {
        var db: OpaquePointer?
        defer { sqlite3_close(db) }
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw Failure(description: "cannot open \(path)") }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw Failure(description: String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        while sqlite3_step(statement) == SQLITE_ROW {
            row(sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? "")
        }
    }
}
