import Testing
import VigieCore

/// The seeded generator is VigieCore's `SplitMix`.
typealias SeededGenerator = SplitMix

// MARK: A tiny serializer

struct Serializer {
    /// Write non-ASCII characters as `\u` escapes (surrogate pairs above U+FFFF).
    var escapeNonASCII = false
    /// Put whitespace around structural characters.
    var spaced = false

    func serialize(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    private func write(_ value: JSONValue, to out: inout String) {
        let gap = spaced ? " \n\t\r " : ""
        switch value {
        case .null: out += "null"
        case .bool(let bool): out += bool ? "true" : "false"
        case .number(let number): out += "\(number)"  // shortest round-trip form, always valid JSON when finite
        case .string(let string): writeString(string, to: &out)
        case .array(let elements):
            out += "[" + gap
            for (index, element) in elements.enumerated() {
                if index > 0 { out += gap + "," + gap }
                write(element, to: &out)
            }
            out += gap + "]"
        case .object(let members):
            out += "{" + gap
            for (index, member) in members.enumerated() {
                if index > 0 { out += gap + "," + gap }
                writeString(member.key, to: &out)
                out += gap + ":" + gap
                write(member.value, to: &out)
            }
            out += gap + "}"
        }
    }

    private func hex4(_ unit: UInt32) -> String {
        let text = String(unit, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - text.count) + text
    }

    private func writeString(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x2F where escapeNonASCII: out += "\\/"
            case 0..<0x20: out += hex4(scalar.value)
            case 0x80..<0x10000 where escapeNonASCII: out += hex4(scalar.value)
            case 0x10000... where escapeNonASCII:
                let offset = scalar.value - 0x10000
                out += hex4(0xD800 + (offset >> 10)) + hex4(0xDC00 + (offset & 0x3FF))
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

// MARK: Random values

struct ValueGenerator {
    var rng: SeededGenerator

    mutating func scalar() -> Unicode.Scalar {
        let ranges: [ClosedRange<UInt32>] = [
            0x20...0x7E, 0x20...0x7E, 0x00...0x1F, 0x7F...0x7FF, 0x800...0xD7FF,
            0xE000...0xFFFF, 0x10000...0x10FFFF, 0x22...0x22, 0x5C...0x5C,
        ]
        let range = ranges.randomElement(using: &rng)!
        return Unicode.Scalar(UInt32.random(in: range, using: &rng))!
    }

    mutating func string() -> String {
        var result = ""
        for _ in 0..<Int.random(in: 0...12, using: &rng) { result.unicodeScalars.append(scalar()) }
        return result
    }

    mutating func number() -> Double {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return Double(Int.random(in: -(1 << 53)...(1 << 53), using: &rng))
        case 1: return Double(Int.random(in: -1000...1000, using: &rng)) / 8
        case 2: return Double.random(in: -1e6...1e6, using: &rng)
        default:
            while true {
                let number = Double(bitPattern: rng.next())
                if number.isFinite { return number }
            }
        }
    }

    mutating func value(depth: Int) -> JSONValue {
        let kinds = depth >= 5 ? 4 : 6
        switch Int.random(in: 0..<kinds, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(number())
        case 3: return .string(string())
        case 4: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1) })
        default:
            var members: [(key: String, value: JSONValue)] = []
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                let key = string()
                if !members.contains(where: { $0.key == key }) {
                    members.append((key: key, value: value(depth: depth + 1)))
                }
            }
            return .object(members)
        }
    }
}

/// Equality that also requires strings to be identical scalar by scalar (not just canonically equivalent).
func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(identical)
    case (.object(let x), .object(let y)):
        return x.count == y.count
            && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && identical($0.value, $1.value) }
    default: return a == b
    }
}

// MARK: Tests

@Suite("JSON fuzz") struct JSONFuzzTests {
    static let seeds: [String] = [
        #"{"cmd":"snapshot","id":42,"args":{"width":1920,"height":1080,"hdr":true,"zones":[[0,0],[1.5,-2e3]]}}"#,
        #"[null,true,false,-0.0,1e-7,"\u00e9\ud83d\ude00\n\t\\\"",{},[],{"a":[{"b":null}]}]"#,
        #"  {"é":"€😀", "ctl":"\u0000\u001f", "n":[0,-1,12345678901234567890,3.14159e+10]}  "#,
        #""just a string with \/ and \b\f\r""#,
    ]

    /// Bytes that tend to reach interesting parser states.
    static let interesting: [UInt8] =
        Array(#"{}[],:"\/-+.eE0123456789 tfnu"#.utf8)
        + [0x00, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]

    /// Checks the parser's contract on `bytes`: it returns or throws `JSONParseError` with a sane
    /// offset; what it accepts survives a serialize/parse round trip. Returns whether it parsed.
    @discardableResult
    static func check(_ bytes: [UInt8], limits: JSONLimits = JSONLimits()) -> Bool {
        do {
            let value = try JSON.parse(bytes, limits: limits)
            let again = try? JSON.parse(Serializer().serialize(value), limits: JSONLimits())
            #expect(again.map { identical($0, value) } == true, "round trip of accepted \(bytes)")
            return true
        } catch {
            #expect(error.offset >= 0 && error.offset <= max(bytes.count, limits.maximumBytes), "\(error) for \(bytes)")
            #expect(!error.message.isEmpty)
            return false
        }
    }

    @Test func seedsAreValid() throws {
        for seed in Self.seeds { _ = try JSON.parse(seed) }
    }

    @Test(arguments: 0..<4)
    func mutatedDocuments(seedIndex: Int) {
        var rng = SeededGenerator(seed: 0xC0FFEE + UInt64(seedIndex))
        let original = Array(Self.seeds[seedIndex].utf8)
        var accepted = 0
        let tight = limits {
            $0.maximumDepth = 3
            $0.maximumMembers = 4
            $0.maximumStringBytes = 8
        }
        for iteration in 0..<4_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let position = Int.random(in: 0...bytes.count, using: &rng)
                let byte =
                    Bool.random(using: &rng)
                    ? Self.interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0 where position < bytes.count: bytes[position] = byte
                case 1: bytes.insert(byte, at: position)
                case 2 where position < bytes.count: bytes.remove(at: position)
                case 3:  // duplicate a slice, to grow nesting and repeat keys
                    let end = Int.random(in: position...bytes.count, using: &rng)
                    bytes.insert(contentsOf: bytes[position..<min(end, position + 16)], at: position)
                default:  // truncate
                    bytes.removeSubrange(position...)
                }
            }
            if Self.check(bytes) { accepted += 1 }
            if iteration % 4 == 0 { Self.check(bytes, limits: tight) }
        }
        // Sanity: the mutations are not all fatal, so the parser's accepting paths get exercised too.
        #expect(accepted > 50)
    }

    @Test func randomBytes() {
        var rng = SeededGenerator(seed: 0xBAD_5EED)
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...24, using: &rng)
            let wild = Bool.random(using: &rng)
            let bytes = (0..<length).map { _ in
                wild ? UInt8.random(in: 0...255, using: &rng) : Self.interesting.randomElement(using: &rng)!
            }
            if Self.check(bytes) { accepted += 1 }
        }
        #expect(accepted > 100)
    }

    @Test func randomValuesRoundTrip() throws {
        var generator = ValueGenerator(rng: SeededGenerator(seed: 2_026))
        for index in 0..<3_000 {
            let value = generator.value(depth: 0)
            let serializer = Serializer(escapeNonASCII: index % 2 == 1, spaced: index % 3 == 0)
            let text = serializer.serialize(value)
            let parsed = try JSON.parse(text, limits: limits { $0.maximumBytes = 1 << 20 })
            #expect(identical(parsed, value), "\(text)")
        }
    }
}
