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

extension SQLiteShell {
    /// A database's write lock taken through a connection of its own (`BEGIN EXCLUSIVE`) and held until
    /// `release`: a writer elsewhere gets `SQLITE_BUSY` once its busy timeout has passed, as on a disk that stalls.
    final class WriteLock {
        private var db: OpaquePointer?

        init(_ path: String) throws {
            guard sqlite3_open(path, &db) == SQLITE_OK else { throw Failure(description: "cannot open \(path)") }
            sqlite3_busy_timeout(db, 5000)
            guard sqlite3_exec(db, "BEGIN EXCLUSIVE", nil, nil, nil) == SQLITE_OK else {
                sqlite3_close(db)
                throw Failure(description: "cannot lock \(path)")
            }
        }

        func release() {
            guard let db else { return }
            sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            sqlite3_close(db)
            self.db = nil
        }

        deinit { release() }
    }
}
