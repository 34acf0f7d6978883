// The public data model produced by `TOML.parse(_:)`: values, tables and errors,
// each carrying the 1-based line and column where it was written.
//
// Columns count Unicode scalars from the start of the line, so a column matches
// what an editor shows for any text without combining characters or wide glyphs.

/// A parsed value with where it was written.
public struct TOMLValue: Sendable, Equatable {
    /// The kind of a value and its payload.
    public enum Kind: Sendable, Equatable {
        /// A basic, literal or multi-line string, escapes resolved.
        case string(String)
        /// A 64-bit signed integer (decimal, `0x`, `0o` or `0b`).
        case integer(Int64)
        /// A float, including `inf` and `nan`.
        case float(Double)
        /// `true` or `false`.
        case boolean(Bool)
        /// An offset date-time, local date-time, local date or local time, kept exactly
        /// as written after a lexical check (e.g. `"1979-05-27T07:32:00Z"`).
        case dateTime(String)
        /// An array; TOML 1.0 allows mixed element types. Arrays of tables (`[[x]]`)
        /// are arrays whose elements are `.table` values.
        case array([TOMLValue])
        /// A table: a `[header]` table, an inline table, or one created by dotted keys.
        case table(TOMLTable)
    }

    /// What the value is.
    public var kind: Kind
    /// 1-based line where the value starts (for a `[header]` table, the header line).
    public var line: Int
    /// 1-based column where the value starts.
    public var column: Int

    /// Creates a value at the given position.
    public init(kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }
}

extension TOMLValue {
    /// The payload if this is a string, else `nil`.
    public var stringValue: String? {
        if case .string(let s) = kind { return s }
        return nil
    }

    /// The payload if this is an integer, else `nil`.
    public var integerValue: Int64? {
        if case .integer(let i) = kind { return i }
        return nil
    }

    /// The payload if this is a float, else `nil` (integers are not converted).
    public var floatValue: Double? {
        if case .float(let d) = kind { return d }
        return nil
    }

    /// The payload if this is a boolean, else `nil`.
    public var booleanValue: Bool? {
        if case .boolean(let b) = kind { return b }
        return nil
    }

    /// The text as written if this is a date-time, else `nil`.
    public var dateTimeValue: String? {
        if case .dateTime(let s) = kind { return s }
        return nil
    }

    /// The elements if this is an array (including an array of tables), else `nil`.
    public var arrayValue: [TOMLValue]? {
        if case .array(let a) = kind { return a }
        return nil
    }

    /// The table if this is a table, else `nil`.
    public var tableValue: TOMLTable? {
        if case .table(let t) = kind { return t }
        return nil
    }
}

/// A table keeps its keys in the order written.
public struct TOMLTable: Sendable, Equatable {
    /// One key of a table, where the key was written, and its value.
    public struct Entry: Sendable, Equatable {
        /// The key (one segment of a dotted key, quotes removed and escapes resolved).
        public var key: String
        /// 1-based line of the key. For a table created by a header, the header line.
        public var keyLine: Int
        /// 1-based column of the key.
        public var keyColumn: Int
        /// The value bound to the key.
        public var value: TOMLValue

        /// Creates an entry.
        public init(key: String, keyLine: Int, keyColumn: Int, value: TOMLValue) {
            self.key = key
            self.keyLine = keyLine
            self.keyColumn = keyColumn
            self.value = value
        }
    }

    /// The entries in the order their keys were first written.
    public private(set) var entries: [Entry]
    /// 1-based line where the table header (or inline table) starts; 1 for the root.
    public var line: Int

    /// Creates a table. The parser guarantees unique keys; this initializer does not check.
    public init(entries: [Entry] = [], line: Int = 1) {
        self.entries = entries
        self.line = line
    }

    /// The value for `key`, or `nil`. Linear search: configuration tables are small.
    public subscript(key: String) -> TOMLValue? {
        entry(key)?.value
    }

    /// The entry for `key` (with the key's position), or `nil`.
    public func entry(_ key: String) -> Entry? {
        for entry in entries where entry.key == key {
            return entry
        }
        return nil
    }

    /// The keys in the order written.
    public var keys: [String] {
        entries.map(\.key)
    }
}

/// A syntax or structure error, with the position a field technician should look at.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the error.
    public var line: Int
    /// 1-based column of the error.
    public var column: Int
    /// A short explanation, e.g. `duplicate key "quality" (first defined on line 4)`.
    public var message: String

    /// Creates an error.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line:column: message`, so that prefixing the file name gives
    /// `vigie.toml:12:5: duplicate key "quality" (first defined on line 4)`.
    public var description: String {
        "\(line):\(column): \(message)"
    }
}
