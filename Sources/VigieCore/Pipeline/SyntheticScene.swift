#if canImport(Glibc)
    import Glibc
#endif

/// A generated street scene with known ground truth: for the demo (no camera needed) and for tests.
///
/// The background is a fixed texture of façades and windows; objects are flat rectangles that move in
/// straight lines; sensor noise, a global gain (light changes) and per-frame flicker can be added.
/// Rendering is deterministic for a given seed and frame index.
public final class SyntheticScene: FillingFrameSource {
    /// A rectangle of uniform luma moving at constant speed, visible in `frames`.
    public struct MovingObject: Sendable {
        public var x: Double
        public var y: Double
        public var width: Double
        public var height: Double
        /// Pixels per frame.
        public var dx: Double
        public var dy: Double
        public var luma: UInt8
        public var frames: Range<Int>

        public init(
            x: Double, y: Double, width: Double, height: Double, dx: Double, dy: Double, luma: UInt8,
            frames: Range<Int>
        ) {
            self.x = x
            self.y = y
            self.width = width
            self.height = height
            self.dx = dx
            self.dy = dy
            self.luma = luma
            self.frames = frames
        }

        /// Where the object is at `frame`, in pixels (clipped by the renderer).
        public func rect(at frame: Int) -> (x: Int, y: Int, width: Int, height: Int) {
            let t = Double(frame - frames.lowerBound)
            return (Int((x + dx * t).rounded()), Int((y + dy * t).rounded()), Int(width), Int(height))
        }
    }

    public let geometry: FrameGeometry
    public let framesPerSecond: Double
    public var objects: [MovingObject] = []
    /// Standard deviation of Gaussian sensor noise, grey levels.
    public var noiseSigma: Double = 0
    /// Multiplies every luma value for a frame (1 = unchanged); `gain(frame)` overrides it.
    public var gain: (Int) -> Double = { _ in 1 }
    /// Stops after this many frames; `nil` runs for ever.
    public var frameLimit: Int?

    private var background: [UInt8]
    private var random: SplitMix
    private let gaussian: [Float]
    private var sequence = 0
    private lazy var buffer = Frame(geometry: geometry)

    public init(geometry: FrameGeometry, framesPerSecond: Double = 25, seed: UInt64 = 1) {
        self.geometry = geometry
        self.framesPerSecond = framesPerSecond
        var random = SplitMix(seed: seed)
        self.background = Self.makeBackground(width: geometry.width, height: geometry.height, random: &random)
        // A table of normal deviates, so noise costs a lookup per pixel.
        var table = [Float](repeating: 0, count: 1 << 16)
        for index in stride(from: 0, to: table.count, by: 2) {
            let u1 = max(Double(random.next() >> 11) / Double(1 << 53), 1e-12)
            let u2 = Double(random.next() >> 11) / Double(1 << 53)
            let radius = (-2 * log(u1)).squareRoot()
            table[index] = Float(radius * cos(2 * .pi * u2))
            table[index + 1] = Float(radius * sin(2 * .pi * u2))
        }
        self.gaussian = table
        self.random = random
    }

    public func withNextFrame<Result>(_ body: (Frame) throws -> Result) throws -> Result? {
        try next(into: buffer) ? body(buffer) : nil
    }

    /// Renders the next frame.
    public func next(into frame: Frame) throws -> Bool {
        if let frameLimit, sequence >= frameLimit { return false }
        render(frame: sequence, into: frame)
        sequence += 1
        return true
    }

    /// Renders frame number `index` into `frame`.
    public func render(frame index: Int, into frame: Frame) {
        precondition(frame.geometry == geometry, "frame geometry differs from the scene's")
        let width = geometry.width
        let height = geometry.height
        let plane = geometry.planes[0]
        let step = geometry.lumaStep
        let base = frame.bytes.baseAddress! + plane.offset
        let gain = self.gain(index)
        let sigma = Float(noiseSigma)
        var luma = background
        for object in objects where object.frames.contains(index) {
            let rect = object.rect(at: index)
            // Clipped to the image: an object may walk out of it on any side.
            let top = min(height, max(0, rect.y))
            let left = min(width, max(0, rect.x))
            for y in top..<max(top, min(height, rect.y + rect.height)) {
                for x in left..<max(left, min(width, rect.x + rect.width)) { luma[y * width + x] = object.luma }
            }
        }
        luma.withUnsafeBufferPointer { source in
            gaussian.withUnsafeBufferPointer { noise in
                var state = random.next()
                for y in 0..<height {
                    let line = base + y * plane.stride
                    for x in 0..<width {
                        var value = Float(source[y * width + x]) * Float(gain)
                        if sigma > 0 {
                            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                            value += sigma * noise[Int(truncatingIfNeeded: state >> 48)]
                        }
                        line.storeBytes(
                            of: UInt8(max(0, min(255, value.rounded()))), toByteOffset: x * step, as: UInt8.self)
                    }
                }
            }
        }
        // Chroma: a faint tint so JPEGs look like a picture, constant across frames.
        switch geometry.format {
        case .i420, .nv12:
            for plane in geometry.planes.dropFirst() {
                let start = frame.bytes.baseAddress! + plane.offset
                for row in 0..<plane.rows {
                    (start + row * plane.stride).initializeMemory(as: UInt8.self, repeating: 120, count: plane.rowBytes)
                }
            }
        case .yuyv:
            for y in 0..<height {
                let line = base + y * plane.stride
                for x in stride(from: 1, to: width * 2, by: 2) {
                    line.storeBytes(of: 120, toByteOffset: x, as: UInt8.self)
                }
            }
        case .grey: break
        }
        frame.sequence = index
        frame.timestamp = Double(index) / framesPerSecond
    }

    /// Façades of different greys with rows of windows and a textured pavement: enough structure for
    /// a light change to be multiplicative, as on a real street.
    private static func makeBackground(width: Int, height: Int, random: inout SplitMix) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height)
        let buildings = 5
        var shades: [Int] = []
        for _ in 0..<buildings { shades.append(70 + Int(random.next() % 80)) }
        let horizon = height * 3 / 5
        for y in 0..<height {
            for x in 0..<width {
                let value: Int
                if y < horizon {
                    let building = min(buildings - 1, x * buildings / width)
                    let isWindow = (x / max(4, width / 40)) % 3 == 1 && (y / max(4, height / 20)) % 3 == 1
                    value = isWindow ? shades[building] / 2 + 20 : shades[building]
                } else {
                    let grain = Int((UInt64(x &* 73_856_093) ^ UInt64(y &* 19_349_663)) % 13)
                    value = 100 + (y - horizon) * 40 / max(1, height - horizon) + grain
                }
                pixels[y * width + x] = UInt8(max(0, min(255, value)))
            }
        }
        return pixels
    }
}

/// A small, fast, seedable generator (SplitMix64), for reproducible scenes and tests.
public struct SplitMix: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SyntheticScene {
    /// The demo street: sensor noise and a person-sized walker crossing every `period` seconds, alternately
    /// left to right and right to left, at walking speed.
    public static func street(
        geometry: FrameGeometry, framesPerSecond: Double, period: Double = 8, seed: UInt64 = 1
    ) -> SyntheticScene {
        let scene = SyntheticScene(geometry: geometry, framesPerSecond: framesPerSecond, seed: seed)
        scene.noiseSigma = 3
        let width = Double(geometry.width)
        let height = Double(geometry.height)
        let walkerWidth = max(4, (width * 0.05).rounded())
        let walkerHeight = max(8, (height * 0.25).rounded())
        let crossing = max(1, Int(framesPerSecond * period * 0.6))  // frames to cross the image
        let speed = (width + walkerWidth) / Double(crossing)
        let everyFrames = max(crossing + 1, Int(framesPerSecond * period))
        // Enough walkers for a day; `render` only looks at the ones whose frames cover the index.
        scene.objects = (0..<2000).map { index in
            let start = everyFrames * index + Int(framesPerSecond * 2)
            let leftToRight = index % 2 == 0
            return MovingObject(
                x: leftToRight ? -walkerWidth : width, y: height * 0.62, width: walkerWidth, height: walkerHeight,
                dx: leftToRight ? speed : -speed, dy: 0, luma: index % 3 == 0 ? 30 : 220,
                frames: start..<(start + crossing))
        }
        return scene
    }
}
