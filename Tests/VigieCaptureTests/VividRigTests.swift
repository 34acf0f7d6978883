import Synchronization
import Testing
import VigieCore

@testable import VigieCapture

#if canImport(Glibc)
    import Glibc
#endif

/// Against the real vivid driver, in the real-kernel rig (`tools/vmtest`, run by `tools/test`). Outside the
/// rig these show as skipped; inside it (VIGIE_RIG=1) a missing device is a failure.
@Suite("V4L2 capture against vivid (rig)", .serialized, .enabled(if: getenv("VIGIE_RIG") != nil))
struct VividRigTests {
    static var device: String { getenv("VIGIE_RIG_VIDEO").map { String(cString: $0) } ?? "/dev/video0" }

    /// vivid's controls: still picture with no moving text, so only what a test moves moves.
    static func still(_ path: String) throws {
        try V4L2Camera.setControl(path: path, named: "OSD Text Mode", to: 2)  // none
        try V4L2Camera.setControl(path: path, named: "Horizontal Movement", to: 3)  // no movement
        try V4L2Camera.setControl(path: path, named: "Percentage of Dropped Buffers", to: 0)
    }

    @Test func listsAndDescribesVivid() throws {
        #expect(V4L2Camera.devices().contains(Self.device))
        let info = try V4L2Camera.info(path: Self.device)
        #expect(info.driver == "vivid")
        #expect(info.formats.contains { $0.fourcc == "YUYV" && !$0.emulated })
    }

    @Test("captures 100 frames", arguments: [[PixelFormat.yuyv], [.nv12], [.grey]])
    func captures(formats: [PixelFormat]) throws {
        try Self.still(Self.device)
        let camera = try V4L2Camera(path: Self.device, width: 640, height: 480, framesPerSecond: 30, formats: formats)
        defer { camera.close() }
        #expect(camera.geometry.width == 640 && camera.geometry.height == 480)
        #expect(camera.geometry.format == formats[0])
        #expect(!camera.converted && !camera.copies)
        var sequences: [Int] = []
        var brightest: UInt8 = 0
        var buffers: [ObjectIdentifier] = []
        for _ in 0..<100 {
            let seen = try camera.withNextFrame { frame in
                sequences.append(frame.sequence)
                brightest = max(brightest, frame.luma(x: 40, y: 240))
                return ObjectIdentifier(frame)
            }
            if let seen, !buffers.contains(seen) { buffers.append(seen) }
        }
        #expect(sequences == sequences.sorted() && Set(sequences).count == 100)
        #expect(brightest > 100, "vivid's colour bars should be in the picture")
        #expect(camera.droppedFrames == 0)
        // No copy: the frames lent are the driver's own buffers, one per buffer of the ring.
        #expect(buffers.count == V4L2Camera.defaultBufferCount, "\(buffers.count) distinct frames")
    }

    /// Runs the real pipeline over frames from vivid; returns how many motion events started.
    static func motionEvents(movement: Int32, frames: Int) throws -> Int {
        try still(device)
        try V4L2Camera.setControl(path: device, named: "Horizontal Movement", to: movement)
        let camera = try V4L2Camera(path: device, width: 640, height: 480, framesPerSecond: 30)
        defer { camera.close() }
        let pipeline = FramePipeline(configuration: Configuration(), geometry: camera.geometry)
        var started = 0
        for _ in 0..<frames {
            let updates = try camera.withNextFrame { pipeline.process($0) } ?? []
            for case .started in updates { started += 1 }
        }
        return started
    }

    @Test func movingPatternIsMotionStillIsNot() throws {
        #expect(try Self.motionEvents(movement: 6, frames: 60) >= 1)  // move right fast
        #expect(try Self.motionEvents(movement: 3, frames: 60) == 0)  // no movement
    }

    @Test func droppedBuffersAreCounted() throws {
        try Self.still(Self.device)
        try V4L2Camera.setControl(path: Self.device, named: "Percentage of Dropped Buffers", to: 40)
        defer { try? V4L2Camera.setControl(path: Self.device, named: "Percentage of Dropped Buffers", to: 0) }
        let camera = try V4L2Camera(path: Self.device, width: 640, height: 480, framesPerSecond: 30)
        defer { camera.close() }
        for _ in 0..<40 { _ = try camera.withNextFrame { _ in } }
        #expect(camera.droppedFrames > 0)
    }

    /// Unbinding the driver makes the device vanish; rebinding brings it back: `camera_lost`, then
    /// `camera_restored` and frames again, without restarting anything.
    @Test func unbindIsLostRebindIsRestored() async throws {
        final class Notices: Sendable {
            let list = Mutex<[String]>([])
        }
        let notices = Notices()
        let stop = StopSignal()
        let camera = ResilientCamera(
            path: Self.device, framing: CameraFraming(width: 640, height: 480), framesPerSecond: 30,
            link: CameraLink(backoff: Backoff(initial: 0.2, maximum: 1, jitter: 0.1)), stop: stop
        ) { notice in notices.list.withLock { $0.append(notice.kind) } }
        #expect(try camera.withNextFrame { _ in } != nil)
        let driver = "/sys/bus/platform/drivers/vivid"
        #expect(Self.write("vivid.0", to: "\(driver)/unbind"), "cannot unbind vivid.0")
        // The device is gone: the camera reports it lost and keeps trying to reopen.
        let rebinder = Task.detached {
            try? await Task.sleep(for: .seconds(2))
            _ = Self.write("vivid.0", to: "\(driver)/bind")
        }
        var restored = false
        for _ in 0..<50 where !restored {
            #expect(try camera.withNextFrame { _ in } != nil)
            restored = notices.list.withLock { $0.contains("camera_restored") }
        }
        _ = await rebinder.value
        let seen = notices.list.withLock { $0 }
        #expect(seen.contains("camera_lost"), "\(seen)")
        #expect(restored, "\(seen)")
        #expect(camera.takeRelearn() || seen.last == "camera_restored")
        for _ in 0..<10 { #expect(try camera.withNextFrame { _ in } != nil) }  // capture goes on
        camera.close()
    }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
