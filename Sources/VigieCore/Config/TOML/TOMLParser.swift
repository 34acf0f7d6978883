// A TOML 1.0 reader over the UTF-8 bytes of a `String`. Standard library only.

/// Entry point: `try TOML.parse(text)`.
public enum TOML {
    /// Largest accepted input, in UTF-8 bytes (1 MiB).
    public static let maximumInputSize = 1 << 20
    /// Deepest accepted nesting of tables and arrays (the root table is level 0).
    public static let maximumDepth = 64

    /// Parses a TOML document.
    ///
    /// - Returns: the root table, keys in the order written, every key and value with its position.
    /// - Throws: `TOMLError` with the line and column of the first problem.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        if text.utf8.count > maximumInputSize {
            throw TOMLError(
                line: 1, column: 1,
                message: "file is too large (\(text.utf8.count) bytes, at most \(maximumInputSize) allowed)")
        }
        var parser = TOMLParser(text)
        return try parser.parseDocument()
    }
}

/// The byte-level reader. One instance parses one document.
struct TOMLParser {
    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private var lineStart = 0
    // Column cache so that computing columns along one long line stays linear.
    private var columnCachePos = 0
    private var columnCacheValue = 1

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    // MARK: - Bytes

    private static let tab: UInt8 = 0x09
    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let space: UInt8 = 0x20
    private static let quote: UInt8 = 0x22  // "
    private static let hash: UInt8 = 0x23  // #
    private static let apostrophe: UInt8 = 0x27  // '
    private static let comma: UInt8 = 0x2C
    private static let dot: UInt8 = 0x2E
    private static let equals: UInt8 = 0x3D
    private static let openBracket: UInt8 = 0x5B
    private static let backslash: UInt8 = 0x5C
    private static let closeBracket: UInt8 = 0x5D
    private static let openBrace: UInt8 = 0x7B
    private static let closeBrace: UInt8 = 0x7D

    private var atEnd: Bool { pos >= bytes.count }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let i = pos + offset
        return i < bytes.count ? bytes[i] : nil
    }

    /// Control characters that TOML forbids outside strings' escapes: U+0000–U+001F except tab, and U+007F.
    private static func isControl(_ b: UInt8) -> Bool {
        (b < 0x20 && b != tab) || b == 0x7F
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    // MARK: - Positions and errors

    /// 1-based column (in Unicode scalars) of byte offset `p` on the current line.
    private mutating func column(of p: Int) -> Int {
        if columnCachePos < lineStart || columnCachePos > p {
            columnCachePos = lineStart
            columnCacheValue = 1
        }
        var c = columnCacheValue
        var i = columnCachePos
        while i < p {
            if bytes[i] & 0xC0 != 0x80 { c += 1 }
            i += 1
        }
        columnCachePos = p
        columnCacheValue = c
        return c
    }

    /// The current position (as a nameless key part, the type used for all positions).
    private mutating func here() -> TOMLKeyPart {
        TOMLKeyPart(name: "", line: line, column: column(of: pos))
    }

    private func error(_ message: String, at mark: TOMLKeyPart) -> TOMLError {
        TOMLError(line: mark.line, column: mark.column, message: message)
    }

    private mutating func errorHere(_ message: String) -> TOMLError {
        error(message, at: here())
    }

    /// A short description of what is at `pos`, for "found …" messages.
    private func describeCurrent() -> String {
        guard let b = peek() else { return "end of file" }
        switch b {
        case Self.lf, Self.cr:
            return "end of line"
        case 0x20..<0x7F:
            return "'\(Character(Unicode.Scalar(b)))'"
        case 0..<0x20, 0x7F:
            return "control character " + Self.codePoint(UInt32(b))
        default:
            var iterator = bytes[pos...].makeIterator()
            var decoder = UTF8()
            if case .scalarValue(let scalar) = decoder.decode(&iterator) {
                return "'\(Character(scalar))' (" + Self.codePoint(scalar.value) + ")"
            }
            return "byte \(b)"
        }
    }

    /// `U+0007`.
    private static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    // MARK: - Whitespace, newlines, comments

    private mutating func skipWhitespace() {
        while let b = peek(), b == Self.space || b == Self.tab { pos += 1 }
    }

    /// Consumes LF or CRLF if present. A lone CR is an error.
    private mutating func consumeNewline() throws(TOMLError) -> Bool {
        guard let b = peek() else { return false }
        if b == Self.lf {
            pos += 1
        } else if b == Self.cr {
            guard peek(1) == Self.lf else {
                throw errorHere("carriage return (U+000D) must be followed by a line feed")
            }
            pos += 2
        } else {
            return false
        }
        line += 1
        lineStart = pos
        return true
    }

    /// Skips a `# comment` up to (not including) the end of line.
    private mutating func skipComment() throws(TOMLError) {
        guard peek() == Self.hash else { return }
        pos += 1
        while let b = peek(), b != Self.lf {
            if b == Self.cr && peek(1) == Self.lf { return }
            if Self.isControl(b) { throw errorHere("control character \(Self.codePoint(UInt32(b))) in comment") }
            pos += 1
        }
    }

    /// Skips whitespace, comments and newlines (inside arrays).
    private mutating func skipBlankLines() throws(TOMLError) {
        while true {
            skipWhitespace()
            try skipComment()
            if try !consumeNewline() { return }
        }
    }

    /// After a header or key/value: optional whitespace and comment, then end of line or file.
    private mutating func expectEndOfLine(after what: String) throws(TOMLError) {
        skipWhitespace()
        try skipComment()
        if atEnd { return }
        if try consumeNewline() { return }
        throw errorHere("unexpected \(describeCurrent()) after \(what)")
    }

    // MARK: - Document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3; lineStart = 3 }  // byte order mark
        let root = TOMLTableNode(origin: .root, depth: 0, line: 1, column: 1)
        var current = root
        while !atEnd {
            skipWhitespace()
            guard let b = peek() else { break }
            if b == Self.openBracket {
                let header = here()
                let isArray = peek(1) == Self.openBracket
                pos += isArray ? 2 : 1
                let parts = try parseKey()
                if isArray {
                    guard peek() == Self.closeBracket && peek(1) == Self.closeBracket else {
                        throw errorHere(
                            "expected ']]' to close [[\(TOMLTableRules.display(parts[...]))]], found \(describeCurrent())"
                        )
                    }
                    pos += 2
                    current = try TOMLTableRules.appendTable(parts, root: root, header: header)
                } else {
                    guard peek() == Self.closeBracket else {
                        throw errorHere(
                            "expected ']' to close [\(TOMLTableRules.display(parts[...]))], found \(describeCurrent())")
                    }
                    pos += 1
                    current = try TOMLTableRules.defineTable(parts, root: root, header: header)
                }
                try expectEndOfLine(after: "table header")
            } else if b == Self.hash || b == Self.lf || b == Self.cr {
                try expectEndOfLine(after: "comment")
            } else {
                try parseKeyValue(into: current)
                try expectEndOfLine(after: "value")
            }
        }
        return root.makeTable()
    }

    // MARK: - Keys

    /// `a`, `"a b"`, `'a'`, `a . b . "c"`; stops after the last segment and trailing whitespace.
    private mutating func parseKey() throws(TOMLError) -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        while true {
            skipWhitespace()
            var part = here()
            switch peek() {
            case Self.quote?:
                if peek(1) == Self.quote && peek(2) == Self.quote {
                    throw errorHere("a multi-line string cannot be used as a key")
                }
                part.name = try parseBasicString()
            case Self.apostrophe?:
                if peek(1) == Self.apostrophe && peek(2) == Self.apostrophe {
                    throw errorHere("a multi-line string cannot be used as a key")
                }
                part.name = try parseLiteralString()
            case let b? where TOMLTableRules.isBareKeyByte(b):
                let start = pos
                while let c = peek(), TOMLTableRules.isBareKeyByte(c) { pos += 1 }
                part.name = String(decoding: bytes[start..<pos], as: UTF8.self)
            default:
                if parts.isEmpty {
                    throw errorHere("expected a key, found \(describeCurrent())")
                }
                throw errorHere(
                    "expected a key after \"\(TOMLTableRules.display(parts[...])).\", found \(describeCurrent())")
            }
            parts.append(part)
            skipWhitespace()
            guard peek() == Self.dot else { return parts }
            pos += 1
        }
    }

    /// `key = value`, inserted into `table`.
    private mutating func parseKeyValue(into table: TOMLTableNode) throws(TOMLError) {
        let parts = try parseKey()
        let name = TOMLTableRules.display(parts[...])
        guard peek() == Self.equals else {
            throw errorHere("expected '=' after key \"\(name)\", found \(describeCurrent())")
        }
        pos += 1
        skipWhitespace()
        switch peek() {
        case nil, Self.lf?, Self.cr?, Self.hash?, Self.comma?, Self.closeBrace?, Self.closeBracket?:
            throw errorHere("missing value for key \"\(name)\"")
        default:
            break
        }
        let value = try parseValue(depth: table.depth + parts.count)
        try TOMLTableRules.insert(value, at: parts, into: table)
    }

    // MARK: - Values

    /// A value whose container sits at nesting level `depth - 1`.
    private mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLValue {
        let start = here()
        let kind: TOMLValue.Kind
        switch peek() {
        case Self.quote?:
            if peek(1) == Self.quote && peek(2) == Self.quote {
                kind = .string(try parseMultilineString(delimiter: Self.quote))
            } else {
                kind = .string(try parseBasicString())
            }
        case Self.apostrophe?:
            if peek(1) == Self.apostrophe && peek(2) == Self.apostrophe {
                kind = .string(try parseMultilineString(delimiter: Self.apostrophe))
            } else {
                kind = .string(try parseLiteralString())
            }
        case Self.openBracket?:
            kind = .array(try parseArray(depth: depth, start: start))
        case Self.openBrace?:
            kind = .table(try parseInlineTable(depth: depth, start: start))
        default:
            kind = try parseBareValue(start: start)
        }
        return TOMLValue(kind: kind, line: start.line, column: start.column)
    }

    private func depthError(at start: TOMLKeyPart) -> TOMLError {
        error("arrays and tables are nested deeper than \(TOML.maximumDepth) levels", at: start)
    }

    private mutating func parseArray(depth: Int, start: TOMLKeyPart) throws(TOMLError) -> [TOMLValue] {
        guard depth <= TOML.maximumDepth else { throw depthError(at: start) }
        pos += 1
        var items: [TOMLValue] = []
        while true {
            try skipBlankLines()
            guard let b = peek() else { throw error("unterminated array (missing ']')", at: start) }
            if b == Self.closeBracket {
                pos += 1
                return items
            }
            if b == Self.comma {
                throw errorHere(
                    items.isEmpty ? "expected a value before ',' in array" : "expected a value between ',' in array")
            }
            items.append(try parseValue(depth: depth + 1))
            try skipBlankLines()
            switch peek() {
            case nil:
                throw error("unterminated array (missing ']')", at: start)
            case Self.comma?:
                pos += 1
            case Self.closeBracket?:
                pos += 1
                return items
            default:
                throw errorHere("expected ',' or ']' in array, found \(describeCurrent())")
            }
        }
    }

    private mutating func parseInlineTable(depth: Int, start: TOMLKeyPart) throws(TOMLError) -> TOMLTable {
        guard depth <= TOML.maximumDepth else { throw depthError(at: start) }
        pos += 1
        let node = TOMLTableNode(origin: .inline, depth: depth, line: start.line, column: start.column)
        skipWhitespace()
        if peek() == Self.closeBrace {
            pos += 1
            return node.makeTable()
        }
        while true {
            skipWhitespace()
            switch peek() {
            case nil, Self.lf?, Self.cr?:
                throw error("unterminated inline table (missing '}' on the same line)", at: start)
            case Self.closeBrace?:
                throw errorHere("trailing comma is not allowed in an inline table")
            default:
                break
            }
            try parseKeyValue(into: node)
            skipWhitespace()
            switch peek() {
            case nil, Self.lf?, Self.cr?:
                throw error("unterminated inline table (missing '}' on the same line)", at: start)
            case Self.comma?:
                pos += 1
            case Self.closeBrace?:
                pos += 1
                return node.makeTable()
            default:
                throw errorHere("expected ',' or '}' in inline table, found \(describeCurrent())")
            }
        }
    }

    // MARK: - Strings

    /// `"..."` with escapes, single line.
    private mutating func parseBasicString() throws(TOMLError) -> String {
        let start = here()
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw error("unterminated string (missing closing '\"')", at: start) }
            switch b {
            case Self.quote:
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case Self.backslash:
                try parseEscape(into: &out)
            case Self.lf, Self.cr:
                throw error("unterminated string (missing closing '\"' on the same line)", at: start)
            default:
                if Self.isControl(b) {
                    throw errorHere("control character \(Self.codePoint(UInt32(b))) in string; use an escape")
                }
                out.append(b)
                pos += 1
            }
        }
    }

    /// `'...'`, no escapes, single line.
    private mutating func parseLiteralString() throws(TOMLError) -> String {
        let start = here()
        pos += 1
        let contentStart = pos
        while true {
            guard let b = peek() else { throw error("unterminated string (missing closing \"'\")", at: start) }
            switch b {
            case Self.apostrophe:
                pos += 1
                return String(decoding: bytes[contentStart..<(pos - 1)], as: UTF8.self)
            case Self.lf, Self.cr:
                throw error("unterminated string (missing closing \"'\" on the same line)", at: start)
            default:
                if Self.isControl(b) {
                    throw errorHere("control character \(Self.codePoint(UInt32(b))) in string")
                }
                pos += 1
            }
        }
    }

    /// `"""..."""` (escapes, line-ending backslash) or `'''...'''` (raw). Newlines become LF.
    private mutating func parseMultilineString(delimiter: UInt8) throws(TOMLError) -> String {
        let start = here()
        let isBasic = delimiter == Self.quote
        pos += 3
        _ = try consumeNewline()  // a newline right after the opening delimiter is trimmed
        var out: [UInt8] = []
        while true {
            guard let b = peek() else {
                let d = isBasic ? "\"\"\"" : "'''"
                throw error("unterminated multi-line string (missing closing \(d))", at: start)
            }
            if b == delimiter {
                var run = 0
                while peek(run) == delimiter { run += 1 }
                if run < 3 {
                    out.append(contentsOf: repeatElement(delimiter, count: run))
                    pos += run
                    continue
                }
                if run > 5 {
                    pos += 5
                    throw errorHere("too many quotes at the end of a multi-line string")
                }
                // Up to two quotes right before the closing delimiter belong to the content.
                out.append(contentsOf: repeatElement(delimiter, count: run - 3))
                pos += run
                return String(decoding: out, as: UTF8.self)
            }
            if b == Self.lf || b == Self.cr {
                _ = try consumeNewline()
                out.append(Self.lf)
                continue
            }
            if isBasic && b == Self.backslash {
                var j = pos + 1
                while j < bytes.count && (bytes[j] == Self.space || bytes[j] == Self.tab) { j += 1 }
                if j < bytes.count && (bytes[j] == Self.lf || bytes[j] == Self.cr) {
                    // Line-ending backslash: drop the newline and all whitespace/newlines that follow.
                    pos = j
                    while true {
                        skipWhitespace()
                        if try !consumeNewline() { break }
                    }
                    continue
                }
                try parseEscape(into: &out)
                continue
            }
            if Self.isControl(b) {
                throw errorHere("control character \(Self.codePoint(UInt32(b))) in string")
            }
            out.append(b)
            pos += 1
        }
    }

    /// `\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX` at `pos`, appended as UTF-8.
    private mutating func parseEscape(into out: inout [UInt8]) throws(TOMLError) {
        let start = here()
        pos += 1
        guard let c = peek() else { throw error("unterminated string (ends with '\\')", at: start) }
        pos += 1
        switch c {
        case 0x62: out.append(0x08)  // \b
        case 0x74: out.append(0x09)  // \t
        case 0x6E: out.append(0x0A)  // \n
        case 0x66: out.append(0x0C)  // \f
        case 0x72: out.append(0x0D)  // \r
        case Self.quote: out.append(Self.quote)
        case Self.backslash: out.append(Self.backslash)
        case 0x75, 0x55:  // \u, \U
            let count = c == 0x75 ? 4 : 8
            var value: UInt32 = 0
            for k in 0..<count {
                guard let h = peek(), Self.isHexDigit(h) else {
                    let letter = c == 0x75 ? "u" : "U"
                    throw error("invalid escape \\\(letter): expected \(count) hex digits, found \(k)", at: start)
                }
                value = value << 4 | UInt32(Self.hexValue(h))
                pos += 1
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw error("escape \(Self.codePoint(value)) is not a valid Unicode scalar value", at: start)
            }
            out.append(contentsOf: scalar.utf8)
        default:
            pos -= 1
            let what =
                Self.isControl(c) || c >= 0x80 || c == Self.space ? describeCurrent() : "\\" + String(Unicode.Scalar(c))
            throw error("invalid escape sequence \(what) in string", at: start)
        }
    }

    private static func hexValue(_ b: UInt8) -> UInt8 {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        default: return b - 0x61 + 10
        }
    }

    // MARK: - Booleans, numbers, date-times

    /// Bytes that may appear in a boolean, number or date-time token.
    private static func isBareValueByte(_ b: UInt8) -> Bool {
        TOMLTableRules.isBareKeyByte(b) || b == 0x2B || b == Self.dot || b == 0x3A  // + . :
    }

    private mutating func parseBareValue(start: TOMLKeyPart) throws(TOMLError) -> TOMLValue.Kind {
        let tokenStart = pos
        while let b = peek(), Self.isBareValueByte(b) { pos += 1 }
        // `1979-05-27 07:32:00`: a date followed by a space and a time is one value.
        if pos - tokenStart == 10, Self.isDatePrefix(bytes[tokenStart..<pos]),
            peek() == Self.space, let d = peek(1), Self.isDigit(d)
        {
            pos += 1
            while let b = peek(), Self.isBareValueByte(b) { pos += 1 }
        }
        let token = Array(bytes[tokenStart..<pos])
        guard !token.isEmpty else {
            throw errorHere("expected a value, found \(describeCurrent())")
        }
        let text = String(decoding: token, as: UTF8.self)
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if token.contains(0x3A) || Self.isDatePrefix(token[...]) {
            guard TOMLDateTimeCheck.isValid(token) else {
                throw error("invalid date-time \(text)", at: start)
            }
            return .dateTime(text)
        }
        return try TOMLNumberReader.read(token, text: text, at: start)
    }

    /// `DDDD-` at the start: the token can only be a date.
    private static func isDatePrefix(_ t: ArraySlice<UInt8>) -> Bool {
        let i = t.startIndex
        return t.count >= 5 && isDigit(t[i]) && isDigit(t[i + 1]) && isDigit(t[i + 2]) && isDigit(t[i + 3])
            && t[i + 4] == 0x2D
    }
}

/// Integer and float tokens.
enum TOMLNumberReader {
    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Scans `D(_?D)*` from `i` with `isDigit`; returns the end index, or nil if there is no digit at `i`.
    private static func scanDigits(_ t: [UInt8], _ i: Int, _ isDigit: (UInt8) -> Bool) -> Int? {
        guard i < t.count, isDigit(t[i]) else { return nil }
        var j = i + 1
        while j < t.count {
            if isDigit(t[j]) {
                j += 1
            } else if t[j] == 0x5F && j + 1 < t.count && isDigit(t[j + 1]) {
                j += 2
            } else {
                break
            }
        }
        return j
    }

    private static func digitValue(_ b: UInt8) -> Int64 {
        switch b {
        case 0x30...0x39: return Int64(b - 0x30)
        case 0x41...0x46: return Int64(b - 0x41 + 10)
        default: return Int64(b - 0x61 + 10)
        }
    }

    static func read(_ t: [UInt8], text: String, at start: TOMLKeyPart) throws(TOMLError) -> TOMLValue.Kind {
        func fail(_ why: String) -> TOMLError {
            TOMLError(line: start.line, column: start.column, message: "invalid number \(text)" + why)
        }
        // 0x / 0o / 0b
        if t.count >= 2 && t[0] == 0x30 && (t[1] == 0x78 || t[1] == 0x6F || t[1] == 0x62) {
            let radix: Int64
            let isRadixDigit: (UInt8) -> Bool
            switch t[1] {
            case 0x78:
                radix = 16
                isRadixDigit = { isDigit($0) || ($0 >= 0x41 && $0 <= 0x46) || ($0 >= 0x61 && $0 <= 0x66) }
            case 0x6F:
                radix = 8
                isRadixDigit = { $0 >= 0x30 && $0 <= 0x37 }
            default:
                radix = 2
                isRadixDigit = { $0 == 0x30 || $0 == 0x31 }
            }
            guard let end = scanDigits(t, 2, isRadixDigit), end == t.count else { throw fail("") }
            var value: Int64 = 0
            for b in t[2...] where b != 0x5F {
                let (m, o1) = value.multipliedReportingOverflow(by: radix)
                let (s, o2) = m.addingReportingOverflow(digitValue(b))
                if o1 || o2 { throw fail(" (out of range for a 64-bit integer)") }
                value = s
            }
            return .integer(value)
        }
        var i = 0
        let negative = t.first == 0x2D
        if t.first == 0x2B || negative { i = 1 }
        guard let intEnd = scanDigits(t, i, isDigit) else { throw fail("") }
        if t[i] == 0x30 && intEnd - i > 1 { throw fail(" (leading zeros are not allowed)") }
        if intEnd == t.count {
            // Accumulate negatively so that Int64.min fits.
            var value: Int64 = 0
            for b in t[i...] where b != 0x5F {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.subtractingReportingOverflow(digitValue(b))
                if o1 || o2 { throw fail(" (out of range for a 64-bit integer)") }
                value = s
            }
            if !negative {
                guard value != .min else { throw fail(" (out of range for a 64-bit integer)") }
                value = -value
            }
            return .integer(value)
        }
        var j = intEnd
        var isFloat = false
        if t[j] == 0x2E {  // .
            guard let fracEnd = scanDigits(t, j + 1, isDigit) else { throw fail("") }
            j = fracEnd
            isFloat = true
        }
        if j < t.count && (t[j] == 0x65 || t[j] == 0x45) {  // e E
            j += 1
            if j < t.count && (t[j] == 0x2B || t[j] == 0x2D) { j += 1 }
            guard let expEnd = scanDigits(t, j, isDigit) else { throw fail("") }
            j = expEnd
            isFloat = true
        }
        guard isFloat && j == t.count else { throw fail("") }
        var digits = ""
        digits.unicodeScalars.append(contentsOf: t.lazy.filter { $0 != 0x5F }.map { Unicode.Scalar($0) })
        guard let value = Double(digits) else { throw fail("") }
        guard value.isFinite else { throw fail(" (out of range for a 64-bit float)") }
        return .float(value)
    }
}

/// Lexical check of RFC 3339 dates and times as TOML 1.0 allows them.
enum TOMLDateTimeCheck {
    /// `n` digits at `i` as a number, or nil.
    private static func number(_ t: [UInt8], _ i: Int, _ n: Int) -> Int? {
        guard i + n <= t.count else { return nil }
        var v = 0
        for k in i..<(i + n) {
            guard t[k] >= 0x30 && t[k] <= 0x39 else { return nil }
            v = v * 10 + Int(t[k] - 0x30)
        }
        return v
    }

    /// `HH:MM:SS[.frac]` at `i`; returns the end index.
    private static func time(_ t: [UInt8], _ i: Int) -> Int? {
        guard let h = number(t, i, 2), h <= 23, i + 2 < t.count, t[i + 2] == 0x3A,
            let m = number(t, i + 3, 2), m <= 59, i + 5 < t.count, t[i + 5] == 0x3A,
            let s = number(t, i + 6, 2), s <= 60
        else { return nil }
        var j = i + 8
        if j < t.count && t[j] == 0x2E {
            j += 1
            let fracStart = j
            while j < t.count && t[j] >= 0x30 && t[j] <= 0x39 { j += 1 }
            if j == fracStart { return nil }
        }
        return j
    }

    static func isValid(_ t: [UInt8]) -> Bool {
        if t.count >= 3 && t[2] == 0x3A {  // local time
            return time(t, 0) == t.count
        }
        guard let y = number(t, 0, 4), t.count >= 10, t[4] == 0x2D, let mo = number(t, 5, 2), t[7] == 0x2D,
            let d = number(t, 8, 2), mo >= 1, mo <= 12, d >= 1
        else { return false }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
        guard d <= days else { return false }
        if t.count == 10 { return true }  // local date
        guard t[10] == 0x54 || t[10] == 0x74 || t[10] == 0x20,  // T t space
            var j = time(t, 11)
        else { return false }
        if j == t.count { return true }  // local date-time
        if t[j] == 0x5A || t[j] == 0x7A {  // Z z
            j += 1
        } else if t[j] == 0x2B || t[j] == 0x2D {
            guard let oh = number(t, j + 1, 2), oh <= 23, j + 3 < t.count, t[j + 3] == 0x3A,
                let om = number(t, j + 4, 2), om <= 59
            else { return false }
            j += 6
        } else {
            return false
        }
        return j == t.count
    }
}
