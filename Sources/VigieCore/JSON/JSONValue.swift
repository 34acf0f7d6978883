/// A parsed JSON value. Objects keep their keys in the order written; duplicate keys are an error.
///
/// Strings (and object keys) compare with Swift `String` equality, which is Unicode canonical
/// equivalence: `"é"` (U+00E9) equals `"e\u{301}"`. The parser applies the same rule when it looks
/// for duplicate keys, so an object holding both spellings is rejected rather than ambiguous.
public enum JSONValue: Sendable, Equatable {
    /// The JSON literal `null`.
    case null
    /// The JSON literal `true` or `false`.
    case bool(Bool)
    /// Any JSON number. Integers up to 2^53 in magnitude are exact; the value is always finite.
    case number(Double)
    /// A JSON string, with its escapes decoded.
    case string(String)
    /// A JSON array, elements in order.
    case array([JSONValue])
    /// A JSON object: its members in the order written, keys unique.
    case object([(key: String, value: JSONValue)])

    /// The value of the member named `key` if this is an object that has one; otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key {
            return member.value
        }
        return nil
    }

    /// The string if this is `.string`; otherwise `nil`.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The number if this is `.number`; otherwise `nil`.
    public var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    /// The Boolean if this is `.bool`; otherwise `nil`.
    public var boolValue: Bool? {
        if case .bool(let bool) = self { return bool }
        return nil
    }

    /// The number as an `Int` if this is a finite `.number` with no fractional part that fits
    /// in `Int`; otherwise `nil`. `1.0` and `1e2` qualify; `1.5` and `1e300` do not.
    public var intValue: Int? {
        if case .number(let number) = self { return Int(exactly: number) }
        return nil
    }

    /// The elements if this is `.array`; otherwise `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is `.object`.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Structural equality. Objects are equal only with the same members in the same order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.number(let a), .number(let b)):
            return a == b
        case (.string(let a), .string(let b)):
            return a == b
        case (.array(let a), .array(let b)):
            return a == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where x.key != y.key || x.value != y.value {
                return false
            }
            return true
        default:
            return false
        }
    }
}

/// Why `JSON.parse` rejected its input, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte offset in the input where the problem is (0-based).
    public var offset: Int
    /// A short, precise description of the problem, such as `unterminated string`.
    public var message: String

    /// Creates an error at `offset` with `message`.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `at byte N: message`.
    public var description: String { "at byte \(offset): \(message)" }
}

/// Bounds the parser enforces while it reads, so hostile input cannot exhaust memory or stack.
public struct JSONLimits: Sendable {
    /// The largest input accepted, in bytes; checked before anything is copied.
    public var maximumBytes = 65_536
    /// How many arrays and objects may be open at once. Scalars at the top level are depth 0,
    /// `[1]` is depth 1. The parser never recurses, whatever this is; but comparing (`==`) and
    /// destroying a `JSONValue` recurse once per level, so keep it modest (hundreds, not millions).
    public var maximumDepth = 16
    /// The longest string or key accepted, counted in UTF-8 bytes after decoding escapes.
    public var maximumStringBytes = 16_384
    /// The most elements one array, or members one object, may have.
    public var maximumMembers = 1_024

    /// The default limits: 64 KiB input, depth 16, 16 KiB strings, 1024 members per container.
    public init() {}
}

/// Entry points of the strict RFC 8259 JSON parser.
public enum JSON {}
