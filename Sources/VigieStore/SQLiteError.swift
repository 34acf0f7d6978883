/// A SQLite failure, with the statement or step that failed.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// SQLite's (extended) result code, e.g. 13 `SQLITE_FULL`, 778 `SQLITE_IOERR_WRITE` (what a filesystem turned
    /// read-only gives), 1811 `SQLITE_CONSTRAINT_TRIGGER`.
    public var code: Int32
    public var message: String
    public var context: String

    public init(code: Int32, message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { "SQLite \(context): \(message) (code \(code))" }

    /// What went wrong, short enough for an event's details: the step and SQLite's message.
    public var summary: String { "\(context): \(message) (SQLite code \(code))" }

    /// `SQLITE_CORRUPT`, also given when `PRAGMA quick_check` finds a problem.
    public static let corrupt: Int32 = 11
    /// `SQLITE_NOTADB`: the file is not a database (its header is garbage).
    public static let notADatabase: Int32 = 26

    /// The file itself is damaged (`SQLITE_CORRUPT` or `SQLITE_NOTADB`, extended codes included): opening it
    /// again will not help, unlike a busy, full or read-only disk.
    public var isCorruption: Bool { [Self.corrupt, Self.notADatabase].contains(code & 0xFF) }
}
