/// The framing a unit was commissioned with: the `width` × `height` of `[source]`, for which the privacy masks
/// were drawn on site.
///
/// Masks are fractions of the image, so they land on the same part of the scene at any size of the same
/// aspect ratio, and on the wrong part at any other. A camera that delivers another aspect ratio (a 4:3 mode
/// when 16:9 was asked, another camera plugged into the same node) is refused; the same aspect at another size
/// is accepted and the masks are rasterised again for that size.
public struct CameraFraming: Sendable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    /// Largest relative difference between two aspect ratios taken as the same: 1920×1088 against 1920×1080
    /// (0.7 %) is refused, since the masks would drift by eight rows.
    public static let aspectTolerance = 0.005

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// What a camera's delivered size means for the masks.
    public enum Verdict: Sendable, Equatable {
        /// The size asked for.
        case exact
        /// Another size of the same aspect ratio: the masks are redrawn for it.
        case rescaled
        /// Another aspect ratio: the masks would cover the wrong part of the scene.
        case mismatch
    }

    public func check(width: Int, height: Int) -> Verdict {
        if width == self.width && height == self.height { return .exact }
        guard width > 0, height > 0, self.width > 0, self.height > 0 else { return .mismatch }
        let commissioned = Double(self.width) / Double(self.height)
        let delivered = Double(width) / Double(height)
        return abs(delivered - commissioned) / commissioned <= Self.aspectTolerance ? .rescaled : .mismatch
    }

    public var description: String { "\(width)x\(height)" }
}

/// Who a camera is, as far as the kernel says: driver, card name, bus position and, for USB cameras, the
/// serial number. Remembered in the state folder so that another camera plugged into the same node is noticed.
public struct CameraIdentity: Sendable, Hashable, CustomStringConvertible {
    public var driver: String
    public var card: String
    public var bus: String
    /// The USB serial number, where the device has one.
    public var serial: String?

    public init(driver: String, card: String, bus: String, serial: String? = nil) {
        self.driver = driver
        self.card = card
        self.bus = bus
        self.serial = serial
    }

    public var description: String {
        "\(card) (\(driver), \(bus)\(serial.map { ", serial \($0)" } ?? ""))"
    }

    /// One `key=value` line per field, as stored in the state folder.
    public var encoded: String {
        var text = "driver=\(Self.clean(driver))\ncard=\(Self.clean(card))\nbus=\(Self.clean(bus))\n"
        if let serial { text += "serial=\(Self.clean(serial))\n" }
        return text
    }

    /// Reads `encoded`; `nil` for anything else (a damaged file is treated as no record: the camera present
    /// is then recorded anew, which is logged).
    public init?(encoded text: String) {
        var fields: [Substring: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { return nil }
            fields[line[..<equals]] = String(line[line.index(after: equals)...])
        }
        guard let driver = fields["driver"], let card = fields["card"], let bus = fields["bus"],
            fields.count == (fields["serial"] == nil ? 3 : 4)
        else { return nil }
        self.init(driver: driver, card: card, bus: bus, serial: fields["serial"])
    }

    /// Keeps a value on one line.
    private static func clean(_ value: String) -> String {
        String(value.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}
