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

    /// Blanks every masked pixel of `frame` in place (luma black, chroma neutral) and returns the
    /// frame as a `MaskedFrame`, the only form detection, snapshots and the network accept.
    public func apply(to frame: Frame) -> MaskedFrame {
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
        return MaskedFrame(frame: frame)
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

/// A frame whose privacy masks have been applied. Only `MaskRaster.apply(to:)` makes one, so a
/// function that takes a `MaskedFrame` cannot be handed unmasked pixels.
public struct MaskedFrame {
    /// The frame, already masked. Consumers read it; they must not write pixels back from elsewhere.
    public let frame: Frame

    init(frame: Frame) { self.frame = frame }

    public var geometry: FrameGeometry { frame.geometry }
}
