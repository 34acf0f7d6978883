import Logging
import Synchronization
import Testing
import VigieCore
import VigieDaemon
import VigieImage

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Camera service")
struct CameraServiceTests {
    static func temporaryDirectory() -> String {
        var template = Array("/tmp/vigie-daemon-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func files(in directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasSuffix(".jpg") { names.append(name) }
        }
        return names.sorted()
    }

    static func read(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }

    /// The demo end to end: events are raised, each with a snapshot, and in every snapshot the masked
    /// windows are black.
    @Test func demoRaisesEventsWithMaskedSnapshots() throws {
        let configuration = try Configuration.parse(DemoConfiguration.text, file: "<demo>")
        let directory = Self.temporaryDirectory()
        let service = CameraService(
            configuration: configuration, logger: Logger(label: "test"), frameLimit: 130,
            snapshotDirectory: directory, paced: false)
        let report = try service.run()
        #expect(report.frames == 130)
        #expect(report.eventsStarted >= 2)
        #expect(report.eventsEnded == report.eventsStarted)
        let names = Self.files(in: directory)
        #expect(names.count == report.snapshots && report.snapshots == report.eventsStarted)
        let decoder = try JPEGDecoder()
        for name in names {
            let image = try decoder.decode(Self.read("\(directory)/\(name)"))
            for polygon in configuration.mask.polygons {
                // The inside of each mask, one JPEG block away from its outline.
                let xs = polygon.points.map(\.x)
                let ys = polygon.points.map(\.y)
                let left = Int(xs.min()! * Double(image.width)) + 16
                let right = Int(xs.max()! * Double(image.width)) - 16
                let top = Int(ys.min()! * Double(image.height)) + 16
                let bottom = Int(ys.max()! * Double(image.height)) - 16
                for y in top..<bottom {
                    for x in left..<right { #expect(image.luma(x: x, y: y) <= 3) }
                }
            }
        }
    }

    /// The camera hands each minute's activity grid to the store: the cells under the boxes of the motion it
    /// reported counted frames, none more than the frames it ran, and the minute in progress at the end is handed
    /// over too.
    @Test func motionActivityIsCountedPerMinute() throws {
        let configuration = try Configuration.parse(DemoConfiguration.text, file: "<demo>")
        let minutes = Mutex<[(minute: Int64, grid: ActivityGrid)]>([])
        let started = Mutex<[NormalizedRect]>([])
        let service = CameraService(
            configuration: configuration, logger: Logger(label: "test"), frameLimit: 130, paced: false,
            notify: { event in
                if case .motionStarted(_, let boxes, _) = event { started.withLock { $0 += boxes } }
            },
            activity: { minute, grid in minutes.withLock { $0.append((minute, grid)) } })
        let before = Self.wallMinute()
        _ = try service.run()
        let handed = minutes.withLock { $0 }
        #expect(!handed.isEmpty && handed.count <= 2, "130 frames unpaced: one minute, two across its end")
        #expect(handed.allSatisfy { $0.minute >= before && $0.minute <= Self.wallMinute() })
        var total = ActivityGrid()
        for (_, grid) in handed { total.merge(grid) }
        let boxes = started.withLock { $0 }
        #expect(!boxes.isEmpty)
        for box in boxes { #expect(total.peak(in: ActivityCells(covering: box)) > 0, "\(box)") }
        #expect(total.counts.allSatisfy { $0 <= 130 })
    }

    static func wallMinute() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) / 60
    }

    /// The health a self-test reports can fail: streaming while frames flow at the measured rate, not once the
    /// camera has stopped.
    @Test func healthFollowsTheFrames() async throws {
        var configuration = Configuration()
        configuration.source = .synthetic  // 10 frames/s, paced
        let service = CameraService(configuration: configuration, logger: Logger(label: "test"), paced: true)
        #expect(!service.isStreaming)
        let run = Task.detached { try service.run() }
        let streaming = await Poll.until(timeout: .seconds(10), every: .milliseconds(50)) { service.isStreaming }
        #expect(streaming)
        // The rate reported against the frames counted over the same seconds (this debug build may not keep
        // the source's 10 frames/s on a busy machine).
        try await Task.sleep(for: .seconds(2))
        let clock = ContinuousClock()
        let (first, start) = (service.currentStatistics.frames, clock.now)
        try await Task.sleep(for: .seconds(3))
        let (last, end) = (service.currentStatistics.frames, clock.now)
        let rate = service.currentStatistics.framesPerSecond
        let elapsed = end - start
        let counted =
            Double(last - first) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        #expect(counted > 1 && abs(rate - counted) / counted < 0.35, "reported \(rate) frames/s, counted \(counted)")
        service.stop()
        _ = try await run.value
        #expect(!service.isStreaming)
        #expect(service.currentStatistics.cameraFault == nil)
    }

    @Test func stopEndsTheRun() throws {
        let configuration = try Configuration.parse(DemoConfiguration.text, file: "<demo>")
        let service = CameraService(configuration: configuration, logger: Logger(label: "test"), paced: true)
        service.stop()
        let report = try service.run()
        #expect(report.frames == 0)
    }

    @Test func missingFileSourceIsAnError() throws {
        var configuration = Configuration()
        configuration.source = .y4m(path: "/nonexistent/clip.y4m")
        let service = CameraService(configuration: configuration, logger: Logger(label: "test"))
        #expect(throws: Y4MError.cannotOpen(path: "/nonexistent/clip.y4m", errno: ENOENT)) { try service.run() }
    }
}
