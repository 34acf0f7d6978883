import Testing
import VigieCore

/// VigieCore's `SplitMix`, with the helpers the mutations use.
struct SplitMix64 {
    private var generator: SplitMix

    init(state: UInt64) { generator = SplitMix(seed: state) }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform-ish in `0..<n` (n > 0).
    mutating func below(_ n: Int) -> Int {
        Int(next() % UInt64(n))
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }
}

@Suite("Robustness")
struct FuzzTests {
    static let document = #"""
        # Vigie camera configuration
        title = "front \"door\" \u00e9"
        version = 3
        [camera]
        quality = 80
        ratio = 1.5e-3
        hex = 0xff_ff
        neg = -1_000
        night.mode = true
        night.'gain dB' = +inf
        started = 1979-05-27T07:32:00.5-07:00
        local = 1979-05-27 07:32:00
        at = 07:32:00
        day = 2024-02-29

        [camera.stream."main"]
        fps = 15
        codec = 'h264'
        notes = """
        line one \
          continued "quoted" ""
        second\tline"""
        raw = '''
        C:\path\to ''x'' '''

        [[mask]]
        name = "door"
        points = [ # polygon
          [0, 0],
          [10, 0], [10, 10] ,
        ]
        style = { color = "red", width = 2, dash.on = 1, dash.off = 2 }

        [[mask]]
        name = "street"
        points = [[1, 2], [3, 4]]
        [mask.schedule]
        days = ["mon", 'tue', """wed"""]
        mixed = [1, 2.0, true, 1979-05-27, {a = []}, [[]]]
        """#

    /// Bytes that matter to the grammar, plus a few that must be rejected.
    static let alphabet: [[UInt8]] = {
        var pieces: [[UInt8]] = "[]{}\"'=,.#\\_-+:0123456789abefinotuxzTZ \t\n".utf8.map { [$0] }
        pieces += [
            "\r", "\r\n", "\"\"\"", "'''", "[[", "]]", "\\u", "\\U", "é", "日", "😀", "1e", "0x", "inf", "nan",
            "true", "1979-05-27", "07:32:00", "a.b", "= ", "{ ", "[ ",
        ]
        .map { Array($0.utf8) }
        pieces += [[0x00], [0x07], [0x1B], [0x7F], [0xFF], [0xC3]]  // controls and invalid UTF-8 (repaired to U+FFFD)
        return pieces
    }()

    /// Parses and checks the result is sane: an error with a plausible position, or positions all in range.
    static func parseSafely(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let lineCount = text.utf8.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        do {
            let table = try TOML.parse(text)
            checkPositions(table, lines: lineCount)
        } catch {
            #expect(error.line >= 1 && error.line <= lineCount, "\(error) in \(text.debugDescription)")
            #expect(error.column >= 1, "\(error)")
            #expect(!error.message.isEmpty)
        }
    }

    static func checkPositions(_ table: TOMLTable, lines: Int) {
        #expect(table.line >= 1 && table.line <= lines)
        for entry in table.entries {
            #expect(entry.keyLine >= 1 && entry.keyLine <= lines && entry.keyColumn >= 1)
            checkPositions(entry.value, lines: lines)
        }
    }

    static func checkPositions(_ value: TOMLValue, lines: Int) {
        #expect(value.line >= 1 && value.line <= lines && value.column >= 1)
        switch value.kind {
        case .array(let items):
            for item in items { checkPositions(item, lines: lines) }
        case .table(let table):
            checkPositions(table, lines: lines)
        default:
            break
        }
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0...rng.below(4) {
            let n = bytes.count
            switch rng.below(6) {
            case 0 where n > 0:  // replace one byte
                let i = rng.below(n)
                bytes.replaceSubrange(i..<(i + 1), with: rng.pick(alphabet))
            case 1:  // insert a piece
                bytes.insert(contentsOf: rng.pick(alphabet), at: rng.below(n + 1))
            case 2 where n > 0:  // delete a range
                let start = rng.below(n)
                bytes.removeSubrange(start..<min(n, start + 1 + rng.below(12)))
            case 3 where n > 0:  // truncate
                bytes.removeSubrange(rng.below(n)...)
            case 4 where n > 0:  // duplicate a slice elsewhere
                let start = rng.below(n)
                let slice = Array(bytes[start..<min(n, start + 1 + rng.below(40))])
                bytes.insert(contentsOf: slice, at: rng.below(n + 1))
            default:  // flip one byte to anything
                if n > 0 { bytes[rng.below(n)] = UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        return bytes
    }

    @Test func baseDocumentParses() throws {
        let t = try TOML.parse(Self.document)
        #expect(t.keys == ["title", "version", "camera", "mask"])
        #expect(t["title"]?.kind == .string("front \"door\" é"))
        let stream = try #require(t["camera"]?.tableValue?["stream"]?.tableValue?["main"]?.tableValue)
        #expect(stream["notes"]?.kind == .string("line one continued \"quoted\" \"\"\nsecond\tline"))
        #expect(stream["raw"]?.kind == .string("C:\\path\\to ''x'' "))
        #expect(t["mask"]?.arrayValue?.count == 2)
    }

    @Test func everyPrefixParsesOrThrows() {
        let bytes = Array(Self.document.utf8)
        for end in 0...bytes.count {
            Self.parseSafely(Array(bytes[..<end]))
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func mutatedDocumentsParseOrThrow(seed: UInt64) {
        var rng = SplitMix64(state: seed)
        let base = Array(Self.document.utf8)
        var parsed = 0
        for _ in 0..<1_500 {
            let input = Self.mutate(base, &rng)
            Self.parseSafely(input)
            if (try? TOML.parse(String(decoding: input, as: UTF8.self))) != nil { parsed += 1 }
        }
        // The mutations must not be so destructive that nothing parses (or so mild that everything does).
        #expect(parsed > 0 && parsed < 1_500)
    }

    @Test func randomGarbageParsesOrThrows() {
        var rng = SplitMix64(state: 0xC0FFEE)
        for _ in 0..<3_000 {
            var bytes: [UInt8] = []
            for _ in 0..<rng.below(60) { bytes += rng.pick(Self.alphabet) }
            Self.parseSafely(bytes)
        }
    }
}
