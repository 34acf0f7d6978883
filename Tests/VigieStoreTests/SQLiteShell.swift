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
}
