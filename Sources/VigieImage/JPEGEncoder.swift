internal import CTurboJPEG
import VigieCore

/// Encodes masked frames to JPEG with libjpeg-turbo, straight from their YUV planes (no RGB step).
///
/// Takes only a `MaskedFrame`: a snapshot cannot be made from pixels the privacy mask has not seen.
/// One encoder per thread; it keeps its output and conversion buffers between calls.
public final class JPEGEncoder {
    private let handle: tjhandle
    private var output: UnsafeMutablePointer<UInt8>?
    private var outputCapacity = 0
    private var scratch: [UInt8] = []

    public init() throws(JPEGError) {
        guard let handle = tjInitCompress() else { throw .cannotInitialise }
        self.handle = handle
    }

    deinit {
        tjDestroy(handle)
        output?.deallocate()
    }

    /// JPEG bytes of `frame` at `quality` (1…100). GREY gives a greyscale JPEG; I420 and NV12 4:2:0;
    /// YUYV 4:2:2.
    public func encode(_ frame: borrowing MaskedFrame, quality: Int) throws(JPEGError) -> [UInt8] {
        guard (1...100).contains(quality) else { throw .invalidQuality(quality) }
        let geometry = frame.geometry
        return try frame.withUnsafeBytes { (bytes) throws(JPEGError) -> [UInt8] in
            try encode(bytes.baseAddress!, geometry: geometry, quality: quality)
        }
    }

    private func encode(_ bytes: UnsafeRawPointer, geometry: FrameGeometry, quality: Int) throws(JPEGError) -> [UInt8] {
        let width = geometry.width
        let height = geometry.height
        let planes = geometry.planes
        var pointers: [UnsafePointer<UInt8>?] = []
        var strides: [Int32] = []
        let subsampling: TJSAMP
        switch geometry.format {
        case .i420:
            subsampling = TJSAMP_420
            for plane in planes {
                pointers.append(UnsafePointer((bytes + plane.offset).assumingMemoryBound(to: UInt8.self)))
                strides.append(Int32(plane.stride))
            }
        case .grey:
            subsampling = TJSAMP_GRAY
            pointers = [UnsafePointer((bytes + planes[0].offset).assumingMemoryBound(to: UInt8.self)), nil, nil]
            strides = [Int32(planes[0].stride), 0, 0]
        case .nv12, .yuyv:
            subsampling = geometry.format == .nv12 ? TJSAMP_420 : TJSAMP_422
            (pointers, strides) = deinterleave(bytes, geometry: geometry)
        }
        let capacity = Int(tjBufSize(Int32(width), Int32(height), Int32(subsampling.rawValue)))
        if capacity > outputCapacity {
            output?.deallocate()
            output = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            outputCapacity = capacity
        }
        var destination: UnsafeMutablePointer<UInt8>? = output
        var size: UInt = UInt(outputCapacity)
        let status = pointers.withUnsafeMutableBufferPointer { planePointers in
            strides.withUnsafeBufferPointer { strideValues in
                tjCompressFromYUVPlanes(
                    handle, planePointers.baseAddress, Int32(width), strideValues.baseAddress, Int32(height),
                    Int32(subsampling.rawValue), &destination, &size, Int32(quality), TJFLAG_NOREALLOC)
            }
        }
        guard status == 0, let destination else { throw .encodeFailed(String(cString: tjGetErrorStr2(handle))) }
        return Array(UnsafeBufferPointer(start: destination, count: Int(size)))
    }

    /// Splits NV12's UV plane, or YUYV's packed pixels, into separate planes in `scratch`.
    private func deinterleave(_ source: UnsafeRawPointer, geometry: FrameGeometry) -> ([UnsafePointer<UInt8>?], [Int32])
    {
        let width = geometry.width
        let height = geometry.height
        let chromaWidth = (width + 1) / 2
        let chromaHeight = geometry.format == .nv12 ? (height + 1) / 2 : height
        let lumaBytes = geometry.format == .nv12 ? 0 : width * height
        let needed = lumaBytes + 2 * chromaWidth * chromaHeight
        if scratch.count < needed { scratch = [UInt8](repeating: 0, count: needed) }
        return scratch.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress!
            let u = out + lumaBytes
            let v = u + chromaWidth * chromaHeight
            let planes = geometry.planes
            if geometry.format == .nv12 {
                let uv = source + planes[1].offset
                for row in 0..<chromaHeight {
                    let line = (uv + row * planes[1].stride).assumingMemoryBound(to: UInt8.self)
                    for x in 0..<chromaWidth {
                        u[row * chromaWidth + x] = line[2 * x]
                        v[row * chromaWidth + x] = line[2 * x + 1]
                    }
                }
                let luma = UnsafePointer((source + planes[0].offset).assumingMemoryBound(to: UInt8.self))
                return (
                    [luma, UnsafePointer(u), UnsafePointer(v)],
                    [Int32(planes[0].stride), Int32(chromaWidth), Int32(chromaWidth)]
                )
            }
            for row in 0..<height {
                let line = (source + planes[0].offset + row * planes[0].stride).assumingMemoryBound(to: UInt8.self)
                for pair in 0..<chromaWidth {
                    out[row * width + 2 * pair] = line[4 * pair]
                    out[row * width + 2 * pair + 1] = line[4 * pair + 2]
                    u[row * chromaWidth + pair] = line[4 * pair + 1]
                    v[row * chromaWidth + pair] = line[4 * pair + 3]
                }
            }
            return (
                [UnsafePointer(out), UnsafePointer(u), UnsafePointer(v)],
                [Int32(width), Int32(chromaWidth), Int32(chromaWidth)]
            )
        }
    }
}
