internal import CSQLite

/// One SQLite connection. Not thread-safe by itself: `SQLiteOutbox` keeps it behind a mutex.
final class SQLiteDatabase {
    private let handle: OpaquePointer
    let path: String

    /// How a connection opens its file.
    enum Mode {
        /// Creates the file if needed, in WAL mode with synchronous commits; refuses a file it could only read.
        case writer
        /// Only reads, beside a writer (in WAL mode it never waits for a commit in progress).
        case reader
        /// Only reads, never creates nor changes anything: the file must exist. `immutable` also skips the
        /// shared-memory file, for a folder where even it cannot be made (a read-only filesystem); what only a
        /// write-ahead log holds is then not seen.
        case inspect(immutable: Bool)
    }

    /// Opens the database in `mode`. A writer's committed row survives a power cut.
    init(path: String, mode: Mode = .writer) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags: Int32
        var name = path
        switch mode {
        case .writer, .reader: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        case .inspect(let immutable):
            flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | (immutable ? SQLITE_OPEN_URI : 0)
            if immutable { name = "file:" + Self.uriEscaped(path) + "?immutable=1" }
        }
        let status = sqlite3_open_v2(name, &db, flags, nil)
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(code: status, message: message, context: "open \(path)")
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5000)
        // Extended codes tell a technician more: SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED, …
        sqlite3_extended_result_codes(db, 1)
        switch mode {
        case .reader, .inspect:
            try execute("PRAGMA query_only=1")
        case .writer:
            // SQLite opens a file it cannot write read-only without a word: say so now, not at the first commit.
            guard sqlite3_db_readonly(db, "main") != 1 else {
                throw SQLiteError(
                    code: SQLITE_READONLY, message: "the file or its folder is read-only", context: "open \(path)")
            }
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=FULL")
        }
    }

    /// `path` with the characters a URI filename gives a meaning to escaped.
    private static func uriEscaped(_ path: String) -> String {
        var escaped: [UInt8] = []
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"):
                escaped += Array("%\(String(byte, radix: 16, uppercase: true))".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    /// Whether a transaction is open. After some errors (a full disk, an I/O error) SQLite rolls the transaction
    /// back by itself; after others (a constraint, a trigger's RAISE(ABORT)) only the statement is undone.
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    deinit { sqlite3_close(handle) }

    func execute(_ sql: String) throws(SQLiteError) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        if status != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error"
            sqlite3_free(error)
            throw SQLiteError(code: status, message: message, context: sql)
        }
    }

    /// Runs `body` in one transaction (BEGIN IMMEDIATE … COMMIT, or ROLLBACK if it throws).
    func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// A value bound to a statement parameter.
    enum Value {
        case integer(Int64)
        case text(String)
        case blob([UInt8])
        case real(Double)
        case null
    }

    /// Runs `sql` with `parameters`, calling `row` for each result row. An error names `label` (the statement
    /// itself if none).
    func query(
        _ sql: String, _ parameters: [Value] = [], label: String? = nil,
        row: (Row) throws(SQLiteError) -> Void = { _ in }
    ) throws(SQLiteError) {
        try scan(sql, parameters, label: label) { (result) throws(SQLiteError) -> Bool in
            try row(result)
            return true
        }
    }

    /// Runs `sql` with `parameters`, calling `row` for each result row until it returns false.
    func scan(
        _ sql: String, _ parameters: [Value] = [], label: String? = nil, row: (Row) throws(SQLiteError) -> Bool
    ) throws(SQLiteError) {
        let context = label ?? sql
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure(context)
        }
        defer { sqlite3_finalize(statement) }
        for (index, parameter) in parameters.enumerated() {
            let position = Int32(index + 1)
            switch parameter {
            case .integer(let value): sqlite3_bind_int64(statement, position, value)
            case .text(let value): sqlite3_bind_text(statement, position, value, -1, csqlite_transient())
            case .blob(let value):
                _ = value.withUnsafeBytes {
                    sqlite3_bind_blob(statement, position, $0.baseAddress, Int32($0.count), csqlite_transient())
                }
            case .real(let value): sqlite3_bind_double(statement, position, value)
            case .null: sqlite3_bind_null(statement, position)
            }
        }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else {
                throw failure(context)
            }
            guard try row(Row(statement: statement)) else { return }
        }
    }

    /// The connection's last error.
    private func failure(_ context: String) -> SQLiteError {
        SQLiteError(
            code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), context: context)
    }

    /// Reads the columns of the current row.
    struct Row {
        let statement: OpaquePointer

        func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

        func real(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }

        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

        func text(_ column: Int32) -> String {
            guard let text = sqlite3_column_text(statement, column) else { return "" }
            return String(cString: text)
        }

        func blob(_ column: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return [] }
            return Array(UnsafeRawBufferPointer(start: bytes, count: count))
        }
    }
}
