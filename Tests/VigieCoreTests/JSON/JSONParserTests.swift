import Testing
import VigieCore

// MARK: Helpers

/// One input that must be rejected, with the expected offset and message.
struct Rejection: Sendable, CustomTestStringConvertible {
    let input: [UInt8]
    let offset: Int
    let message: String
    init(_ text: String, _ offset: Int, _ message: String) {
        self.input = Array(text.utf8)
        self.offset = offset
        self.message = message
    }
    init(bytes: [UInt8], _ offset: Int, _ message: String) {
        self.input = bytes
        self.offset = offset
        self.message = message
    }
    var testDescription: String { String(decoding: input.prefix(40), as: UTF8.self) }
}

func expectRejected(
    _ input: [UInt8], offset: Int, message: String, limits: JSONLimits = JSONLimits(),
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let value = try JSON.parse(input, limits: limits)
        Issue.record(
            "accepted \(String(decoding: input.prefix(60), as: UTF8.self)) as \(value)", sourceLocation: sourceLocation)
    } catch {
        #expect(error == JSONParseError(offset: offset, message: message), sourceLocation: sourceLocation)
    }
}

func expectRejected(
    _ text: String, offset: Int, message: String, limits: JSONLimits = JSONLimits(),
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectRejected(Array(text.utf8), offset: offset, message: message, limits: limits, sourceLocation: sourceLocation)
}

func parse(_ text: String, limits: JSONLimits = JSONLimits()) throws -> JSONValue {
    try JSON.parse(text, limits: limits)
}

func limits(_ change: (inout JSONLimits) -> Void) -> JSONLimits {
    var limits = JSONLimits()
    change(&limits)
    return limits
}

// MARK: Values

@Suite("JSON values") struct JSONValueTests {
    @Test func literals() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse(" \t\r\n true \t\r\n ") == .bool(true))
    }

    @Test(arguments: [
        ("0", 0.0), ("-0", -0.0), ("1", 1), ("-1", -1), ("1.5", 1.5), ("-12.25", -12.25),
        ("1e2", 100), ("1E2", 100), ("1e+2", 100), ("1e-2", 0.01), ("0.5e1", 5), ("-0.0e-0", -0.0),
        ("123456789012345", 123_456_789_012_345), ("9007199254740992", 9_007_199_254_740_992),
        ("-9007199254740992", -9_007_199_254_740_992), ("9007199254740993", 9_007_199_254_740_992),
        ("1e-400", 0), ("1.7976931348623157e308", 1.7976931348623157e308), ("5e-324", .leastNonzeroMagnitude),
        ("0.1", 0.1), ("100000000000000000000", 1e20),
    ])
    func numbers(text: String, expected: Double) throws {
        let value = try parse(text)
        #expect(value == .number(expected))
        #expect(value.numberValue?.sign == expected.sign)
    }

    @Test func intValue() throws {
        #expect(try parse("42").intValue == 42)
        #expect(try parse("-42").intValue == -42)
        #expect(try parse("1e2").intValue == 100)
        #expect(try parse("1.0").intValue == 1)
        #expect(try parse("-0").intValue == 0)
        #expect(try parse("9007199254740992").intValue == 9_007_199_254_740_992)
        #expect(try parse("1.5").intValue == nil)
        #expect(try parse("1e300").intValue == nil)
        #expect(try parse("9223372036854775808").intValue == nil)  // 2^63
        #expect(try parse("-9223372036854775808").intValue == Int.min)
        #expect(try parse("\"1\"").intValue == nil)
    }

    @Test func strings() throws {
        #expect(try parse(#""""#) == .string(""))
        #expect(try parse(#""hello world""#) == .string("hello world"))
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u20AC\uD83D\uDE00""#) == .string("Aé€😀"))
        #expect(try parse("\"Aé€😀\"") == .string("Aé€😀"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try parse("\"\u{7F}\"") == .string("\u{7F}"))  // DEL is not a control character in JSON
        #expect(try parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        #expect(try parse(#""a\nb""#).stringValue == "a\nb")
        #expect(
            try parse("\"\u{10FFFF}\u{FFFF}\u{E000}\u{D7FF}\u{80}\u{7FF}\"")
                == .string("\u{10FFFF}\u{FFFF}\u{E000}\u{D7FF}\u{80}\u{7FF}"))
    }

    @Test func arraysAndNesting() throws {
        #expect(try parse("[]") == .array([]))
        #expect(try parse("[ ]") == .array([]))
        #expect(
            try parse("[1, \"a\", null, true, [], {}]")
                == .array([.number(1), .string("a"), .null, .bool(true), .array([]), .object([])]))
        let nested = try parse(#"{"a":[1,{"b":[[],{"c":null}]}],"d":{}}"#)
        #expect(
            nested
                == .object([
                    (
                        key: "a",
                        value: .array([
                            .number(1),
                            .object([(key: "b", value: .array([.array([]), .object([(key: "c", value: .null)])]))]),
                        ])
                    ),
                    (key: "d", value: .object([])),
                ]))
        #expect(nested["a"]?.arrayValue?[1]["b"]?.arrayValue?[1]["c"] == .null)
    }

    @Test func objectKeyOrderAndAccessors() throws {
        let value = try parse(#" { "z" : 1 , "a" : "x" , "m" : true , "n" : null } "#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m", "n"])
        #expect(value.isObject)
        #expect(value["z"]?.intValue == 1)
        #expect(value["a"]?.stringValue == "x")
        #expect(value["m"]?.boolValue == true)
        #expect(value["n"] == .null)
        #expect(value["missing"] == nil)
        #expect(
            value.arrayValue == nil && value.stringValue == nil && value.numberValue == nil && value.boolValue == nil)
        #expect(JSONValue.array([]).isObject == false)
        #expect(JSONValue.array([])["a"] == nil)
        #expect(JSONValue.string("a")["a"] == nil)
        // Order matters for equality.
        #expect(try parse(#"{"a":1,"b":2}"#) != parse(#"{"b":2,"a":1}"#))
        #expect(try parse(#"{"a":1,"b":2}"#) == parse(#"{ "a" : 1 , "b" : 2 }"#))
        #expect(JSONValue.number(1) != .string("1"))
        #expect(
            JSONValue.object([(key: "a", value: .null)])
                != .object([(key: "a", value: .null), (key: "b", value: .null)]))
    }

    @Test func inputForms() throws {
        let expected = JSONValue.array([.number(1)])
        #expect(try JSON.parse([UInt8]("[1]".utf8)) == expected)
        #expect(try JSON.parse(Array("xx[1]yy".utf8)[2..<5]) == expected)  // slice with non-zero start
        #expect(try JSON.parse("[1]".utf8) == expected)
        #expect(try JSON.parse("[1]".utf8.lazy.map { $0 }) == expected)
        #expect(try JSON.parse(ContiguousArray("[1]".utf8)) == expected)
    }

    @Test func errorDescription() {
        let error = JSONParseError(offset: 3, message: "trailing comma in array")
        #expect(error.description == "at byte 3: trailing comma in array")
        #expect("\(error)" == "at byte 3: trailing comma in array")
    }

    @Test func canonicallyEquivalentKeysAreDuplicates() {
        // Swift String equality is canonical equivalence; the parser refuses the ambiguity.
        expectRejected("{\"\u{E9}\":1,\"e\u{301}\":2}", offset: 8, message: "duplicate key \"e\u{301}\"")
    }

    @Test func duplicateKeyMessageIsEscapedAndShort() {
        expectRejected(#"{"a\nb":1,"a\nb":2}"#, offset: 10, message: #"duplicate key "a\u000Ab""#)
        expectRejected(#"{"\"\\":1,"\"\\":2}"#, offset: 10, message: #"duplicate key "\"\\""#)
        let long = String(repeating: "k", count: 100)
        expectRejected(
            "{\"\(long)\":1,\"\(long)\":2}", offset: 106,
            message: "duplicate key \"\(String(repeating: "k", count: 32))...\"")
    }
}

// MARK: Errors

@Suite("JSON errors") struct JSONErrorTests {
    static let cases: [Rejection] = [
        // Structure
        Rejection("", 0, "expected a value, found end of input"),
        Rejection("   ", 3, "expected a value, found end of input"),
        Rejection("[", 1, "expected a value, found end of input"),
        Rejection("[1", 2, "expected ',' or ']' after array element"),
        Rejection("[1 2]", 3, "expected ',' or ']' after array element"),
        Rejection("[1,]", 3, "trailing comma in array"),
        Rejection("[1, ]", 4, "trailing comma in array"),
        Rejection("[,1]", 1, "expected a value, found ','"),
        Rejection("[1,,2]", 3, "expected a value, found ','"),
        Rejection("[1}", 2, "expected ',' or ']' after array element"),
        Rejection("{", 1, "expected string key or '}', found end of input"),
        Rejection(#"{"a":1,}"#, 7, "trailing comma in object"),
        Rejection(#"{"a":1,2}"#, 7, "expected string key, found '2'"),
        Rejection(#"{"a" 1}"#, 5, "expected ':' after object key"),
        Rejection(#"{"a"}"#, 4, "expected ':' after object key"),
        Rejection(#"{"a":}"#, 5, "expected a value, found '}'"),
        Rejection(#"{"a":1 "b":2}"#, 7, "expected ',' or '}' after object member"),
        Rejection(#"{"a":1]"#, 6, "expected ',' or '}' after object member"),
        Rejection(#"{"a":1"#, 6, "expected ',' or '}' after object member"),
        Rejection("{a:1}", 1, "expected string key or '}', found 'a'"),
        Rejection("{'a':1}", 1, "expected string key or '}', found '''"),
        Rejection("['a']", 1, "expected a value, found '''"),
        Rejection(#"{"id":1,"id":2}"#, 8, #"duplicate key "id""#),
        Rejection(#"{"a":{"b":1,"b":1}}"#, 12, #"duplicate key "b""#),
        Rejection("[1] x", 4, "trailing characters after the value"),
        Rejection("1 2", 2, "trailing characters after the value"),
        Rejection("[1]]", 3, "trailing characters after the value"),
        Rejection("{}}", 2, "trailing characters after the value"),
        Rejection("[1]//", 3, "trailing characters after the value"),
        Rejection("/* c */ 1", 0, "expected a value, found '/'"),
        Rejection("\u{C}1", 0, "expected a value, found byte 0x0C"),  // form feed is not whitespace
        Rejection("\u{A0}1", 0, "expected a value, found byte 0xC2"),
        // Literals
        Rejection("tru", 0, "invalid literal, expected true"),
        Rejection("nul", 0, "invalid literal, expected null"),
        Rejection("fals", 0, "invalid literal, expected false"),
        Rejection("[True]", 1, "expected a value, found 'T'"),
        Rejection("[nulL]", 1, "invalid literal, expected null"),
        Rejection("truex", 4, "trailing characters after the value"),
        Rejection("NaN", 0, "expected a value, found 'N'"),
        Rejection("Infinity", 0, "expected a value, found 'I'"),
        Rejection("-Infinity", 1, "expected digit after '-'"),
        Rejection("undefined", 0, "expected a value, found 'u'"),
        // Numbers
        Rejection("01", 1, "leading zeros are not allowed"),
        Rejection("-01", 2, "leading zeros are not allowed"),
        Rejection("00", 1, "leading zeros are not allowed"),
        Rejection("1.", 2, "expected digit after '.'"),
        Rejection("1.e5", 2, "expected digit after '.'"),
        Rejection(".5", 0, "expected a value, found '.'"),
        Rejection("-", 1, "expected digit after '-'"),
        Rejection("[-]", 2, "expected digit after '-'"),
        Rejection("- 1", 1, "expected digit after '-'"),
        Rejection("+1", 0, "expected a value, found '+'"),
        Rejection("1e", 2, "expected digit in exponent"),
        Rejection("1e+", 3, "expected digit in exponent"),
        Rejection("1E-x", 3, "expected digit in exponent"),
        Rejection("1e5.5", 3, "trailing characters after the value"),
        Rejection("0x10", 1, "trailing characters after the value"),
        Rejection("1_000", 1, "trailing characters after the value"),
        Rejection("1e400", 0, "number out of range"),
        Rejection("[-1e400]", 1, "number out of range"),
        Rejection("1" + String(repeating: "0", count: 400), 0, "number out of range"),
        // Strings
        Rejection(#""abc"#, 0, "unterminated string"),
        Rejection(#"["abc]"#, 1, "unterminated string"),
        Rejection(#""\"#, 0, "unterminated string"),
        Rejection(#""\q""#, 1, #"invalid escape \q"#),
        Rejection(#""\x41""#, 1, #"invalid escape \x"#),
        Rejection(#""\'""#, 1, #"invalid escape \'"#),
        Rejection(#""\U0041""#, 1, #"invalid escape \U"#),
        Rejection("\"\\\n\"", 1, #"invalid escape: '\' followed by byte 0x0A"#),
        Rejection(#""\u00""#, 1, #"expected 4 hex digits after \u"#),
        Rejection(#""\u"#, 1, #"expected 4 hex digits after \u"#),
        Rejection(#""\u12G4""#, 1, #"expected 4 hex digits after \u"#),
        Rejection(#""\ud800""#, 1, #"unpaired surrogate \uD800"#),
        Rejection(#""\uDBFF""#, 1, #"unpaired surrogate \uDBFF"#),
        Rejection(#""\udc00""#, 1, #"unpaired surrogate \uDC00"#),
        Rejection(#""\udc00\ud800""#, 1, #"unpaired surrogate \uDC00"#),
        Rejection(#""\ud800\u0041""#, 1, #"unpaired surrogate \uD800"#),
        Rejection(#""\ud800\ud800""#, 1, #"unpaired surrogate \uD800"#),
        Rejection(#""\ud800x""#, 1, #"unpaired surrogate \uD800"#),
        Rejection(#""\ud800\n""#, 1, #"unpaired surrogate \uD800"#),
        Rejection(#""\ud800\u12""#, 7, #"expected 4 hex digits after \u"#),
        Rejection("\"a\nb\"", 2, "unescaped control character 0x0A in string"),
        Rejection("\"\t\"", 1, "unescaped control character 0x09 in string"),
        Rejection("\"\u{0}\"", 1, "unescaped control character 0x00 in string"),
        Rejection("\"\u{1F}\"", 1, "unescaped control character 0x1F in string"),
    ]

    @Test(arguments: cases)
    func rejected(_ rejection: Rejection) {
        expectRejected(rejection.input, offset: rejection.offset, message: rejection.message)
    }

    static let byteCases: [Rejection] = [
        Rejection(bytes: [0xEF, 0xBB, 0xBF, 0x31], 0, "byte order mark is not allowed"),
        Rejection(bytes: [0xEF, 0xBB, 0xBF], 0, "byte order mark is not allowed"),
        Rejection(bytes: [0xC3, 0xA9], 0, "expected a value, found byte 0xC3"),
        Rejection(bytes: [0x22, 0x80, 0x22], 1, "invalid UTF-8 byte 0x80"),  // lone continuation
        Rejection(bytes: [0x22, 0xC0, 0xAF, 0x22], 1, "invalid UTF-8 byte 0xC0"),  // overlong '/'
        Rejection(bytes: [0x22, 0xC1, 0xBF, 0x22], 1, "invalid UTF-8 byte 0xC1"),  // overlong
        Rejection(bytes: [0x22, 0xE0, 0x80, 0xAF, 0x22], 1, "invalid UTF-8 sequence"),  // overlong 3-byte
        Rejection(bytes: [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], 1, "invalid UTF-8 sequence"),  // overlong 4-byte
        Rejection(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], 1, "invalid UTF-8 sequence"),  // U+D800 encoded
        Rejection(bytes: [0x22, 0xED, 0xBF, 0xBF, 0x22], 1, "invalid UTF-8 sequence"),  // U+DFFF encoded
        Rejection(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, "invalid UTF-8 sequence"),  // > U+10FFFF
        Rejection(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1, "invalid UTF-8 byte 0xF5"),
        Rejection(bytes: [0x22, 0xFE, 0x22], 1, "invalid UTF-8 byte 0xFE"),
        Rejection(bytes: [0x22, 0xFF, 0x22], 1, "invalid UTF-8 byte 0xFF"),
        Rejection(bytes: [0x22, 0xC3, 0x22], 1, "invalid UTF-8 sequence"),  // truncated before quote
        Rejection(bytes: [0x22, 0xE2, 0x82, 0x22], 1, "invalid UTF-8 sequence"),
        Rejection(bytes: [0x22, 0xF0, 0x9F, 0x98, 0x22], 1, "invalid UTF-8 sequence"),
        Rejection(bytes: [0x22, 0xE2, 0x82], 1, "truncated UTF-8 sequence"),  // truncated at end
        Rejection(bytes: [0x22, 0xC3], 1, "truncated UTF-8 sequence"),
        Rejection(bytes: [0x22, 0x61, 0xC3, 0xA9, 0xA9, 0x22], 4, "invalid UTF-8 byte 0xA9"),  // extra continuation
        Rejection(bytes: [0x22, 0x5C, 0xC3, 0xA9, 0x22], 1, "invalid escape: '\\' followed by byte 0xC3"),
    ]

    @Test(arguments: byteCases)
    func rejectedBytes(_ rejection: Rejection) {
        expectRejected(rejection.input, offset: rejection.offset, message: rejection.message)
    }

    @Test func byteOrderMarkInString() throws {
        expectRejected("\u{FEFF}{}", offset: 0, message: "byte order mark is not allowed")
        // A BOM inside a string is just U+FEFF.
        #expect(try parse("\"\u{FEFF}\"") == .string("\u{FEFF}"))
    }

    @Test func deepOpeningBracketsThrowCleanly() {
        let brackets = String(repeating: "[", count: 100_000)
        expectRejected(brackets, offset: 65_536, message: "input larger than 65536 bytes")
        expectRejected(
            brackets, offset: 16, message: "nesting deeper than 16", limits: limits { $0.maximumBytes = 200_000 })
        expectRejected(String(repeating: #"{"a":"#, count: 10_000), offset: 80, message: "nesting deeper than 16")
        expectRejected(String(repeating: #"[{"a":"#, count: 10_000), offset: 48, message: "nesting deeper than 16")
    }

    @Test func deepNestingWithRaisedLimitDoesNotRecurse() throws {
        let depth = 2_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = try parse(text, limits: limits { $0.maximumDepth = depth })
        var levels = 0
        while case .array(let elements) = value, let first = elements.first {
            value = first
            levels += 1
        }
        #expect(levels == depth - 1)
        expectRejected(
            text, offset: depth - 1, message: "nesting deeper than \(depth - 1)",
            limits: limits { $0.maximumDepth = depth - 1 })
    }
}

// MARK: Limits

@Suite("JSON limits") struct JSONLimitTests {
    @Test func inputSize() throws {
        let fits = "[1]" + String(repeating: " ", count: 65_536 - 3)
        #expect(try parse(fits) == .array([.number(1)]))
        expectRejected(fits + " ", offset: 65_536, message: "input larger than 65536 bytes")
        let small = limits { $0.maximumBytes = 10 }
        #expect(try parse("[1,2,3,44]", limits: small).arrayValue?.count == 4)
        expectRejected("[1,2,3,444]", offset: 10, message: "input larger than 10 bytes", limits: small)
        expectRejected("", offset: 0, message: "input larger than -1 bytes", limits: limits { $0.maximumBytes = -1 })
    }

    @Test func depth() throws {
        let sixteen = String(repeating: "[", count: 16) + String(repeating: "]", count: 16)
        #expect(try parse(sixteen) != .null)
        let seventeen = "[" + sixteen + "]"
        expectRejected(seventeen, offset: 16, message: "nesting deeper than 16")
        // Empty containers count too, and objects count like arrays.
        let objects = String(repeating: #"{"k":"#, count: 15) + "[]" + String(repeating: "}", count: 15)
        #expect(try parse(objects) != .null)
        let tooDeep = String(repeating: #"{"k":"#, count: 16) + "{}" + String(repeating: "}", count: 16)
        expectRejected(tooDeep, offset: 80, message: "nesting deeper than 16")
        // Depth is "open at once", not total.
        let wide =
            "["
            + Array(repeating: String(repeating: "[", count: 15) + String(repeating: "]", count: 15), count: 50)
            .joined(separator: ",") + "]"
        #expect(try parse(wide).arrayValue?.count == 50)
        // Depth 0 still allows scalars.
        let flat = limits { $0.maximumDepth = 0 }
        #expect(try parse("1", limits: flat) == .number(1))
        expectRejected(" []", offset: 1, message: "nesting deeper than 0", limits: flat)
    }

    @Test func stringLength() throws {
        let max = 16_384
        #expect(try parse("\"" + String(repeating: "a", count: max) + "\"").stringValue?.utf8.count == max)
        expectRejected(
            "\"" + String(repeating: "a", count: max + 1) + "\"", offset: 0, message: "string longer than 16384 bytes")
        expectRejected(
            "[1,\"" + String(repeating: "a", count: max + 1), offset: 3, message: "string longer than 16384 bytes")
        // Counted in decoded UTF-8 bytes: raw multi-byte characters...
        #expect(try parse("\"" + String(repeating: "é", count: max / 2) + "\"").stringValue?.count == max / 2)
        expectRejected(
            "\"" + String(repeating: "é", count: max / 2) + "a\"", offset: 0, message: "string longer than 16384 bytes")
        // ...escapes (6 input bytes, 2 decoded bytes)...
        #expect(
            try parse(
                "\"" + String(repeating: #"\u00e9"#, count: max / 2) + "\"",
                limits: limits { $0.maximumBytes = 100_000 }
            )
            .stringValue?.utf8.count == max)
        expectRejected(
            "\"" + String(repeating: #"\u00e9"#, count: max / 2) + "\\n\"", offset: 0,
            message: "string longer than 16384 bytes", limits: limits { $0.maximumBytes = 100_000 })
        // ...and a mix of escapes and raw runs.
        let mixed = "\"" + String(repeating: #"ab\n"#, count: max / 3) + "x\""
        #expect(try parse(mixed).stringValue?.utf8.count == max / 3 * 3 + 1)
        expectRejected(
            "\"" + String(repeating: #"ab\n"#, count: max / 3) + "xy\"", offset: 0,
            message: "string longer than 16384 bytes")
        // Keys are strings too.
        let key = String(repeating: "k", count: 9)
        let tight = limits { $0.maximumStringBytes = 8 }
        expectRejected("{\"\(key)\":1}", offset: 1, message: "string longer than 8 bytes", limits: tight)
        #expect(try parse("{\"\(key.dropLast())\":1}", limits: tight).isObject)
        #expect(try parse("\"\"", limits: limits { $0.maximumStringBytes = 0 }) == .string(""))
    }

    @Test func arrayMembers() throws {
        let fits = "[" + Array(repeating: "0", count: 1_024).joined(separator: ",") + "]"
        #expect(try parse(fits).arrayValue?.count == 1_024)
        let over = "[" + Array(repeating: "0", count: 1_025).joined(separator: ",") + "]"
        expectRejected(over, offset: 1 + 2 * 1_024, message: "array has more than 1024 elements")
        let none = limits { $0.maximumMembers = 0 }
        #expect(try parse("[]", limits: none) == .array([]))
        expectRejected("[ 1]", offset: 2, message: "array has more than 0 elements", limits: none)
    }

    @Test func objectMembers() throws {
        func object(_ count: Int) -> (text: String, lastKeyOffset: Int) {
            var text = "{"
            var offset = 0
            for index in 0..<count {
                if index > 0 { text += "," }
                offset = text.utf8.count
                text += "\"k\(index)\":\(index)"
            }
            return (text + "}", offset)
        }
        let fits = try parse(object(1_024).text)
        guard case .object(let members) = fits else {
            Issue.record("not an object")
            return
        }
        #expect(members.count == 1_024)
        #expect(members.last?.key == "k1023")
        let over = object(1_025)
        expectRejected(over.text, offset: over.lastKeyOffset, message: "object has more than 1024 members")
        expectRejected(
            #"{"a":1}"#, offset: 1, message: "object has more than 0 members", limits: limits { $0.maximumMembers = 0 })
    }

    @Test func hostileMaximumSizeInputsAreFast() throws {
        let clock = ContinuousClock()
        let big = limits { $0.maximumStringBytes = 65_536 }
        let inputs: [String] = [
            String(repeating: "9", count: 65_536),  // one huge integer
            "0." + String(repeating: "1", count: 65_534),  // one huge fraction
            "1e" + String(repeating: "9", count: 65_534),  // huge exponent
            "\"" + String(repeating: #"\u00e9"#, count: 10_000) + "\"",  // escape-heavy string
            "[" + Array(repeating: #"[[[[[[[[[[[[[[1]]]]]]]]]]]]]]"#, count: 1_000).joined(separator: ",") + "]",
            "{" + (0..<1_024).map { "\"\(String(repeating: "x", count: 40))\($0)\":0" }.joined(separator: ",") + "}",
            "{" + (0..<1_024).map { "\"\(String(repeating: "é", count: 20))\($0)\":0" }.joined(separator: ",") + "}",
        ]
        for input in inputs {
            let start = clock.now
            _ = try? JSON.parse(input, limits: big)
            let elapsed = clock.now - start
            #expect(elapsed < .seconds(5), "\(input.prefix(20))... took \(elapsed)")
        }
        #expect(try parse("1e" + String(repeating: "0", count: 1_000) + "1").intValue == 10)
    }
}
