/// The pixel layouts Vigie handles end to end.
///
/// All are 8-bit YUV (or luma only). Chroma is subsampled as the format says; masks and
/// detection know how to find luma and chroma in each.
public enum PixelFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Planar 4:2:0: Y, then U, then V (Y4M `C420*`).
    case i420
    /// Semi-planar 4:2:0: Y, then interleaved U/V.
    case nv12
    /// Packed 4:2:2: Y0 U Y1 V per pixel pair.
    case yuyv
    /// Luma only (Y4M `Cmono`, V4L2 `GREY`).
    case grey

    public var description: String { rawValue.uppercased() }
}
