/// Why a Y4M stream could not be read. Each case says where, so a technician can fix the file.
public enum Y4MError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case readFailed(name: String, errno: Int32)
    case notY4M(name: String)
    case headerTooLong(name: String, limit: Int)
    case malformedField(name: String, field: String, reason: String)
    case missingField(name: String, field: Character)
    case unsupportedColourSpace(name: String, value: String)
    case badFrameMarker(name: String, frame: Int)
    case truncatedFrame(name: String, frame: Int, got: Int, expected: Int)
    case geometryMismatch(name: String)
    case truncatedLine(name: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let errno): "\(path): cannot open (\(SystemError.describe(errno)))"
        case .readFailed(let name, let errno): "\(name): read failed (\(SystemError.describe(errno)))"
        case .notY4M(let name): "\(name): not a Y4M stream (no YUV4MPEG2 signature)"
        case .headerTooLong(let name, let limit): "\(name): header line longer than \(limit) bytes"
        case .malformedField(let name, let field, let reason): "\(name): header field \(field): \(reason)"
        case .missingField(let name, let field): "\(name): header has no \(field) field"
        case .unsupportedColourSpace(let name, let value):
            "\(name): colour space C\(value) is not supported (use 420, 420jpeg, 420paldv, 420mpeg2 or mono)"
        case .badFrameMarker(let name, let frame): "\(name): frame \(frame) does not start with FRAME"
        case .truncatedFrame(let name, let frame, let got, let expected):
            "\(name): frame \(frame) is truncated (\(got) of \(expected) bytes)"
        case .geometryMismatch(let name): "\(name): frame buffer does not match the stream's geometry"
        case .truncatedLine(let name): "\(name): stream ends in the middle of a header or FRAME line"
        }
    }
}
