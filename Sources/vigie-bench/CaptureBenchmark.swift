import VigieCapture
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Capture + mask + motion cost per frame from a real V4L2 device (in the rig: vivid under QEMU, so the
/// figures are only relative). CPU time of this thread, so waiting for the next frame does not count.
enum CaptureBenchmark {
    static func run(_ arguments: [String]) throws {
        let device = arguments.first ?? "/dev/video0"
        for format in [PixelFormat.yuyv, .nv12, .grey] {
            let camera = try V4L2Camera(path: device, width: 640, height: 480, framesPerSecond: 30, formats: [format])
            defer { camera.close() }
            var configuration = Configuration()
            configuration.mask = PrivacyMask(polygons: [
                try MaskPolygon(
                    name: "w",
                    points: [
                        .init(x: 0.1, y: 0.1), .init(x: 0.4, y: 0.1), .init(x: 0.4, y: 0.4), .init(x: 0.1, y: 0.4),
                    ])
            ])
            let pipeline = FramePipeline(configuration: configuration, geometry: camera.geometry)
            let frame = Frame(geometry: camera.geometry)
            var capture = 0.0
            var processing = 0.0
            let count = 150
            for _ in 0..<count {
                let start = cpuSeconds()
                _ = try camera.next(into: frame)
                let captured = cpuSeconds()
                _ = pipeline.process(frame)
                processing += cpuSeconds() - captured
                capture += captured - start
            }
            print(
                "\(camera.fourcc) 640x480: capture \(format3(capture / Double(count) * 1000)) ms, mask + motion "
                    + "\(format3(processing / Double(count) * 1000)) ms CPU per frame (\(count) frames)")
        }
    }

    static func cpuSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func format3(_ value: Double) -> String { String((value * 1000).rounded() / 1000) }
}
