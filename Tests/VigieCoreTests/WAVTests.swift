import Testing
import VigieCore

@Suite("WAV clips")
struct WAVTests {
    static func header(
        format: UInt16 = 1, channels: UInt16 = 1, rate: UInt32 = 16000, bits: UInt16 = 16, dataBytes: Int
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        bytes += Array("RIFF".utf8)
        u32(UInt32(36 + dataBytes))
        bytes += Array("WAVEfmt ".utf8)
        u32(16)
        u16(format)
        u16(channels)
        u32(rate)
        u32(rate * UInt32(channels) * UInt32(bits / 8))
        u16(channels * bits / 8)
        u16(bits)
        bytes += Array("data".utf8)
        u32(UInt32(dataBytes))
        return bytes
    }

    @Test(arguments: [(8000, 1), (11025, 2), (22050, 1), (44100, 2), (48000, 1)])
    func roundTrip(rate: Int, channels: Int) throws {
        let samples = (0..<(rate / 10 * channels)).map { Int16(truncatingIfNeeded: $0 * 37 - 9000) }
        let audio = PCMAudio(sampleRate: rate, channels: channels, samples: samples)
        let parsed = try WAV.parse(WAV.encode(audio), name: "clip.wav")
        #expect(parsed == audio)
        #expect(parsed.duration == Double(rate / 10) / Double(rate))
    }

    @Test func skipsUnknownChunksAndOddPadding() throws {
        var bytes = Self.header(dataBytes: 4)
        // A 3-byte LIST chunk (padded to 4) between fmt and data.
        let list: [UInt8] = Array("LIST".utf8) + [3, 0, 0, 0, 1, 2, 3, 0]
        bytes.insert(contentsOf: list, at: 36)
        bytes += [0x01, 0x00, 0xFF, 0xFF]
        let audio = try WAV.parse(bytes, name: "list.wav")
        #expect(audio.samples == [1, -1])
    }

    @Test func refusesWhatIsNotSixteenBitPCM() {
        #expect(throws: WAVError.unsupportedFormat(name: "f.wav", reason: "8-bit samples")) {
            try WAV.parse(Self.header(bits: 8, dataBytes: 0), name: "f.wav")
        }
        #expect(throws: WAVError.unsupportedFormat(name: "f.wav", reason: "format code 3 is not PCM")) {
            try WAV.parse(Self.header(format: 3, dataBytes: 0), name: "f.wav")
        }
        #expect(throws: WAVError.unsupportedFormat(name: "f.wav", reason: "6 channels")) {
            try WAV.parse(Self.header(channels: 6, dataBytes: 0), name: "f.wav")
        }
        #expect(throws: WAVError.unsupportedFormat(name: "f.wav", reason: "sample rate 1000 Hz")) {
            try WAV.parse(Self.header(rate: 1000, dataBytes: 0), name: "f.wav")
        }
    }

    @Test func refusesBrokenFiles() {
        #expect(throws: WAVError.notWAV(name: "a.wav")) { try WAV.parse(Array("hello world!".utf8), name: "a.wav") }
        #expect(throws: WAVError.notWAV(name: "a.wav")) { try WAV.parse([], name: "a.wav") }
        // The data chunk claims more than the file holds.
        #expect(throws: WAVError.truncated(name: "a.wav", chunk: "data")) {
            try WAV.parse(Self.header(dataBytes: 1000) + [0, 0], name: "a.wav")
        }
        // No data chunk at all.
        #expect(throws: WAVError.missingChunk(name: "a.wav", chunk: "data")) {
            try WAV.parse(Array(Self.header(dataBytes: 0).prefix(36)), name: "a.wav")
        }
        // data before fmt.
        let dataFirst = Array("RIFF".utf8) + [12, 0, 0, 0] + Array("WAVEdata".utf8) + [0, 0, 0, 0]
        #expect(throws: WAVError.missingChunk(name: "a.wav", chunk: "fmt ")) {
            try WAV.parse(dataFirst, name: "a.wav")
        }
        // A chunk size that would wrap the offset.
        let huge = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVEJUNK".utf8) + [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: (any Error).self) { try WAV.parse(huge, name: "a.wav") }
    }

    @Test func fuzzedHeadersNeverCrash() {
        var random = SplitMix(seed: 16)
        let valid = WAV.encode(PCMAudio.tone(frequency: 440, seconds: 0.01, sampleRate: 8000))
        for _ in 0..<2000 {
            var bytes = valid
            for _ in 0..<4 {
                let index = Int(random.next() % UInt64(min(60, bytes.count)))
                bytes[index] = UInt8(truncatingIfNeeded: random.next())
            }
            bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
            _ = try? WAV.parse(bytes, name: "fuzz.wav")
        }
    }

    @Test func toneHasItsLevelAndLength() {
        let tone = PCMAudio.tone(frequency: 1000, seconds: 0.5, sampleRate: 22050, amplitude: 0.5)
        #expect(tone.frames == 11025)
        #expect(abs(tone.rmsLevel - 0.5 / 2.0.squareRoot()) < 0.01)
    }
}
