internal import CTurboJPEG

/// A decoded JPEG as YUV planes, for checks (tests, `vigie mask preview` verification).
public struct DecodedJPEG: Sendable {
    public var width: Int
    public var height: Int
    /// Y, then Cb and Cr when the JPEG has colour.
    public var planes: [[UInt8]]
    /// Row length of each plane.
    public var strides: [Int]
    /// Chroma subsampling factors (2, 2 for 4:2:0; 2, 1 for 4:2:2; 1, 1 for grey).
    public var chromaStepX: Int
    public var chromaStepY: Int

    /// Luma at (`x`, `y`).
    public func luma(x: Int, y: Int) -> UInt8 { planes[0][y * strides[0] + x] }
}

/// Decodes JPEG bytes to YUV planes with libjpeg-turbo.
public final class JPEGDecoder {
    /// Larger images are refused rather than allocated.
    public static let maximumSide = 8192
    private let handle: tjhandle

    public init() throws(JPEGError) {
        guard let handle = tjInitDecompress() else { throw .cannotInitialise }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    public func decode(_ jpeg: [UInt8]) throws(JPEGError) -> DecodedJPEG {
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colourspace: Int32 = 0
        guard tjDecompressHeader3(handle, jpeg, UInt(jpeg.count), &width, &height, &subsampling, &colourspace) == 0
        else { throw .decodeFailed(String(cString: tjGetErrorStr2(handle))) }
        guard width > 0, height > 0, width <= Self.maximumSide, height <= Self.maximumSide else {
            throw .decodeFailed("image size \(width)x\(height) out of range")
        }
        let isGrey = subsampling == Int32(TJSAMP_GRAY.rawValue)
        let components = isGrey ? 1 : 3
        var buffers: [UnsafeMutableBufferPointer<UInt8>] = []
        defer { buffers.forEach { $0.deallocate() } }
        var strides: [Int32] = [0, 0, 0]
        for component in 0..<components {
            let planeWidth = tjPlaneWidth(Int32(component), width, subsampling)
            let planeHeight = tjPlaneHeight(Int32(component), height, subsampling)
            guard planeWidth > 0, planeHeight > 0 else { throw .decodeFailed("unsupported subsampling \(subsampling)") }
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Int(planeWidth * planeHeight))
            buffer.initialize(repeating: 0)
            buffers.append(buffer)
            strides[component] = planeWidth
        }
        var pointers: [UnsafeMutablePointer<UInt8>?] = buffers.map { $0.baseAddress }
        while pointers.count < 3 { pointers.append(nil) }
        let status = pointers.withUnsafeMutableBufferPointer { pointerList in
            tjDecompressToYUVPlanes(handle, jpeg, UInt(jpeg.count), pointerList.baseAddress, width, &strides, height, 0)
        }
        guard status == 0 else { throw .decodeFailed(String(cString: tjGetErrorStr2(handle))) }
        let planes = buffers.map { Array($0) }
        let steps: (Int, Int)
        switch subsampling {
        case Int32(TJSAMP_420.rawValue): steps = (2, 2)
        case Int32(TJSAMP_422.rawValue): steps = (2, 1)
        case Int32(TJSAMP_440.rawValue): steps = (1, 2)
        case Int32(TJSAMP_411.rawValue): steps = (4, 1)
        default: steps = (1, 1)
        }
        return DecodedJPEG(
            width: Int(width), height: Int(height), planes: planes,
            strides: strides.prefix(components).map { Int($0) }, chromaStepX: steps.0, chromaStepY: steps.1)
    }
}
