import Logging
import Synchronization
import Testing
import VigieCapture
import VigieCore
import VigieDaemon
import VigieImage

#if canImport(Glibc)
    import Glibc
#endif

/// A recorded street clip through a real driver: v4l2loopback in the kernel rig, fed by
/// `tools/vmtest.d/feed-loopback` as a YUYV camera (the camera's own format) and as an MJPEG camera (decoded by
/// libv4lconvert into YU12, as a USB webcam's MJPEG is).
@Suite("Recorded footage through v4l2loopback (rig)", .serialized, .enabled(if: getenv("VIGIE_RIG") != nil))
struct LoopbackRigTests {
    static var device: String { getenv("VIGIE_RIG_LOOPBACK").map { String(cString: $0) } ?? "/dev/video20" }

    final class Record: Sendable {
        let kinds = Mutex<[String]>([])
        let snapshots = Mutex<[[UInt8]]>([])
    }

    /// The mask over the upper left of the scene (the façade opposite, in the clip).
    static let mask = try! MaskPolygon(
        name: "façade",
        points: [.init(x: 0.05, y: 0.05), .init(x: 0.45, y: 0.05), .init(x: 0.45, y: 0.4), .init(x: 0.05, y: 0.4)])

    static func service(frames: Int, record: Record) -> CameraService {
        var configuration = Configuration()
        configuration.source = .v4l2(device: device)
        configuration.captureWidth = 640
        configuration.captureHeight = 480
        configuration.captureRate = 15
        configuration.mask = PrivacyMask(polygons: [mask])
        return CameraService(
            configuration: configuration, logger: Logger(label: "rig"), frameLimit: frames,
            notify: { notice in
                switch notice {
                case .motionStarted(_, _, let snapshot):
                    record.kinds.withLock { $0.append("motion") }
                    if let snapshot { record.snapshots.withLock { $0.append(snapshot) } }
                default: record.kinds.withLock { $0.append(notice.kind) }
                }
            })
    }

    @Test("the clip is captured, masked and raises motion", arguments: ["yuyv", "mjpeg"])
    func clipIsMaskedAndRaisesMotion(format: String) throws {
        let feed = try LoopbackFeed(device: Self.device, format: format)
        defer { feed.stop() }
        let info = try V4L2Camera.info(path: Self.device)
        #expect(info.driver == "v4l2 loopback")
        if format == "mjpeg" {
            #expect(info.formats.contains { $0.fourcc == "MJPG" && !$0.emulated }, "\(info.formats)")
            #expect(info.formats.contains { $0.fourcc == "YU12" && $0.emulated }, "libv4lconvert offers YU12")
        } else {
            #expect(info.formats.contains { $0.fourcc == "YUYV" && !$0.emulated }, "\(info.formats)")
        }
        let record = Record()
        // 60 frames: this debug build processes about two frames a second under the rig's emulation, so they
        // span several passes of the figure in the looping clip.
        let report = try Self.service(frames: 60, record: record).run()
        let kinds = record.kinds.withLock { $0 }
        #expect(report.frames == 60)
        #expect(kinds.contains("motion"), "\(kinds)")
        let snapshots = record.snapshots.withLock { $0 }
        try #require(!snapshots.isEmpty)
        for jpeg in snapshots {
            let image = try JPEGDecoder().decode(jpeg)
            #expect(image.width == 640 && image.height == 480)
            var brightest: UInt8 = 0
            var inside = 0
            for y in stride(from: Int(0.05 * 480) + 16, to: Int(0.4 * 480) - 16, by: 2) {
                for x in stride(from: Int(0.05 * 640) + 16, to: Int(0.45 * 640) - 16, by: 2) {
                    brightest = max(brightest, image.luma(x: x, y: y))
                    inside += 1
                }
            }
            #expect(inside > 1000 && brightest <= 3, "the masked façade decodes to black (brightest \(brightest))")
            var scene = 0
            // The pavement, at 0.72 of the height: below the mask, light grey in the clip.
            for x in stride(from: 16, to: 624, by: 2) { scene = max(scene, Int(image.luma(x: x, y: 346))) }
            #expect(scene > 100, "the street below the mask is in the picture")
        }
    }

    /// 900 frames at 15 frames/s through the unit's pipeline: every one arrives (the loopback's sequence numbers
    /// have no gap) and the unit keeps the camera's pace. Run by the release build of `vigie camera check`: this
    /// test binary is a debug build, far too slow under the rig's emulation to keep up with a camera.
    @Test func noFrameLostAt15FramesPerSecondOverAMinute() throws {
        let vigie = ".build/release/vigie"
        try #require(access(vigie, X_OK) == 0, "\(vigie) is missing: tools/test builds it before the rig")
        let feed = try LoopbackFeed(device: Self.device, format: "yuyv")
        defer { feed.stop() }
        let output = "/tmp/vigie-check-\(getpid()).json"
        defer { unlink(output) }
        let child = try spawn([vigie, "camera", "check", Self.device, "--frames", "900", "--json"], output: output)
        var status: Int32 = 0
        waitpid(child, &status, 0)
        feed.stop()
        let text = try TextFile.read(path: output, limit: 1 << 16)
        let result = try JSON.parse(Array(text.utf8))
        let late = try #require(feed.lateFrames, "no summary from the feed")
        let dropped = result["dropped_frames"]?.intValue ?? -1
        #expect(result["frames"]?.intValue == 900, "\(text)")
        if late == 0 {
            #expect(status == 0 && dropped == 0, "\(text)")
        } else {
            // The writer missed its own deadlines: the whole emulated guest stalled (a busy host). Frames the
            // loopback then skipped are the machine's, so up to as many as the writer wrote late are allowed.
            #expect(dropped >= 0 && dropped <= late, "\(late) frames written late; \(text)")
        }
        #expect(result["format"] == .string("YUYV"))
        let seconds = result["seconds"]?.numberValue ?? 0
        #expect(seconds > 58 && seconds < 63, "900 frames at 15 frames/s took \(seconds) s")
    }

    /// A camera swapped on the same path, as when another camera is plugged into the same USB port behind a
    /// `/dev/v4l/by-path/…` link: vivid is unplugged (its driver unbound) and the link then leads to the loopback
    /// camera. The unit reports the loss, then `camera_replaced` naming both, and streams the new camera, whose
    /// framing matches.
    @Test func aCameraSwappedOnTheSamePathIsReported() async throws {
        let vivid = getenv("VIGIE_RIG_VIDEO").map { String(cString: $0) } ?? "/dev/video0"
        let link = "/tmp/vigie-rig-camera-\(getpid())"
        let identityFile = "/tmp/vigie-rig-identity-swap-\(getpid())"
        unlink(link)
        #expect(symlink(vivid, link) == 0)
        defer {
            unlink(link)
            unlink(identityFile)
        }
        let feed = try LoopbackFeed(device: Self.device, format: "yuyv")
        defer { feed.stop() }
        final class Kinds: Sendable { let list = Mutex<[(String, String)]>([]) }
        let kinds = Kinds()
        let stop = StopSignal()
        let camera = ResilientCamera(
            path: link, framing: CameraFraming(width: 640, height: 480), framesPerSecond: 15,
            identityFile: identityFile, link: CameraLink(backoff: Backoff(initial: 0.2, maximum: 1, jitter: 0.1)),
            stop: stop
        ) { notice in
            let reason =
                switch notice {
                case .camera(_, let reason), .cameraIdentityNotSaved(let reason): reason
                default: ""
                }
            kinds.list.withLock { $0.append((notice.kind, reason)) }
        }
        defer { camera.close() }
        #expect(try camera.withNextFrame { _ in } != nil)
        #expect(camera.identity?.driver == "vivid")
        let driver = "/sys/bus/platform/drivers/vivid"
        #expect(Self.write("vivid.0", to: "\(driver)/unbind"), "cannot unbind vivid.0")
        defer { _ = Self.write("vivid.0", to: "\(driver)/bind") }
        unlink(link)
        #expect(symlink(Self.device, link) == 0)
        var restored = false
        for _ in 0..<100 where !restored {
            #expect(try camera.withNextFrame { _ in } != nil)
            restored = kinds.list.withLock { $0.contains { $0.0 == "camera_restored" } }
        }
        let seen = kinds.list.withLock { $0 }
        #expect(seen.map(\.0) == ["camera_lost", "camera_replaced", "camera_restored"], "\(seen)")
        let replaced = seen.first { $0.0 == "camera_replaced" }?.1 ?? ""
        #expect(replaced.contains("vivid") && replaced.contains("Vigie Loopback A"), "\(replaced)")
        #expect(camera.identity?.driver == "v4l2 loopback")
        for _ in 0..<10 { #expect(try camera.withNextFrame { _ in } != nil) }  // streaming the new camera
    }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
