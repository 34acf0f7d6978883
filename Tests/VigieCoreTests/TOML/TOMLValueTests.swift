import Testing
import VigieCore

/// Parses `text` as the value of `v = ...` and returns the value.
func value(_ text: String) throws -> TOMLValue {
    let table = try TOML.parse("v = " + text)
    return try #require(table["v"])
}

/// The error thrown for `text`, or nil if it parses.
func parseError(_ text: String) -> TOMLError? {
    do {
        _ = try TOML.parse(text)
        return nil
    } catch {
        return error
    }
}

@Suite("Values and positions")
struct ValueTests {
    @Test func everyKindWithLineAndColumn() throws {
        let doc = """
            # camera settings
            name = "front door"
            count = 42
              ratio = 0.75
            enabled = true
            when = 1979-05-27T07:32:00Z
            list = [1, "two", 3.0]
            point = { x = 1, y = 2 }
            raw = 'C:\\path'
            """
        let t = try TOML.parse(doc)
        #expect(t.keys == ["name", "count", "ratio", "enabled", "when", "list", "point", "raw"])

        let name = try #require(t["name"])
        #expect(name.kind == .string("front door"))
        #expect((name.line, name.column) == (2, 8))
        let nameEntry = try #require(t.entry("name"))
        #expect((nameEntry.keyLine, nameEntry.keyColumn) == (2, 1))

        #expect(t["count"]?.kind == .integer(42))
        #expect(t["count"]?.line == 3)
        #expect(t["ratio"]?.kind == .float(0.75))
        #expect(t["ratio"]?.column == 11)
        #expect(t.entry("ratio")?.keyColumn == 3)
        #expect(t["enabled"]?.kind == .boolean(true))
        #expect(t["when"]?.kind == .dateTime("1979-05-27T07:32:00Z"))
        #expect(t["when"]?.line == 6)

        let list = try #require(t["list"]?.arrayValue)
        #expect(list.map(\.kind) == [.integer(1), .string("two"), .float(3.0)])
        #expect(list.map(\.column) == [9, 12, 19])
        #expect(list.allSatisfy { $0.line == 7 })

        let point = try #require(t["point"])
        #expect((point.line, point.column) == (8, 9))
        let pointTable = try #require(point.tableValue)
        #expect(pointTable.line == 8)
        #expect(pointTable.keys == ["x", "y"])
        #expect(pointTable.entry("y")?.keyColumn == 18)
        #expect(pointTable["y"]?.column == 22)
        #expect(t["raw"]?.kind == .string("C:\\path"))
    }

    @Test func columnsCountUnicodeScalarsNotBytes() throws {
        let t = try TOML.parse("\"café\" = \"é\" # ok\n  \"日本\" = 1")
        #expect(t.entry("café")?.keyColumn == 1)
        #expect(t["café"]?.column == 10)
        #expect(t["café"]?.kind == .string("é"))
        #expect(t["日本"]?.column == 10)
        #expect(t["日本"]?.line == 2)
    }

    @Test func crlfLineEndings() throws {
        let t = try TOML.parse("a = 1\r\n\r\nb = \"x\" # c\r\n[t]\r\nc = 3\r\n")
        #expect(t["b"]?.line == 3)
        let table = try #require(t["t"]?.tableValue)
        #expect(table.line == 4)
        #expect(table["c"]?.line == 5)
    }

    @Test func emptyAndCommentOnlyDocuments() throws {
        #expect(try TOML.parse("").entries.isEmpty)
        #expect(try TOML.parse("# nothing\n\n   \t\n# more").entries.isEmpty)
        #expect(try TOML.parse("\u{FEFF}a = 1")["a"]?.column == 5)
    }

    @Test(arguments: [
        (#""plain""#, "plain"),
        (#""tab\there""#, "tab\there"),
        (#""\b\t\n\f\r\"\\""#, "\u{8}\t\n\u{C}\r\"\\"),
        (#""\u00e9\U0001F600""#, "é😀"),
        (#""""#, ""),
        ("'literal \\n'", "literal \\n"),
        ("''", ""),
        ("\"\"\"\nfirst\nsecond\"\"\"", "first\nsecond"),
        ("\"\"\"one \\\n    two \\\n\n  three\"\"\"", "one two three"),
        ("\"\"\"a \\  \r\n b\"\"\"", "a b"),
        ("\"\"\"x\"\"y\"\"\"\"\"", "x\"\"y\"\""),
        ("\"\"\"\"\"\"", ""),
        ("'''\n raw \\n \"q\" ''x'''", " raw \\n \"q\" ''x"),
        ("'''a\r\nb''''", "a\nb'"),
        ("\"\"\"tab\there\"\"\"", "tab\there"),
    ])
    func strings(source: String, expected: String) throws {
        #expect(try value(source).kind == .string(expected))
    }

    @Test(arguments: [
        ("0", Int64(0)), ("+17", 17), ("-17", -17), ("1_000_000", 1_000_000), ("-0", 0), ("+0", 0),
        ("0xDEAD_beef", 0xDEAD_BEEF), ("0o755", 0o755), ("0b1101", 13), ("0x0", 0),
        ("9223372036854775807", .max), ("-9223372036854775808", .min), ("0x7FFFFFFFFFFFFFFF", .max),
    ])
    func integers(source: String, expected: Int64) throws {
        #expect(try value(source).kind == .integer(expected))
    }

    @Test(arguments: [
        ("1.0", 1.0), ("+1.5", 1.5), ("-0.01", -0.01), ("5e+22", 5e22), ("1e06", 1e6), ("-2E-2", -0.02),
        ("6.626e-34", 6.626e-34), ("224_617.445_991", 224_617.445_991), ("0.0", 0), ("-0.0", -0.0),
        ("1e1_0", 1e10), ("inf", .infinity), ("+inf", .infinity), ("-inf", -.infinity),
    ])
    func floats(source: String, expected: Double) throws {
        #expect(try value(source).kind == .float(expected))
    }

    @Test(arguments: ["nan", "+nan", "-nan"])
    func notANumber(source: String) throws {
        #expect(try value(source).floatValue?.isNaN == true)
    }

    @Test(arguments: [
        "1979-05-27T07:32:00Z", "1979-05-27T00:32:00-07:00", "1979-05-27T00:32:00.999999+05:30",
        "1979-05-27 07:32:00Z", "1979-05-27t07:32:00z", "1979-05-27T07:32:00", "1979-05-27 07:32:00.5",
        "1979-05-27", "07:32:00", "00:32:00.999999", "2024-02-29", "1990-12-31T23:59:60Z",
    ])
    func dateTimesKeptAsWritten(source: String) throws {
        #expect(try value(source).kind == .dateTime(source))
    }

    @Test func dateTimeFollowedByComment() throws {
        let t = try TOML.parse("d = 1979-05-27 # date only\nt = [1979-05-27 07:32:00, 07:32:00]")
        #expect(t["d"]?.kind == .dateTime("1979-05-27"))
        #expect(t["t"]?.arrayValue?.map(\.kind) == [.dateTime("1979-05-27 07:32:00"), .dateTime("07:32:00")])
    }

    @Test func multiLineArraysWithCommentsAndTrailingComma() throws {
        let doc = """
            points = [ # polygon
              [0, 0],  # top left
              [10, 0],
              [ 10, 10 ],
            ]
            empty = [ ]
            mixed = [ 1, 'a', { b = true }, [], 2.5 ]
            """
        let t = try TOML.parse(doc)
        let points = try #require(t["points"]?.arrayValue)
        #expect(points.count == 3)
        #expect(points.map(\.line) == [2, 3, 4])
        #expect(points[2].arrayValue?.map(\.kind) == [.integer(10), .integer(10)])
        #expect(points[2].arrayValue?.map(\.column) == [5, 9])
        #expect(t["empty"]?.arrayValue == [])
        #expect(t["mixed"]?.arrayValue?.count == 5)
        #expect(t["mixed"]?.arrayValue?[2].tableValue?["b"]?.kind == .boolean(true))
    }

    @Test func inlineTables() throws {
        let t = try TOML.parse(#"p = { name = "a", pos.x = 1, pos.y = 2, "q k" = {}, list = [1, 2] }"#)
        let p = try #require(t["p"]?.tableValue)
        #expect(p.keys == ["name", "pos", "q k", "list"])
        #expect(p["pos"]?.tableValue?.keys == ["x", "y"])
        #expect(p["q k"]?.tableValue?.entries.isEmpty == true)
    }
}

@Suite("Tables")
struct TableTests {
    @Test func keyForms() throws {
        let doc = #"""
            bare_key-1 = 1
            "quoted key" = 2
            'literal "key"' = 3
            "" = 4
            1234 = 5
            site."google.com" = 6
            a . b . 'c' = 7
            3.14 = 8
            "\u00e9" = 9
            """#
        let t = try TOML.parse(doc)
        #expect(t.keys == ["bare_key-1", "quoted key", "literal \"key\"", "", "1234", "site", "a", "3", "é"])
        #expect(t["site"]?.tableValue?["google.com"]?.kind == .integer(6))
        #expect(t["a"]?.tableValue?["b"]?.tableValue?["c"]?.kind == .integer(7))
        #expect(t["3"]?.tableValue?["14"]?.kind == .integer(8))
        let c = try #require(t["a"]?.tableValue?["b"]?.tableValue?.entry("c"))
        #expect((c.keyLine, c.keyColumn) == (7, 9))
    }

    @Test func headersAndDottedKeysNest() throws {
        let doc = """
            title = "root"

            [camera]
            quality = 80

            [camera.stream.main]
            fps = 15

            [network]
            wifi.ssid = "site"
            wifi.power.save = true

            [camera.stream.sub] # sub stream
            fps = 5
            """
        let t = try TOML.parse(doc)
        #expect(t.keys == ["title", "camera", "network"])
        let camera = try #require(t["camera"])
        #expect((camera.line, camera.column) == (3, 1))
        #expect(t.entry("camera")?.keyLine == 3)
        #expect(t.entry("camera")?.keyColumn == 2)
        let cameraTable = try #require(camera.tableValue)
        #expect(cameraTable.line == 3)
        #expect(cameraTable.keys == ["quality", "stream"])
        let stream = try #require(cameraTable["stream"]?.tableValue)
        #expect(stream.keys == ["main", "sub"])
        #expect(stream["main"]?.tableValue?.line == 6)
        #expect(stream["sub"]?.tableValue?["fps"]?.kind == .integer(5))
        #expect(stream["sub"]?.tableValue?["fps"]?.line == 14)
        let wifi = try #require(t["network"]?.tableValue?["wifi"]?.tableValue)
        #expect(wifi.line == 10)
        #expect(wifi["power"]?.tableValue?["save"]?.kind == .boolean(true))
    }

    @Test func implicitTableDefinedLater() throws {
        let t = try TOML.parse("[a.b.c]\nx = 1\n\n[a]\ny = 2")
        let a = try #require(t["a"])
        #expect(a.line == 4)
        #expect(t.entry("a")?.keyLine == 4)
        #expect(a.tableValue?.keys == ["b", "y"])
    }

    @Test func subTableUnderDottedTable() throws {
        let t = try TOML.parse("[fruit]\napple.color = \"red\"\n[fruit.apple.texture]\nsmooth = true")
        let apple = try #require(t["fruit"]?.tableValue?["apple"]?.tableValue)
        #expect(apple.keys == ["color", "texture"])
    }

    @Test func arraysOfTables() throws {
        let doc = """
            [[mask]]
            name = "door"
            points = [[0, 0], [5, 5]]

            [[mask]]
            name = "street"
            [mask.schedule]
            from = 08:00:00

            [[mask.zone]]
            id = 1
            [[mask.zone]]
            id = 2

            [[mask]]
            """
        let t = try TOML.parse(doc)
        let masks = try #require(t["mask"]?.arrayValue)
        #expect(masks.count == 3)
        #expect(t["mask"]?.line == 1)
        #expect(masks.map(\.line) == [1, 5, 15])
        #expect(masks.map { $0.tableValue?.line } == [1, 5, 15])
        #expect(masks[0].tableValue?["name"]?.kind == .string("door"))
        let second = try #require(masks[1].tableValue)
        #expect(second.keys == ["name", "schedule", "zone"])
        #expect(second["schedule"]?.tableValue?["from"]?.kind == .dateTime("08:00:00"))
        #expect(second["zone"]?.arrayValue?.map { $0.tableValue?["id"]?.kind } == [.integer(1), .integer(2)])
        #expect(masks[2].tableValue?.entries.isEmpty == true)
        let points = try #require(masks[0].tableValue?["points"]?.arrayValue)
        #expect(points[1].arrayValue?[1].kind == .integer(5))
        #expect(points[1].column == 19)
    }

    @Test func errorDescriptionIsCompilerStyle() {
        let error = TOMLError(line: 12, column: 5, message: "oops")
        #expect("vigie.toml:\(error)" == "vigie.toml:12:5: oops")
    }
}
