/// What a Y4M stream header says.
public struct Y4MHeader: Sendable, Equatable {
    /// Frame size and layout (I420 for the `C420*` colour spaces, GREY for `Cmono`).
    public var geometry: FrameGeometry
    /// Frames per second as a fraction, e.g. 30000/1001.
    public var frameRateNumerator: Int
    public var frameRateDenominator: Int

    /// Frames per second.
    public var framesPerSecond: Double { Double(frameRateNumerator) / Double(frameRateDenominator) }

    /// Parses the header line (without its newline). `name` is used in errors.
    public init(line: ArraySlice<UInt8>, name: String) throws(Y4MError) {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        guard let magic = fields.first, String(decoding: magic, as: UTF8.self) == "YUV4MPEG2" else {
            throw .notY4M(name: name)
        }
        var width: Int?
        var height: Int?
        var rate = (25, 1)
        var format = PixelFormat.i420
        for field in fields.dropFirst() {
            let tag = Character(UnicodeScalar(field[field.startIndex]))
            let value = String(decoding: field.dropFirst(), as: UTF8.self)
            switch tag {
            case "W": width = try Self.dimension(value, field: "W", name: name)
            case "H": height = try Self.dimension(value, field: "H", name: name)
            case "F":
                let parts = value.split(separator: ":")
                guard parts.count == 2, let num = Int(parts[0]), let den = Int(parts[1]), num > 0, den > 0,
                    num <= 1_000_000, den <= 1_000_000, Double(num) / Double(den) <= 1000
                else {
                    throw .malformedField(
                        name: name, field: "F", reason: "frame rate '\(value)' is not N:D with N, D > 0")
                }
                rate = (num, den)
            case "C":
                switch value {
                case "420", "420jpeg", "420paldv", "420mpeg2": format = .i420
                case "mono": format = .grey
                default: throw .unsupportedColourSpace(name: name, value: value)
                }
            default: continue  // I (interlacing), A (aspect), X (comments) do not change the pixels.
            }
        }
        guard let width else { throw .missingField(name: name, field: "W") }
        guard let height else { throw .missingField(name: name, field: "H") }
        do {
            geometry = try FrameGeometry(format: format, width: width, height: height)
        } catch {
            throw .malformedField(name: name, field: "W/H", reason: error.description)
        }
        frameRateNumerator = rate.0
        frameRateDenominator = rate.1
    }

    public init(geometry: FrameGeometry, frameRateNumerator: Int, frameRateDenominator: Int) {
        self.geometry = geometry
        self.frameRateNumerator = frameRateNumerator
        self.frameRateDenominator = frameRateDenominator
    }

    /// The header line as written to a stream, with its newline.
    public var line: String {
        let colour = geometry.format == .grey ? "mono" : "420jpeg"
        return
            "YUV4MPEG2 W\(geometry.width) H\(geometry.height) F\(frameRateNumerator):\(frameRateDenominator) Ip A1:1 C\(colour)\n"
    }

    private static func dimension(_ value: String, field: String, name: String) throws(Y4MError) -> Int {
        guard let number = Int(value), number > 0, number <= FrameGeometry.maximumSide else {
            throw .malformedField(
                name: name, field: field, reason: "'\(value)' is not a size from 1 to \(FrameGeometry.maximumSide)")
        }
        return number
    }
}
