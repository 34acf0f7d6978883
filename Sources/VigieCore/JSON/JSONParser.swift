extension JSON {
    /// Parses one strict RFC 8259 JSON document from UTF-8 bytes.
    ///
    /// The document is exactly one value of any type, with optional whitespace around it. Comments,
    /// trailing commas, `NaN`/`Infinity`, leading zeros, single quotes, lone surrogates, raw control
    /// characters in strings, invalid UTF-8, a leading byte order mark and duplicate keys are
    /// errors. Nesting is handled without recursion, so `limits.maximumDepth` bounds memory, not
    /// the stack.
    ///
    /// - Throws: `JSONParseError` with the byte offset of the first problem.
    public static func parse(
        _ bytes: some Collection<UInt8>,
        limits: JSONLimits = JSONLimits()
    ) throws(JSONParseError) -> JSONValue {
        if bytes.count > limits.maximumBytes {  // before copying anything
            throw JSONParseError(
                offset: max(limits.maximumBytes, 0), message: "input larger than \(limits.maximumBytes) bytes")
        }
        var parser = Parser(input: Array(bytes), limits: limits)
        return try parser.parseDocument()
    }

    /// Parses one strict RFC 8259 JSON document from the UTF-8 encoding of `text`.
    ///
    /// Same rules and limits as `parse(_:limits:)` on bytes; offsets are UTF-8 byte offsets.
    ///
    /// - Throws: `JSONParseError` with the byte offset of the first problem.
    public static func parse(_ text: String, limits: JSONLimits = JSONLimits()) throws(JSONParseError) -> JSONValue {
        try parse(text.utf8, limits: limits)
    }
}

private extension UInt8 {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")

    var isDigit: Bool { self >= .zero && self <= .nine }
    var isWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}

/// `0x0A`-style rendering of a byte.
private func hex(_ value: some BinaryInteger, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

/// One open array or object.
private struct OpenContainer {
    let isObject: Bool
    var elements: [JSONValue] = []
    var members: [(key: String, value: JSONValue)] = []
    var keys: Set<String> = []
    /// The key whose value is being parsed (objects only).
    var pendingKey = ""
}

private struct Parser {
    let input: [UInt8]
    let limits: JSONLimits
    var position = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []

    init(input: [UInt8], limits: JSONLimits) {
        self.input = input
        self.limits = limits
    }

    // MARK: Helpers

    func fail(_ offset: Int, _ message: String) -> JSONParseError {
        JSONParseError(offset: offset, message: message)
    }

    var current: UInt8? { position < input.count ? input[position] : nil }

    /// How the byte at `position` reads in a message.
    var found: String {
        guard let byte = current else { return "end of input" }
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hex(byte, digits: 2))"
    }

    mutating func skipWhitespace() {
        while position < input.count && input[position].isWhitespace { position += 1 }
    }

    // MARK: Structure

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { throw fail(0, "byte order mark is not allowed") }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < input.count { throw fail(position, "trailing characters after the value") }
        return value
    }

    /// Parses one value starting at `position` (whitespace already skipped), iteratively: open
    /// containers live on `stack`, never on the call stack.
    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        var stack: [OpenContainer] = []
        nextValue: while true {
            var value: JSONValue
            guard let byte = current else { throw fail(position, "expected a value, found end of input") }
            switch byte {
            case .openBracket, .openBrace:
                if stack.count >= limits.maximumDepth {
                    throw fail(position, "nesting deeper than \(limits.maximumDepth)")
                }
                position += 1
                skipWhitespace()
                if byte == .openBracket {
                    if current == .closeBracket {
                        position += 1
                        value = .array([])
                    } else {
                        try checkElementCount(0)
                        stack.append(OpenContainer(isObject: false))
                        continue nextValue
                    }
                } else {
                    if current == .closeBrace {
                        position += 1
                        value = .object([])
                    } else {
                        var frame = OpenContainer(isObject: true)
                        try parseMemberKey(into: &frame, afterComma: false)
                        stack.append(frame)
                        continue nextValue
                    }
                }
            case .quote:
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                value = try parseLiteral("true", .bool(true))
            case UInt8(ascii: "f"):
                value = try parseLiteral("false", .bool(false))
            case UInt8(ascii: "n"):
                value = try parseLiteral("null", .null)
            case .minus, .zero ... .nine:
                value = try parseNumber()
            default:
                throw fail(position, "expected a value, found \(found)")
            }

            // Attach `value` to the innermost open container, closing containers as they end.
            while !stack.isEmpty {
                let top = stack.count - 1
                skipWhitespace()
                if stack[top].isObject {
                    let key = stack[top].pendingKey
                    stack[top].members.append((key: key, value: value))
                    switch current {
                    case .comma:
                        position += 1
                        skipWhitespace()
                        try parseMemberKey(into: &stack[top], afterComma: true)
                        continue nextValue
                    case .closeBrace:
                        position += 1
                        value = .object(stack.removeLast().members)
                    default:
                        throw fail(position, "expected ',' or '}' after object member")
                    }
                } else {
                    stack[top].elements.append(value)
                    switch current {
                    case .comma:
                        position += 1
                        skipWhitespace()
                        if current == .closeBracket { throw fail(position, "trailing comma in array") }
                        try checkElementCount(stack[top].elements.count)
                        continue nextValue
                    case .closeBracket:
                        position += 1
                        value = .array(stack.removeLast().elements)
                    default:
                        throw fail(position, "expected ',' or ']' after array element")
                    }
                }
            }
            return value
        }
    }

    func checkElementCount(_ count: Int) throws(JSONParseError) {
        if count >= limits.maximumMembers {
            throw fail(position, "array has more than \(limits.maximumMembers) elements")
        }
    }

    /// Reads `"key" :` at `position` into `frame`, leaving `position` at the member's value.
    mutating func parseMemberKey(into frame: inout OpenContainer, afterComma: Bool) throws(JSONParseError) {
        guard current == .quote else {
            if afterComma && current == .closeBrace { throw fail(position, "trailing comma in object") }
            throw fail(
                position,
                afterComma ? "expected string key, found \(found)" : "expected string key or '}', found \(found)")
        }
        if frame.members.count >= limits.maximumMembers {
            throw fail(position, "object has more than \(limits.maximumMembers) members")
        }
        let keyOffset = position
        let key = try parseString()
        if !frame.keys.insert(key).inserted {
            throw fail(keyOffset, "duplicate key \(Self.quoted(key))")
        }
        skipWhitespace()
        guard current == .colon else { throw fail(position, "expected ':' after object key") }
        position += 1
        skipWhitespace()
        frame.pendingKey = key
    }

    /// `key` in double quotes, control characters escaped and cut short, safe for a log line.
    static func quoted(_ key: String) -> String {
        var result = "\""
        var count = 0
        for scalar in key.unicodeScalars {
            if count == 32 {
                result += "..."
                break
            }
            count += 1
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0):
                result += "\\u" + hex(scalar.value, digits: 4)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    // MARK: Scalars

    mutating func parseLiteral(_ word: String, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
        let start = position
        for byte in word.utf8 {
            guard current == byte else { throw fail(start, "invalid literal, expected \(word)") }
            position += 1
        }
        return value
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        let negative = current == .minus
        if negative {
            position += 1
            guard current?.isDigit == true else { throw fail(position, "expected digit after '-'") }
        }
        let digitsStart = position
        if current == .zero {
            position += 1
            if current?.isDigit == true { throw fail(position, "leading zeros are not allowed") }
        } else {
            while current?.isDigit == true { position += 1 }
        }
        let integerEnd = position
        var isInteger = true
        if current == .dot {
            isInteger = false
            position += 1
            guard current?.isDigit == true else { throw fail(position, "expected digit after '.'") }
            while current?.isDigit == true { position += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == .plus || current == .minus { position += 1 }
            guard current?.isDigit == true else { throw fail(position, "expected digit in exponent") }
            while current?.isDigit == true { position += 1 }
        }
        if isInteger && integerEnd - digitsStart <= 15 {
            // Fast path: fits an Int and converts to Double exactly.
            var magnitude = 0
            for index in digitsStart..<integerEnd { magnitude = magnitude * 10 + Int(input[index] &- .zero) }
            let number = Double(magnitude)
            return .number(negative ? -number : number)
        }
        let text = String(decoding: input[start..<position], as: UTF8.self)
        guard let number = Double(text[...]), number.isFinite else { throw fail(start, "number out of range") }
        return .number(number)
    }

    /// Parses the string whose opening quote is at `position`.
    mutating func parseString() throws(JSONParseError) -> String {
        let quote = position
        let limit = limits.maximumStringBytes
        position += 1
        var runStart = position
        var escaped = false
        while true {
            guard let byte = current else { throw fail(quote, "unterminated string") }
            switch byte {
            case .quote:
                let result: String
                if escaped {
                    scratch.append(contentsOf: input[runStart..<position])
                    result = String(decoding: scratch, as: UTF8.self)
                } else {
                    result = String(decoding: input[runStart..<position], as: UTF8.self)
                }
                position += 1
                return result
            case .backslash:
                if !escaped {
                    escaped = true
                    scratch.removeAll(keepingCapacity: true)
                }
                scratch.append(contentsOf: input[runStart..<position])
                try parseEscape(quote: quote)
                runStart = position
            case 0..<0x20:
                throw fail(position, "unescaped control character 0x\(hex(byte, digits: 2)) in string")
            case 0x20..<0x80:
                position += 1
            default:
                position += try utf8SequenceLength()
            }
            if (escaped ? scratch.count : 0) + (position - runStart) > limit {
                throw fail(quote, "string longer than \(limit) bytes")
            }
        }
    }

    /// Decodes the escape whose backslash is at `position` into `scratch`.
    mutating func parseEscape(quote: Int) throws(JSONParseError) {
        let start = position
        position += 1
        guard let byte = current else { throw fail(quote, "unterminated string") }
        position += 1
        switch byte {
        case .quote, .backslash, UInt8(ascii: "/"): scratch.append(byte)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let first = try readHex4(escape: start)
            var scalar = first
            if first >= 0xD800 && first <= 0xDBFF {
                guard current == .backslash, position + 1 < input.count, input[position + 1] == UInt8(ascii: "u") else {
                    throw fail(start, "unpaired surrogate \\u\(hex(first, digits: 4))")
                }
                let second = try readHex4(escape: position, skip: 2)
                guard second >= 0xDC00 && second <= 0xDFFF else {
                    throw fail(start, "unpaired surrogate \\u\(hex(first, digits: 4))")
                }
                scalar = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            } else if first >= 0xDC00 && first <= 0xDFFF {
                throw fail(start, "unpaired surrogate \\u\(hex(first, digits: 4))")
            }
            appendUTF8(scalar)
        default:
            if byte > 0x20 && byte < 0x7F {
                throw fail(start, "invalid escape \\\(Character(Unicode.Scalar(byte)))")
            }
            throw fail(start, "invalid escape: '\\' followed by byte 0x\(hex(byte, digits: 2))")
        }
    }

    /// Reads the four hex digits of the `\u` escape at `escape`, after skipping `skip` bytes.
    mutating func readHex4(escape: Int, skip: Int = 0) throws(JSONParseError) -> UInt32 {
        position += skip
        var value: UInt32 = 0
        for _ in 0..<4 {
            let digit: UInt32
            switch current {
            case let byte? where byte.isDigit: digit = UInt32(byte - .zero)
            case let byte? where byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"):
                digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case let byte? where byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"):
                digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail(escape, "expected 4 hex digits after \\u")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// The length of the well-formed multi-byte UTF-8 sequence at `position` (Unicode Table 3-7:
    /// no overlong forms, no surrogates, nothing above U+10FFFF).
    func utf8SequenceLength() throws(JSONParseError) -> Int {
        let lead = input[position]
        var length = 3
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: break
        case 0xED: high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw fail(position, "invalid UTF-8 byte 0x\(hex(lead, digits: 2))")
        }
        guard position + length <= input.count else { throw fail(position, "truncated UTF-8 sequence") }
        let second = input[position + 1]
        guard second >= low && second <= high else { throw fail(position, "invalid UTF-8 sequence") }
        for index in position + 2..<position + length where input[index] & 0xC0 != 0x80 {
            throw fail(position, "invalid UTF-8 sequence")
        }
        return length
    }
}
