import VigieCore

/// Hot-path figures for the README and the issue notes: not a test. Run in release via `tools/bench`.
///
/// For each resolution it times, on the same pre-rendered frames in the same run:
/// - the floor: reading every luma byte once (a vectorised sum the optimiser cannot drop);
/// - the privacy mask alone (three polygons, about 12 % of the image);
/// - motion detection alone;
/// - mask + motion, the per-frame pipeline cost, and its ratio to the floor;
/// - the camera's whole `FramePipeline` (mask, motion, event tracking, tamper detection) with `[tamper]` off and
///   on, and the ratio of the latter to the floor;
/// - the same with the rules too (two intrusion zones, two density zones, the crowd rule, two lines, abandoned
///   objects): mask + motion + rules + tamper, and its ratio to the floor.
@main
struct Benchmark {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "capture" {
            try CaptureBenchmark.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "uplink" {
            try await UplinkBenchmark.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "fleet" {
            try await FleetBenchmark.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "store" {
            try StoreBenchmark.run(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "store-writer" {
            try StoreBenchmark.writer(Array(arguments.dropFirst()))
            return
        }
        if arguments.first == "fleet-shard" {
            try await FleetShard.run(Array(arguments.dropFirst()))
            return
        }
        let quick = arguments.contains("--quick")
        let sizes = [(640, 480), (1280, 720), (1920, 1080)]
        print(
            "resolution  floor(ms)  mask(ms)  motion(ms)  mask+motion(ms)  ratio  fps(mask+motion)  "
                + "pipeline(ms)  +tamper(ms)  ratio(+tamper)  +rules(ms)  ratio(+rules+tamper)")
        var json: [String] = []
        for (width, height) in sizes {
            let result = try measure(width: width, height: height, iterations: quick ? 60 : 400)
            let ratio = result.pipeline / result.floor
            print(
                pad("\(width)x\(height)", 10), pad(fmt(result.floor), 10), pad(fmt(result.mask), 9),
                pad(fmt(result.motion), 11), pad(fmt(result.pipeline), 16), pad(fmt(ratio, 2), 6),
                pad("\(Int(1000 / result.pipeline))", 17), pad(fmt(result.withoutTamper), 13),
                pad(fmt(result.withTamper), 12), pad(fmt(result.withTamper / result.floor, 2), 14),
                pad(fmt(result.withRules), 11), fmt(result.withRules / result.floor, 2))
            json.append(
                "{\"resolution\":\"\(width)x\(height)\",\"floor_ms\":\(fmt(result.floor)),\"mask_ms\":\(fmt(result.mask)),"
                    + "\"motion_ms\":\(fmt(result.motion)),\"pipeline_ms\":\(fmt(result.pipeline)),\"ratio\":\(fmt(ratio, 2)),"
                    + "\"pipeline_no_tamper_ms\":\(fmt(result.withoutTamper)),"
                    + "\"pipeline_tamper_ms\":\(fmt(result.withTamper)),"
                    + "\"ratio_tamper\":\(fmt(result.withTamper / result.floor, 2)),"
                    + "\"pipeline_rules_tamper_ms\":\(fmt(result.withRules)),"
                    + "\"ratio_rules_tamper\":\(fmt(result.withRules / result.floor, 2))}"
            )
        }
        if arguments.contains("--json") { print("[" + json.joined(separator: ",") + "]") }
    }

    struct Result {
        var floor: Double
        var mask: Double
        var motion: Double
        var pipeline: Double
        var withoutTamper: Double
        var withTamper: Double
        var withRules: Double
    }

    static func measure(width: Int, height: Int, iterations: Int) throws -> Result {
        let geometry = try FrameGeometry(format: .i420, width: width, height: height)
        let scene = SyntheticScene.street(geometry: geometry, framesPerSecond: 25, period: 2)
        let frames = (0..<16).map { index -> Frame in
            let frame = Frame(geometry: geometry)
            scene.render(frame: 50 + index * 3, into: frame)  // a walker is in these frames
            return frame
        }
        var configuration = Configuration()
        configuration.mask = PrivacyMask(polygons: [
            try MaskPolygon(name: "window 1", points: rect(0.05, 0.1, 0.15, 0.2)),
            try MaskPolygon(name: "window 2", points: rect(0.6, 0.15, 0.12, 0.25)),
            try MaskPolygon(
                name: "garden",
                points: [
                    .init(x: 0.8, y: 0.6), .init(x: 0.98, y: 0.55), .init(x: 0.95, y: 0.9), .init(x: 0.75, y: 0.85),
                ]),
        ])
        let raster = configuration.mask.raster(for: geometry)
        let detector = MotionDetector(geometry: geometry, mask: raster, settings: configuration.motion)
        let clock = ContinuousClock()
        var sink: UInt64 = 0

        func median(_ body: (Frame) -> Void) -> Double {
            var samples: [Double] = []
            samples.reserveCapacity(iterations)
            for index in 0..<iterations {
                let frame = frames[index % frames.count]
                let start = clock.now
                body(frame)
                let elapsed = clock.now - start
                samples.append(
                    Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3)
            }
            samples.sort()
            return samples[samples.count / 2]
        }

        let floor = median { frame in sink &+= lumaSum(frame) }
        let mask = median { frame in raster.apply(to: frame) { _ in } }
        let motion = median { frame in raster.apply(to: frame) { sink &+= UInt64(detector.detect($0)) } }
        let pipeline = median { frame in
            raster.apply(to: frame) { masked in sink &+= UInt64(detector.detect(masked)) }
        }
        var quiet = configuration
        quiet.tamper.enabled = false
        let withoutTamper = FramePipeline(configuration: quiet, geometry: geometry)
        let withTamper = FramePipeline(configuration: configuration, geometry: geometry)
        var ruled = configuration
        ruled.crowd.enabled = true
        ruled.zones = [
            Zone(
                name: "yard", polygon: try MaskPolygon(name: "yard", points: rect(0.5, 0.5, 0.45, 0.45)),
                sensitivity: 0.5, minimumArea: 0.002, kind: .intrusion),
            Zone(
                name: "porch", polygon: try MaskPolygon(name: "porch", points: rect(0.05, 0.55, 0.3, 0.4)),
                sensitivity: 0.5, minimumArea: 0.002, kind: .intrusion),
            Zone(
                name: "square", polygon: try MaskPolygon(name: "square", points: rect(0, 0.5, 1, 0.5)),
                sensitivity: 0.5, minimumArea: 0.001, kind: .density),
            Zone(
                name: "crossing", polygon: try MaskPolygon(name: "crossing", points: rect(0.3, 0.6, 0.4, 0.3)),
                sensitivity: 0.5, minimumArea: 0.001, kind: .density),
        ]
        ruled.lines = [
            LineRule(
                name: "kerb", from: NormalizedPoint(x: 0.5, y: 0.5), to: NormalizedPoint(x: 0.5, y: 1),
                direction: .leftToRight),
            LineRule(name: "gate", from: NormalizedPoint(x: 0.1, y: 0.7), to: NormalizedPoint(x: 0.9, y: 0.75)),
        ]
        ruled.abandoned.enabled = true
        let withRules = FramePipeline(configuration: ruled, geometry: geometry)
        // Past the tamper detector's first two seconds of learning, so that it measures and compares.
        for index in 0..<60 {
            frames[index % frames.count].timestamp = Double(index) / 25
            withTamper.process(frames[index % frames.count])
            withRules.process(frames[index % frames.count])
        }
        // The three in turn, each first on every third frame (the later ones to read a frame find it in the cache),
        // so that a load that comes and goes weighs on all alike.
        var time = 60.0 / 25
        var off: [Double] = []
        var on: [Double] = []
        var all: [Double] = []
        let orders = [[0, 1, 2], [1, 2, 0], [2, 0, 1]]
        for index in 0..<iterations {
            let frame = frames[index % frames.count]
            time += 1.0 / 25
            frame.timestamp = time
            for variant in orders[index % 3] {
                let start = clock.now
                switch variant {
                case 1:
                    sink &+= UInt64(withTamper.process(frame).count)
                    if withTamper.tamperChange != nil { sink &+= 1 }
                    on.append(milliseconds(clock.now - start))
                case 2:
                    sink &+= UInt64(withRules.process(frame).count)
                    sink &+= UInt64(withRules.ruleAlerts.count)
                    all.append(milliseconds(clock.now - start))
                default:
                    sink &+= UInt64(withoutTamper.process(frame).count)
                    off.append(milliseconds(clock.now - start))
                }
            }
        }
        off.sort()
        on.sort()
        all.sort()
        let without = off[off.count / 2]
        let with = on[on.count / 2]
        if sink == 42 { print("") }  // keeps the work observable
        // The motion-alone figure includes a mask pass over already-masked pixels; report it without.
        return Result(
            floor: floor, mask: mask, motion: max(0, motion - mask), pipeline: pipeline, withoutTamper: without,
            withTamper: with, withRules: all[all.count / 2])
    }

    static func milliseconds(_ elapsed: Duration) -> Double {
        Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3
    }

    /// Reads every luma byte once: the least any detector that looks at the whole image must pay.
    static func lumaSum(_ frame: Frame) -> UInt64 {
        let plane = frame.geometry.planes[0]
        let base = UnsafeRawPointer(frame.bytes.baseAddress! + plane.offset)
        var total = SIMD16<UInt16>()
        var sum: UInt64 = 0
        for y in 0..<plane.rows {
            let line = base + y * plane.stride
            var x = 0
            while x + 16 <= plane.rowBytes {
                total &+= SIMD16<UInt16>(
                    truncatingIfNeeded: line.loadUnaligned(fromByteOffset: x, as: SIMD16<UInt8>.self))
                x += 16
            }
            while x < plane.rowBytes {
                sum &+= UInt64(line.load(fromByteOffset: x, as: UInt8.self))
                x += 1
            }
            if y % 64 == 63 {
                sum &+= UInt64(total.wrappedSum())
                total = SIMD16<UInt16>()
            }
        }
        return sum &+ UInt64(total.wrappedSum())
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> [NormalizedPoint] {
        [.init(x: x, y: y), .init(x: x + w, y: y), .init(x: x + w, y: y + h), .init(x: x, y: y + h)]
    }

    static func fmt(_ value: Double, _ decimals: Int = 3) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return String(rounded)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count + 1))
    }
}
