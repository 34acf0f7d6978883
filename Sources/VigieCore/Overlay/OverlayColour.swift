/// A colour as the frames hold it: BT.601 full-range YCbCr, the space the JPEG snapshots are encoded in.
public struct OverlayColour: Sendable, Hashable {
    public var luma: UInt8
    public var cb: UInt8
    public var cr: UInt8

    public init(luma: UInt8, cb: UInt8, cr: UInt8) {
        self.luma = luma
        self.cb = cb
        self.cr = cr
    }

    /// The YCbCr of an sRGB colour (0…255 each), rounded and clamped.
    public init(red: Double, green: Double, blue: Double) {
        func byte(_ value: Double) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
        luma = byte(0.299 * red + 0.587 * green + 0.114 * blue)
        cb = byte(128 - 0.168736 * red - 0.331264 * green + 0.5 * blue)
        cr = byte(128 + 0.5 * red - 0.418688 * green - 0.081312 * blue)
    }
}

/// The colours of the commissioning picture, chosen to stand out on a street (grey asphalt, green foliage, sky,
/// brick, white road markings) and from each other: white masks, yellow motion zones, red intrusion zones,
/// magenta density zones, cyan lines, each with a near-black border so it shows on light and dark ground.
///
/// On a GREY (luma-only) camera only the lightness remains: red and magenta look alike, and the names tell them
/// apart.
public enum OverlayPalette {
    /// Privacy masks' outlines.
    public static let mask = OverlayColour(luma: 255, cb: 128, cr: 128)
    /// Lines and their arrows.
    public static let line = OverlayColour(red: 0, green: 230, blue: 255)
    /// The border around every stroke and the ground under every name.
    public static let border = OverlayColour(luma: 16, cb: 128, cr: 128)

    /// The colour of a zone of `kind`.
    public static func zone(_ kind: Zone.Kind) -> OverlayColour {
        switch kind {
        case .motion: OverlayColour(red: 255, green: 220, blue: 0)
        case .intrusion: OverlayColour(red: 255, green: 40, blue: 40)
        case .density: OverlayColour(red: 255, green: 0, blue: 255)
        }
    }
}
