/// Why a WAV file could not be read. Each case names the file, so a technician can find the bad clip.
public enum WAVError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotRead(name: String, reason: String)
    case tooLarge(name: String, limit: Int)
    case notWAV(name: String)
    case truncated(name: String, chunk: String)
    case missingChunk(name: String, chunk: String)
    case unsupportedFormat(name: String, reason: String)

    /// The file's name, as given to the reader.
    public var name: String {
        switch self {
        case .cannotRead(let name, _), .tooLarge(let name, _), .notWAV(let name), .truncated(let name, _),
            .missingChunk(let name, _), .unsupportedFormat(let name, _):
            name
        }
    }

    /// What is wrong, without the file's name.
    public var reason: String {
        switch self {
        case .cannotRead(_, let reason): reason
        case .tooLarge(_, let limit): "larger than \(limit) bytes"
        case .notWAV: "not a WAV file (no RIFF/WAVE header)"
        case .truncated(_, let chunk): "the '\(chunk)' chunk is cut short"
        case .missingChunk(_, let chunk): "no '\(chunk)' chunk"
        case .unsupportedFormat(_, let reason): "\(reason) (use 16-bit PCM, mono or stereo)"
        }
    }

    public var description: String { "\(name): \(reason)" }
}

/// RIFF/WAVE files of 16-bit PCM: read (clips) and written (`vigie say --output`).
///
/// Reading is bounded: at most `maximumBytes`, at most 64 chunks walked, sample rates 8000 to 192000 Hz, mono or
/// stereo. `WAVE_FORMAT_EXTENSIBLE` is accepted when its sub-format is PCM. Unknown chunks (`LIST`, `fact`…) are
/// skipped.
public enum WAV {
    /// Largest WAV file read: about 6 minutes of 48 kHz stereo.
    public static let maximumBytes = 64 << 20
    static let maximumChunks = 64

    /// Reads and parses the file at `path`; errors name it by `name` (the file's name, not a full path).
    public static func read(path: String, name: String, limit: Int = maximumBytes) throws(WAVError) -> PCMAudio {
        let bytes: [UInt8]
        do {
            bytes = try TextFile.bytes(path: path, limit: limit)
        } catch {
            if case .tooLarge = error { throw .tooLarge(name: name, limit: limit) }
            throw .cannotRead(name: name, reason: error.description)
        }
        return try parse(bytes, name: name)
    }

    /// Parses a whole WAV file.
    public static func parse(_ bytes: [UInt8], name: String) throws(WAVError) -> PCMAudio {
        guard bytes.count <= maximumBytes else { throw .tooLarge(name: name, limit: maximumBytes) }
        guard bytes.count >= 12, tag(bytes, 0) == "RIFF", tag(bytes, 8) == "WAVE" else { throw .notWAV(name: name) }
        var offset = 12
        var format: (channels: Int, rate: Int)?
        var chunks = 0
        while offset + 8 <= bytes.count {
            chunks += 1
            guard chunks <= maximumChunks else {
                throw .unsupportedFormat(name: name, reason: "more than \(maximumChunks) chunks")
            }
            let id = tag(bytes, offset)
            let size = Int(le32(bytes, offset + 4))
            let body = offset + 8
            switch id {
            case "fmt ":
                guard size >= 16, body + 16 <= bytes.count else { throw .truncated(name: name, chunk: id) }
                var code = Int(le16(bytes, body))
                let channels = Int(le16(bytes, body + 2))
                let rate = Int(le32(bytes, body + 4))
                let bits = Int(le16(bytes, body + 14))
                if code == 0xFFFE {
                    // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
                    guard size >= 40, body + 40 <= bytes.count else { throw .truncated(name: name, chunk: id) }
                    code = Int(le16(bytes, body + 24))
                }
                guard code == 1 else {
                    throw .unsupportedFormat(name: name, reason: "format code \(code) is not PCM")
                }
                guard bits == 16 else { throw .unsupportedFormat(name: name, reason: "\(bits)-bit samples") }
                guard channels == 1 || channels == 2 else {
                    throw .unsupportedFormat(name: name, reason: "\(channels) channels")
                }
                guard (8000...192_000).contains(rate) else {
                    throw .unsupportedFormat(name: name, reason: "sample rate \(rate) Hz")
                }
                format = (channels, rate)
            case "data":
                guard let format else { throw .missingChunk(name: name, chunk: "fmt ") }
                // Some writers leave the size at 0 or 0xFFFFFFFF when they stream: take what is there.
                let available = bytes.count - body
                let length = size == 0 || size == 0xFFFF_FFFF ? available : size
                guard length <= available else { throw .truncated(name: name, chunk: id) }
                let frameBytes = 2 * format.channels
                let count = (length / frameBytes) * format.channels
                var samples = [Int16](repeating: 0, count: count)
                for index in 0..<count {
                    samples[index] = Int16(bitPattern: le16(bytes, body + 2 * index))
                }
                return PCMAudio(sampleRate: format.rate, channels: format.channels, samples: samples)
            default:
                break
            }
            // Chunks are padded to an even size.
            let (next, overflow) = body.addingReportingOverflow(size + (size & 1))
            guard !overflow else { throw .truncated(name: name, chunk: id) }
            offset = next
        }
        throw .missingChunk(name: name, chunk: format == nil ? "fmt " : "data")
    }

    /// A canonical 44-byte-header WAV file of `audio`.
    public static func encode(_ audio: PCMAudio) -> [UInt8] {
        let dataBytes = audio.samples.count * 2
        var bytes: [UInt8] = []
        bytes.reserveCapacity(44 + dataBytes)
        func append32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { bytes += $0 } }
        func append16(_ value: Int) { withUnsafeBytes(of: UInt16(value).littleEndian) { bytes += $0 } }
        bytes += Array("RIFF".utf8)
        append32(36 + dataBytes)
        bytes += Array("WAVEfmt ".utf8)
        append32(16)
        append16(1)
        append16(audio.channels)
        append32(audio.sampleRate)
        append32(audio.sampleRate * audio.channels * 2)
        append16(audio.channels * 2)
        append16(16)
        bytes += Array("data".utf8)
        append32(dataBytes)
        for sample in audio.samples { append16(Int(UInt16(bitPattern: sample))) }
        return bytes
    }

    private static func tag(_ bytes: [UInt8], _ offset: Int) -> String {
        String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
    }

    private static func le16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    private static func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(le16(bytes, offset)) | UInt32(le16(bytes, offset + 2)) << 16
    }
}
