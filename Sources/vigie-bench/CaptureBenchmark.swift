import VigieCapture
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Capture + mask + motion cost per frame from a real V4L2 device (in the rig: vivid under QEMU, so the figures
/// are only relative). CPU time of this thread, so waiting for the next frame does not count.
///
/// `vigie-bench capture [DEVICE] [--size WxH] [--frames N] [--formats yuyv,nv12,grey]`. For each format it runs
/// the capture path twice on the same device: as the unit does (mask and motion in the driver's buffer, no copy)
/// and as it did before (each frame copied out of the driver's buffer into a pooled frame first), and reports what
/// capture adds to mask + motion in each.
enum CaptureBenchmark {
    static func run(_ arguments: [String]) throws {
        var device = "/dev/video0"
        var width = 1920
        var height = 1080
        var count = 150
        var formats: [PixelFormat] = [.yuyv, .nv12, .grey]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--size":
                let parts = (rest.popFirst() ?? "").split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2 else { throw BenchmarkError("--size takes WxH") }
                (width, height) = (parts[0], parts[1])
            case "--frames":
                guard let value = rest.popFirst().flatMap({ Int($0) }), value > 0 else {
                    throw BenchmarkError("--frames takes a count")
                }
                count = value
            case "--formats":
                formats = try (rest.popFirst() ?? "").split(separator: ",").map { name in
                    guard let format = PixelFormat(rawValue: String(name)) else {
                        throw BenchmarkError("unknown format \(name)")
                    }
                    return format
                }
            default: device = argument
            }
        }
        var configuration = Configuration()
        configuration.mask = PrivacyMask(polygons: [
            try MaskPolygon(
                name: "w",
                points: [.init(x: 0.1, y: 0.1), .init(x: 0.4, y: 0.1), .init(x: 0.4, y: 0.4), .init(x: 0.1, y: 0.4)])
        ])
        print(
            "format size       path      capture(ms) = poll+dqbuf + copy + qbuf   mask+motion(ms)  capture/(mask+motion)"
        )
        for format in formats {
            for copying in [false, true] {
                let camera = try V4L2Camera(
                    path: device, width: width, height: height, framesPerSecond: 30, formats: [format])
                defer { camera.close() }
                let pipeline = FramePipeline(configuration: configuration, geometry: camera.geometry)
                let pooled = Frame(geometry: camera.geometry)
                var dequeue = 0.0
                var queue = 0.0
                var copy = 0.0
                var processing = 0.0
                for _ in 0..<count {
                    let start = cpuSeconds()
                    var bodyStart = start
                    var copied = start
                    var bodyEnd = start
                    _ = try camera.withNextFrame { frame in
                        bodyStart = cpuSeconds()
                        let target: Frame
                        if copying {
                            pooled.copy(from: frame)
                            target = pooled
                        } else {
                            target = frame
                        }
                        copied = cpuSeconds()
                        pipeline.process(target)
                        bodyEnd = cpuSeconds()
                    }
                    let end = cpuSeconds()
                    dequeue += bodyStart - start
                    copy += copied - bodyStart
                    processing += bodyEnd - copied
                    queue += end - bodyEnd
                }
                let capture = dequeue + copy + queue
                let geometry = camera.geometry
                func ms(_ total: Double) -> String { format3(total / Double(count) * 1000) }
                print(
                    "\(camera.fourcc)   \(geometry.width)x\(geometry.height)  \(copying ? "copy    " : "in place")  "
                        + "\(ms(capture)) = \(ms(dequeue)) + \(ms(copy)) + \(ms(queue))             \(ms(processing))"
                        + "           \(format3(capture / processing * 100)) %  (\(count) frames)")
            }
        }
    }

    static func cpuSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func format3(_ value: Double) -> String { String((value * 1000).rounded() / 1000) }
}

/// A benchmark's bad argument.
struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
