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
///   objects): mask + motion + rules + tamper, and its ratio to the floor; and with every rule but `[abandoned]`;
/// - the same four again as the cost per frame over whole cycles (`cycle` frames: the 16 frame contents times the
///   abandoned-object detector's one look in five frames), the median of many cycles. A per-frame median says what
///   a typical frame costs, but it leaves out work done on one frame in five, and the frames' contents differ (a
///   walker, or not) so their times are not one bunch: a cost added to one frame in five moves that median by the
///   gap between bunches, not by its size. The cycle figure is what the camera pays on average, frame after frame.
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
                + "pipeline(ms)  +tamper(ms)  ratio(+tamper)  +rules(ms)  ratio(+rules+tamper)  "
                + "+rules-abandoned(ms)  ratio(+rules-abandoned+tamper)")
        var json: [String] = []
        var cycles: [(String, Result)] = []
        for (width, height) in sizes {
            let result = try measure(width: width, height: height, iterations: quick ? 60 : 400)
            let ratio = result.pipeline / result.floor
            print(
                pad("\(width)x\(height)", 10), pad(fmt(result.floor), 10), pad(fmt(result.mask), 9),
                pad(fmt(result.motion), 11), pad(fmt(result.pipeline), 16), pad(fmt(ratio, 2), 6),
                pad("\(Int(1000 / result.pipeline))", 17), pad(fmt(result.withoutTamper), 13),
                pad(fmt(result.withTamper), 12), pad(fmt(result.withTamper / result.floor, 2), 14),
                pad(fmt(result.withRules), 11), pad(fmt(result.withRules / result.floor, 2), 21),
                pad(fmt(result.withRulesNotAbandoned), 20), fmt(result.withRulesNotAbandoned / result.floor, 2))
            cycles.append(("\(width)x\(height)", result))
            json.append(
                "{\"resolution\":\"\(width)x\(height)\",\"floor_ms\":\(fmt(result.floor)),\"mask_ms\":\(fmt(result.mask)),"
                    + "\"motion_ms\":\(fmt(result.motion)),\"pipeline_ms\":\(fmt(result.pipeline)),\"ratio\":\(fmt(ratio, 2)),"
                    + "\"pipeline_no_tamper_ms\":\(fmt(result.withoutTamper)),"
                    + "\"pipeline_tamper_ms\":\(fmt(result.withTamper)),"
                    + "\"ratio_tamper\":\(fmt(result.withTamper / result.floor, 2)),"
                    + "\"pipeline_rules_tamper_ms\":\(fmt(result.withRules)),"
                    + "\"ratio_rules_tamper\":\(fmt(result.withRules / result.floor, 2)),"
                    + "\"pipeline_rules_not_abandoned_tamper_ms\":\(fmt(result.withRulesNotAbandoned)),"
                    + "\"cycle_floor_ms\":\(fmt(result.cycle.floor)),"
                    + "\"cycle_pipeline_tamper_ms\":\(fmt(result.cycle.withTamper)),"
                    + "\"cycle_pipeline_rules_tamper_ms\":\(fmt(result.cycle.withRules)),"
                    + "\"cycle_ratio_rules_tamper\":\(fmt(result.cycle.withRules / result.cycle.floor, 2)),"
                    + "\"cycle_pipeline_rules_not_abandoned_tamper_ms\":\(fmt(result.cycle.withRulesNotAbandoned)),"
                    + "\"cycle_ratio_rules_not_abandoned_tamper\":"
                    + "\(fmt(result.cycle.withRulesNotAbandoned / result.cycle.floor, 2))}"
            )
        }
        print(
            "\nper frame over whole cycles of \(cycle) frames (median of the cycles):\n"
                + "resolution  floor(ms)  pipeline(ms)  +tamper(ms)  +rules(ms)  ratio(+rules+tamper)  "
                + "+rules-abandoned(ms)  ratio(+rules-abandoned+tamper)")
        for (name, result) in cycles {
            let cycle = result.cycle
            print(
                pad(name, 10), pad(fmt(cycle.floor), 10), pad(fmt(cycle.withoutTamper), 13),
                pad(fmt(cycle.withTamper), 12), pad(fmt(cycle.withRules), 11),
                pad(fmt(cycle.withRules / cycle.floor, 2), 21), pad(fmt(cycle.withRulesNotAbandoned), 20),
                fmt(cycle.withRulesNotAbandoned / cycle.floor, 2))
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
        var withRulesNotAbandoned: Double
        /// The floor and the four pipelines as the cost per frame over whole cycles (`mask` and `motion` unused).
        var cycle: Cycle
    }

    struct Cycle {
        var floor: Double
        var withoutTamper: Double
        var withTamper: Double
        var withRules: Double
        var withRulesNotAbandoned: Double
    }

    /// Frames in a cycle: the 16 pre-rendered frames times the abandoned-object detector's five frames per look at
    /// 25 frames per second (`AbandonedObjectDetector.interval`).
    static let cycle = 80

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
        let ruledNotAbandoned = ruled
        ruled.abandoned.enabled = true
        // Without tamper, with tamper, with every rule, with every rule but [abandoned].
        let pipelines = [
            FramePipeline(configuration: quiet, geometry: geometry),
            FramePipeline(configuration: configuration, geometry: geometry),
            FramePipeline(configuration: ruled, geometry: geometry),
            FramePipeline(configuration: ruledNotAbandoned, geometry: geometry),
        ]
        // Each pipeline keeps its own clock (frames are shared): 25 frames per second.
        var times = [Double](repeating: 0, count: pipelines.count)
        func run(_ variant: Int, _ frame: Frame) {
            times[variant] += 1.0 / 25
            frame.timestamp = times[variant]
            let pipeline = pipelines[variant]
            sink &+= UInt64(pipeline.process(frame).count)
            sink &+= UInt64(pipeline.ruleAlerts.count)
            if pipeline.tamperChange != nil { sink &+= 1 }
        }
        // Past the tamper detector's and the abandoned-object detector's first two seconds of learning, so that
        // they measure and compare.
        for index in 0..<60 {
            for variant in pipelines.indices { run(variant, frames[index % frames.count]) }
        }
        // The four in turn, each first on every fourth frame (the later ones to read a frame find it in the cache),
        // so that a load that comes and goes weighs on all alike.
        var samples = [[Double]](repeating: [], count: pipelines.count)
        let orders = pipelines.indices.map { first in pipelines.indices.map { (first + $0) % pipelines.count } }
        for index in 0..<iterations {
            let frame = frames[index % frames.count]
            for variant in orders[index % orders.count] {
                let start = clock.now
                run(variant, frame)
                samples[variant].append(milliseconds(clock.now - start))
            }
        }
        let medians = samples.map { $0.sorted()[$0.count / 2] }
        // Whole cycles, the five (floor and pipelines) in turn; every frame read from memory, as the floor does.
        var cycleSamples = [[Double]](repeating: [], count: pipelines.count + 1)
        for round in 0..<max(9, iterations / 20) {
            for step in 0...pipelines.count {
                let variant = (round + step) % (pipelines.count + 1)
                let start = clock.now
                for index in 0..<cycle {
                    let frame = frames[index % frames.count]
                    if variant == pipelines.count {
                        sink &+= lumaSum(frame)
                    } else {
                        run(variant, frame)
                    }
                }
                cycleSamples[variant].append(milliseconds(clock.now - start) / Double(cycle))
            }
        }
        let cycleMedians = cycleSamples.map { $0.sorted()[$0.count / 2] }
        if sink == 42 { print("") }  // keeps the work observable
        // The motion-alone figure includes a mask pass over already-masked pixels; report it without.
        return Result(
            floor: floor, mask: mask, motion: max(0, motion - mask), pipeline: pipeline, withoutTamper: medians[0],
            withTamper: medians[1], withRules: medians[2], withRulesNotAbandoned: medians[3],
            cycle: Cycle(
                floor: cycleMedians[4], withoutTamper: cycleMedians[0], withTamper: cycleMedians[1],
                withRules: cycleMedians[2], withRulesNotAbandoned: cycleMedians[3]))
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
