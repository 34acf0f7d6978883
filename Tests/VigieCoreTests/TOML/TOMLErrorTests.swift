import Testing
import VigieCore

/// One invalid document, the line the error must point at, and a fragment of its message.
struct ErrorCase: CustomTestStringConvertible, Sendable {
    var source: String
    var line: Int
    var message: String
    var column: Int? = nil

    init(_ source: String, line: Int, _ message: String, column: Int? = nil) {
        self.source = source
        self.line = line
        self.message = message
        self.column = column
    }

    var testDescription: String { source.debugDescription }
}

@Suite("Errors")
struct ErrorTests {
    static let structureCases: [ErrorCase] = [
        ErrorCase(
            "quality = 1\nquality = 2", line: 2, #"duplicate key "quality" (first defined on line 1)"#, column: 1),
        ErrorCase(
            "[camera]\n\n\nquality = 80\nfps = 5\nquality = 90", line: 6,
            #"duplicate key "quality" (first defined on line 4)"#),
        ErrorCase("[[m]]\nx = 1\n  x = 2", line: 3, #"duplicate key "x""#, column: 3),
        ErrorCase("a.b = 1\na.b = 2", line: 2, #"duplicate key "a.b" (first defined on line 1)"#),
        ErrorCase("p = { x = 1, x = 2 }", line: 1, #"duplicate key "x""#, column: 14),
        ErrorCase("\"k\" = 1\nk = 2", line: 2, #"duplicate key "k""#),
        ErrorCase("[a]\nx = 1\n[a]", line: 3, "table [a] is defined twice (first defined on line 1)"),
        ErrorCase("[a.b]\n[x]\n[a.b]", line: 3, "table [a.b] is defined twice (first defined on line 1)"),
        ErrorCase("[a]\n[a.b]\n[a]", line: 3, "table [a] is defined twice"),
        ErrorCase("a = 1\n[a]", line: 2, #"key "a" is already a value (line 1)"#),
        ErrorCase("a = 1\n[a.b]", line: 2, #"key "a" is already a value (line 1)"#),
        ErrorCase("a = 1\na.b = 2", line: 2, #"key "a" is already a value (line 1)"#),
        ErrorCase("a.b = 1\na.b.c = 2", line: 2, #"key "a.b" is already a value"#),
        ErrorCase("a.b = 1\n[a]", line: 2, "table [a] is already defined by dotted keys (line 1)"),
        ErrorCase("[x]\na.b = 1\n[x.a]", line: 3, "table [x.a] is already defined by dotted keys (line 2)"),
        ErrorCase(
            "[a.b]\nx = 1\n[a]\nb.y = 2", line: 4, #"table "b" is defined on line 1; dotted keys cannot add to it"#),
        ErrorCase("[[a]]\n[a]", line: 2, #""a" is an array of tables (line 1); use [[a]]"#),
        ErrorCase("[a]\n[[a]]", line: 2, "[[a]] conflicts with table [a] (line 1)"),
        ErrorCase("a = []\n[[a]]", line: 2, #"key "a" is already a value (line 1)"#),
        ErrorCase(
            "[[t.a]]\n[t]\na.b = 1", line: 3, #"key "a" is an array of tables (line 1); dotted keys cannot add to it"#),
        ErrorCase("a = {b = 1}\na.c = 2", line: 2, #"key "a" is already a value (line 1)"#),
        ErrorCase("a = {b = 1}\n[a.c]", line: 2, #"key "a" is already a value (line 1)"#),
        ErrorCase("p = {a = {b = 1}, a.c = 2}", line: 1, #"key "a" is already a value"#),
        ErrorCase("a = 1\n\"a\".b = 2", line: 2, #"key "a" is already a value"#),
        ErrorCase("\"x y\" = {}\n[\"x y\".z]", line: 2, #"key "x y" is already a value"#),
    ]

    static let syntaxCases: [ErrorCase] = [
        ErrorCase("quality 80", line: 1, #"expected '=' after key "quality", found '8'"#, column: 9),
        ErrorCase("\n\ncam.quality", line: 3, #"expected '=' after key "cam.quality", found end of file"#),
        ErrorCase("quality =\nx = 1", line: 1, #"missing value for key "quality""#, column: 10),
        ErrorCase("quality = # later", line: 1, #"missing value for key "quality""#),
        ErrorCase("= 1", line: 1, "expected a key, found '='"),
        ErrorCase("a. = 1", line: 1, #"expected a key after "a.", found '='"#),
        ErrorCase("\"\"\"k\"\"\" = 1", line: 1, "multi-line string cannot be used as a key"),
        ErrorCase("a = @", line: 1, "expected a value, found '@'", column: 5),
        ErrorCase("s = \"abc", line: 1, "unterminated string", column: 5),
        ErrorCase("x = 1\n\ns = \"abc\n\"", line: 3, "unterminated string"),
        ErrorCase("k = 'abc\n'", line: 1, "unterminated string"),
        ErrorCase("s = \"\"\"abc\n\ndef", line: 1, "unterminated multi-line string (missing closing \"\"\")"),
        ErrorCase("s = '''abc\n", line: 1, "unterminated multi-line string (missing closing ''')"),
        ErrorCase("s = \"\"\"abc\"\"\"\"\"\"", line: 1, "too many quotes"),
        ErrorCase("a = [1, 2,\n  3\n", line: 1, "unterminated array (missing ']')", column: 5),
        ErrorCase("a = [1, 2\n\nb = 3", line: 3, "expected ',' or ']' in array, found 'b'"),
        ErrorCase("a = [1 2]", line: 1, "expected ',' or ']' in array, found '2'"),
        ErrorCase("a = [,]", line: 1, "expected a value before ','"),
        ErrorCase("a = [1,,2]", line: 1, "expected a value between ','"),
        ErrorCase("a = 1 2", line: 1, "unexpected '2' after value", column: 7),
        ErrorCase("a = \"x\" y", line: 1, "unexpected 'y' after value"),
        ErrorCase("a = true false", line: 1, "unexpected 'f' after value"),
        ErrorCase("[a] b", line: 1, "unexpected 'b' after table header"),
        ErrorCase("[a", line: 1, "expected ']' to close [a]"),
        ErrorCase("[[a]", line: 1, "expected ']]' to close [[a]]"),
        ErrorCase("[[a] ]", line: 1, "expected ']]' to close [[a]]"),
        ErrorCase("[]", line: 1, "expected a key, found ']'"),
        ErrorCase("a = {b = 1,}", line: 1, "trailing comma is not allowed in an inline table"),
        ErrorCase("a = {b = 1\n}", line: 1, "unterminated inline table", column: 5),
        ErrorCase("a = {b = 1 c = 2}", line: 1, "expected ',' or '}' in inline table, found 'c'"),
        ErrorCase("a = {b = }", line: 1, #"missing value for key "b""#),
        ErrorCase(#"s = "a\qb""#, line: 1, #"invalid escape sequence \q"#, column: 7),
        ErrorCase(#"s = "a\ b""#, line: 1, "invalid escape sequence ' '"),
        ErrorCase(#"s = "\e""#, line: 1, #"invalid escape sequence \e"#),
        ErrorCase(#"s = "\x41""#, line: 1, #"invalid escape sequence \x"#),
        ErrorCase(#"s = "\uD800""#, line: 1, "U+D800 is not a valid Unicode scalar value"),
        ErrorCase(#"s = "\U00110000""#, line: 1, "U+110000 is not a valid Unicode scalar value"),
        ErrorCase(#"s = "\u12""#, line: 1, #"invalid escape \u: expected 4 hex digits, found 2"#),
        ErrorCase(#"s = """a\"#, line: 1, "unterminated string (ends with '\\')"),
        ErrorCase("s = \"a\u{7}b\"", line: 1, "control character U+0007 in string", column: 7),
        ErrorCase("s = 'a\u{7F}'", line: 1, "control character U+007F in string"),
        ErrorCase("s = \"\"\"a\u{0}\"\"\"", line: 1, "control character U+0000 in string"),
        ErrorCase("x = 1 # bell\u{7}", line: 1, "control character U+0007 in comment"),
        ErrorCase("\u{1B}a = 1", line: 1, "expected a key, found control character U+001B"),
        ErrorCase("a = 1\rb = 2", line: 1, "carriage return (U+000D) must be followed by a line feed"),
        ErrorCase("s = \"\"\"a\rb\"\"\"", line: 1, "carriage return"),
        ErrorCase("a = 1\n€ = 2", line: 2, "expected a key, found '€' (U+20AC)"),
    ]

    static let valueCases: [ErrorCase] = [
        ErrorCase("v = 012", line: 1, "invalid number 012 (leading zeros are not allowed)", column: 5),
        ErrorCase("v = -01", line: 1, "leading zeros"),
        ErrorCase("v = 01.5", line: 1, "leading zeros"),
        ErrorCase("v = 1__0", line: 1, "invalid number 1__0"),
        ErrorCase("v = _1", line: 1, "invalid number _1"),
        ErrorCase("v = 1_", line: 1, "invalid number 1_"),
        ErrorCase("v = 0x", line: 1, "invalid number 0x"),
        ErrorCase("v = 0x_1", line: 1, "invalid number 0x_1"),
        ErrorCase("v = +0x1", line: 1, "invalid number +0x1"),
        ErrorCase("v = 0X1", line: 1, "invalid number 0X1"),
        ErrorCase("v = 0b102", line: 1, "invalid number 0b102"),
        ErrorCase("v = 0o8", line: 1, "invalid number 0o8"),
        ErrorCase("v = 1.", line: 1, "invalid number 1."),
        ErrorCase("v = .5", line: 1, "invalid number .5"),
        ErrorCase("v = 1e", line: 1, "invalid number 1e"),
        ErrorCase("v = 1.e5", line: 1, "invalid number 1.e5"),
        ErrorCase("v = 1._5", line: 1, "invalid number 1._5"),
        ErrorCase("v = 1.5_", line: 1, "invalid number 1.5_"),
        ErrorCase("v = 9223372036854775808", line: 1, "out of range for a 64-bit integer"),
        ErrorCase("v = -9223372036854775809", line: 1, "out of range for a 64-bit integer"),
        ErrorCase("v = 0x8000000000000000", line: 1, "out of range for a 64-bit integer"),
        ErrorCase("v = 1e400", line: 1, "out of range for a 64-bit float"),
        ErrorCase("v = infinity", line: 1, "invalid number infinity"),
        ErrorCase("v = truex", line: 1, "invalid number truex"),
        ErrorCase("v = TRUE", line: 1, "invalid number TRUE"),
        ErrorCase("v = 1979-13-01", line: 1, "invalid date-time 1979-13-01"),
        ErrorCase("v = 1979-02-30", line: 1, "invalid date-time"),
        ErrorCase("v = 2023-02-29", line: 1, "invalid date-time"),
        ErrorCase("v = 1979-05-00", line: 1, "invalid date-time"),
        ErrorCase("v = 24:00:00", line: 1, "invalid date-time 24:00:00"),
        ErrorCase("v = 07:32", line: 1, "invalid date-time 07:32"),
        ErrorCase("v = 07:32:00Z", line: 1, "invalid date-time"),
        ErrorCase("v = 07:32:00.", line: 1, "invalid date-time"),
        ErrorCase("v = 1979-05-27T07:32:00+25:00", line: 1, "invalid date-time"),
        ErrorCase("v = 1979-05-27T07:32:00+05", line: 1, "invalid date-time"),
        ErrorCase("v = 1979-05-27X07:32:00", line: 1, "invalid date-time"),
        ErrorCase("v = 1979-05-27T", line: 1, "invalid date-time"),
        ErrorCase("v = 1979-5-27", line: 1, "invalid date-time 1979-5-27"),
    ]

    static func check(_ c: ErrorCase) {
        guard let error = parseError(c.source) else {
            Issue.record("expected an error for \(c.source.debugDescription)")
            return
        }
        #expect(error.line == c.line, "\(error)")
        #expect(error.message.contains(c.message), "\(error)")
        if let column = c.column {
            #expect(error.column == column, "\(error)")
        }
    }

    @Test(arguments: structureCases)
    func structureErrors(_ c: ErrorCase) { Self.check(c) }

    @Test(arguments: syntaxCases)
    func syntaxErrors(_ c: ErrorCase) { Self.check(c) }

    @Test(arguments: valueCases)
    func valueErrors(_ c: ErrorCase) { Self.check(c) }
}

@Suite("Limits")
struct LimitTests {
    static func nestedArrays(_ n: Int) -> String {
        "a = " + String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n)
    }

    static func nestedInlineTables(_ n: Int) -> String {
        "a = " + String(repeating: "{ b = ", count: n - 1) + "{}" + String(repeating: " }", count: n - 1)
    }

    @Test func arrayNesting() throws {
        var v = try #require(try TOML.parse(Self.nestedArrays(64))["a"])
        for _ in 1..<64 { v = try #require(v.arrayValue?.first) }
        #expect(v.arrayValue?.first?.kind == .integer(1))
        let error = try #require(parseError(Self.nestedArrays(65)))
        #expect(error.message.contains("deeper than 64"))
        #expect((error.line, error.column) == (1, 69))
        // A huge nesting fails cleanly rather than exhausting the stack.
        #expect(parseError(Self.nestedArrays(100_000))?.message.contains("deeper than 64") == true)
    }

    @Test func inlineTableNesting() throws {
        _ = try TOML.parse(Self.nestedInlineTables(64))
        #expect(parseError(Self.nestedInlineTables(65))?.message.contains("deeper than 64") == true)
        #expect(parseError(Self.nestedInlineTables(50_000))?.message.contains("deeper than 64") == true)
    }

    @Test func tableNesting() throws {
        let path64 = (1...64).map { "t\($0)" }.joined(separator: ".")
        _ = try TOML.parse("[\(path64)]\nx = 1")
        let error = try #require(parseError("\n[\(path64).t65]"))
        #expect(error.line == 2)
        #expect(error.message.contains("deeper than 64"))
        #expect(parseError("\(path64).t65.x = 1")?.message.contains("deeper than 64") == true)
        // Table depth and value depth add up.
        let path60 = (1...60).map { "t\($0)" }.joined(separator: ".")
        _ = try TOML.parse("[\(path60)]\na.b.c.d = [1]\nx.y.z.w.v = 1")
        #expect(parseError("[\(path60)]\na.b.c.d = [[1]]")?.message.contains("deeper than 64") == true)
        #expect(parseError("[\(path60)]\na.b.c.d.e.f = 1")?.message.contains("deeper than 64") == true)
    }

    @Test func inputSize() throws {
        let line = "# " + String(repeating: "x", count: 1021) + "\n"  // 1024 bytes
        let exactly1MiB = String(repeating: line, count: 1024)
        #expect(exactly1MiB.utf8.count == TOML.maximumInputSize)
        #expect(try TOML.parse(exactly1MiB).entries.isEmpty)
        let error = try #require(parseError(exactly1MiB + " "))
        #expect((error.line, error.column) == (1, 1))
        #expect(error.message.contains("too large"))
    }

    @Test func longSingleLineStaysFast() throws {
        let n = 150_000
        let doc = "a = [" + String(repeating: "1,", count: n) + "]"
        let values = try #require(try TOML.parse(doc)["a"]?.arrayValue)
        #expect(values.count == n)
        #expect(values.last?.column == 6 + 2 * (n - 1))
    }

    @Test func manyArrayTableElements() throws {
        let doc = String(repeating: "[[m]]\nx = 1\n", count: 50_000)
        #expect(try TOML.parse(doc)["m"]?.arrayValue?.count == 50_000)
    }
}
