/// A SQLite failure, with the statement or step that failed.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var context: String

    public var description: String { "SQLite \(context): \(message) (code \(code))" }
}
