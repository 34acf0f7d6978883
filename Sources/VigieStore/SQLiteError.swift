/// A SQLite failure, with the statement or step that failed.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// SQLite's (extended) result code, e.g. 13 `SQLITE_FULL`, 778 `SQLITE_IOERR_WRITE` (what a filesystem turned
    /// read-only gives), 1811 `SQLITE_CONSTRAINT_TRIGGER`.
    public var code: Int32
    public var message: String
    public var context: String

    public var description: String { "SQLite \(context): \(message) (code \(code))" }

    /// What went wrong, short enough for an event's details: the step and SQLite's message.
    public var summary: String { "\(context): \(message) (SQLite code \(code))" }
}
