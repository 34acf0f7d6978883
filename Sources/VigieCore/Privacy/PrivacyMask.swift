/// The privacy masks of one camera: polygons over windows, gardens and doorways that must never be
/// seen. Applied in place to every plane of every frame before any other consumer.
public struct PrivacyMask: Sendable, Hashable {
    /// Validated polygons; their union is hidden.
    public let polygons: [MaskPolygon]

    public init(polygons: [MaskPolygon]) { self.polygons = polygons }

    /// No mask at all.
    public static let none = PrivacyMask(polygons: [])

    /// The mask rasterised for `geometry`. Compute once per resolution and reuse for every frame.
    public func raster(for geometry: FrameGeometry) -> MaskRaster {
        MaskRaster(
            geometry: geometry,
            luma: SpanTable(
                polygons: polygons.map(\.points), width: geometry.width, height: geometry.height,
                coverage: .conservative))
    }
}

/// Luma value written into masked pixels (full black) and chroma value (no colour).
public enum MaskFill {
    public static let luma: UInt8 = 0
    public static let chroma: UInt8 = 128
}

/// A privacy mask ready for one frame geometry: luma and chroma spans, computed once.
public struct MaskRaster: Sendable {
    public let geometry: FrameGeometry
    /// Covered luma pixels.
    public let luma: SpanTable
    /// Covered chroma samples (4:2:0 for I420/NV12, 4:2:2 pairs for YUYV; empty for GREY).
    public let chroma: SpanTable

    init(geometry: FrameGeometry, luma: SpanTable) {
        self.geometry = geometry
        self.luma = luma
        switch geometry.format {
        case .i420, .nv12: chroma = luma.subsampled(horizontal: 2, vertical: 2)
        case .yuyv: chroma = luma.subsampled(horizontal: 2, vertical: 1)
        case .grey: chroma = .empty(width: 0, height: 0)
        }
    }

    /// Blanks every masked pixel of `frame` in place (luma black, chroma neutral), then lends the frame to
    /// `body` as a `MaskedFrame`, the only form detection, snapshots and the network accept.
    ///
    /// The `MaskedFrame` exists only for the duration of `body`: it cannot be copied or kept, so nothing can
    /// hold on to a pooled or driver buffer that the next capture overwrites with unmasked pixels.
    ///
    /// Not generic over a result on purpose: Swift 6.3's generic specialiser crashes in release builds on a
    /// generic function that makes a non-copyable value for a closure. A caller keeps what it needs in a variable.
    public func apply(to frame: Frame, _ body: (borrowing MaskedFrame) throws -> Void) rethrows {
        blank(frame)
        let masked = MaskedFrame(frame: frame)
        try body(masked)
    }

    /// As `apply(to:_:)`, then draws the commissioning picture over the masked frame (for `vigie mask preview`: a
    /// technician checks on site that every window is covered and every zone and line is where it should be):
    /// `overlay`'s zones and lines, clipped to the pixels the mask left, then the outline of each of `outlines` in
    /// white on the mask's edge, then the names and the legend, clipped again. Nothing drawn reveals what the mask
    /// hid, and inside a mask only its outline is drawn.
    public func apply(
        to frame: Frame, outlining outlines: [MaskPolygon], overlay: CommissioningOverlay = .none,
        _ body: (borrowing MaskedFrame) throws -> Void
    ) rethrows {
        blank(frame)
        overlay.draw(on: frame, raster: self, masks: outlines)
        let masked = MaskedFrame(frame: frame)
        try body(masked)
    }

    private func blank(_ frame: Frame) {
        precondition(frame.geometry == geometry, "mask raster is for \(geometry), frame is \(frame.geometry)")
        let base = frame.bytes.baseAddress!
        let planes = geometry.planes
        switch geometry.format {
        case .i420:
            fill(luma, base + planes[0].offset, stride: planes[0].stride, bytesPerSample: 1, value: MaskFill.luma)
            fill(chroma, base + planes[1].offset, stride: planes[1].stride, bytesPerSample: 1, value: MaskFill.chroma)
            fill(chroma, base + planes[2].offset, stride: planes[2].stride, bytesPerSample: 1, value: MaskFill.chroma)
        case .nv12:
            fill(luma, base + planes[0].offset, stride: planes[0].stride, bytesPerSample: 1, value: MaskFill.luma)
            fill(chroma, base + planes[1].offset, stride: planes[1].stride, bytesPerSample: 2, value: MaskFill.chroma)
        case .grey:
            fill(luma, base + planes[0].offset, stride: planes[0].stride, bytesPerSample: 1, value: MaskFill.luma)
        case .yuyv:
            // A pixel pair shares its chroma, so the whole pair (Y0 U Y1 V) is blanked.
            let pattern =
                UInt32(MaskFill.luma) | UInt32(MaskFill.chroma) << 8 | UInt32(MaskFill.luma) << 16
                | UInt32(MaskFill.chroma) << 24
            for row in 0..<chroma.height {
                let line = base + planes[0].offset + row * planes[0].stride
                for k in Int(chroma.rowStart[row])..<Int(chroma.rowStart[row + 1]) {
                    for pair in Int(chroma.spans[2 * k])..<Int(chroma.spans[2 * k + 1]) {
                        line.storeBytes(of: pattern.littleEndian, toByteOffset: pair * 4, as: UInt32.self)
                    }
                }
            }
        }
    }

    private func fill(
        _ table: SpanTable, _ plane: UnsafeMutableRawPointer, stride: Int, bytesPerSample: Int, value: UInt8
    ) {
        for row in 0..<table.height {
            let line = plane + row * stride
            for k in Int(table.rowStart[row])..<Int(table.rowStart[row + 1]) {
                let first = Int(table.spans[2 * k]) * bytesPerSample
                let last = Int(table.spans[2 * k + 1]) * bytesPerSample
                (line + first).initializeMemory(as: UInt8.self, repeating: value, count: last - first)
            }
        }
    }
}

/// A frame whose privacy masks have been applied, lent to a consumer for the duration of a call.
///
/// Only `MaskRaster.apply(to:_:)` makes one, and only as a borrowed, non-copyable value inside its closure:
/// a function that takes a `MaskedFrame` cannot be handed unmasked pixels, cannot keep the frame after the
/// buffer goes back to the camera or the pool, and has no way to write pixels into it.
public struct MaskedFrame: ~Copyable {
    /// The masked buffer. Internal: consumers outside the core read it through the accessors below.
    let frame: Frame

    init(frame: Frame) { self.frame = frame }

    public var geometry: FrameGeometry { frame.geometry }
    /// Position of the frame in its stream (see `Frame.sequence`).
    public var sequence: Int { frame.sequence }
    /// Capture time in seconds (see `Frame.timestamp`).
    public var timestamp: Double { frame.timestamp }

    /// Luma of pixel (`x`, `y`). For tests and tools, not for hot loops.
    public func luma(x: Int, y: Int) -> UInt8 { frame.luma(x: x, y: y) }

    /// Reads the frame's bytes (laid out as `geometry` says) for the duration of `body`. The pointer is read-only
    /// and must not escape `body`.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(frame.bytes))
    }
}
