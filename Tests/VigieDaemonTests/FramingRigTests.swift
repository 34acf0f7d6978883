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

/// The commissioned framing against vivid in the kernel rig: vivid's webcam input has only a few discrete sizes
/// (320x180, 640x360, 640x480, 1280x720, 1920x1080, 3840x2160) and answers any other request with the nearest.
@Suite("Commissioned framing with vivid (rig)", .serialized, .enabled(if: getenv("VIGIE_RIG") != nil))
struct FramingRigTests {
    static var device: String { getenv("VIGIE_RIG_VIDEO").map { String(cString: $0) } ?? "/dev/video0" }

    final class Record: Sendable {
        let kinds = Mutex<[String]>([])
        let snapshot = Mutex<[UInt8]?>(nil)
    }

    static func service(width: Int, height: Int, frames: Int, record: Record, identityFile: String? = nil)
        -> CameraService
    {
        var configuration = Configuration()
        configuration.source = .v4l2(device: device)
        configuration.captureWidth = width
        configuration.captureHeight = height
        configuration.captureRate = 30
        configuration.mask = PrivacyMask(polygons: [
            try! MaskPolygon(
                name: "window",
                points: [.init(x: 0.5, y: 0.1), .init(x: 0.9, y: 0.1), .init(x: 0.9, y: 0.6), .init(x: 0.5, y: 0.6)])
        ])
        return CameraService(
            configuration: configuration, logger: Logger(label: "rig"), frameLimit: frames, identityFile: identityFile,
            notify: { notice in
                if case .camera(let condition, _) = notice { record.kinds.withLock { $0.append(condition.rawValue) } }
            })
    }

    /// Asked for 1280x960 (4:3), vivid gives 1280x720 (16:9): the masks drawn for 4:3 would land on the wrong
    /// part of the scene, so nothing is processed, no snapshot is served, and the refusal is reported once while
    /// the unit keeps retrying.
    @Test func anotherAspectRatioIsRefused() async throws {
        try V4L2Camera.setControl(path: Self.device, named: "OSD Text Mode", to: 2)
        let record = Record()
        let service = Self.service(width: 1280, height: 960, frames: 10, record: record)
        let health = Mutex<(Bool, String?)>((true, nil))
        let probe = Task.detached {
            try? await Task.sleep(for: .seconds(1))
            let snapshot = await service.snapshot(timeout: 2)
            record.snapshot.withLock { $0 = snapshot }
            health.withLock { $0 = (service.isStreaming, service.currentStatistics.cameraFault) }
            try? await Task.sleep(for: .seconds(2))  // several retries with backoff
            service.stop()
        }
        let report = try service.run()
        _ = await probe.value
        let kinds = record.kinds.withLock { $0 }
        #expect(report.frames == 0)
        #expect(record.snapshot.withLock { $0 } == nil)
        #expect(kinds == ["camera_mismatch"], "\(kinds)")
        let (streaming, fault) = health.withLock { $0 }
        #expect(!streaming && fault == "camera_mismatch", "the self-test must say the camera is not streaming")
    }

    /// Asked for 1440x810 (16:9), vivid gives 1280x720 (16:9): accepted with a notice, the masks redrawn for
    /// 1280x720 (the snapshot is that size, black inside the mask).
    @Test func sameAspectAtAnotherSizeIsRescaled() async throws {
        try V4L2Camera.setControl(path: Self.device, named: "OSD Text Mode", to: 2)
        let record = Record()
        let service = Self.service(width: 1440, height: 810, frames: 30, record: record)
        let probe = Task.detached {
            try? await Task.sleep(for: .milliseconds(500))
            let snapshot = await service.snapshot(timeout: 5)
            record.snapshot.withLock { $0 = snapshot }
        }
        let report = try service.run()
        _ = await probe.value
        let kinds = record.kinds.withLock { $0 }
        #expect(report.frames == 30)
        #expect(kinds == ["camera_rescaled"], "\(kinds)")
        let jpeg = try #require(record.snapshot.withLock { $0 })
        let image = try JPEGDecoder().decode(jpeg)
        #expect(image.width == 1280 && image.height == 720)
        var brightest: UInt8 = 0
        for y in stride(from: 72 + 16, to: 432 - 16, by: 4) {
            for x in stride(from: 640 + 16, to: 1152 - 16, by: 4) { brightest = max(brightest, image.luma(x: x, y: y)) }
        }
        #expect(brightest <= 3, "inside the mask, redrawn for 1280x720")
        var outside = 0
        for x in stride(from: 16, to: 600, by: 4) { outside = max(outside, Int(image.luma(x: x, y: 360))) }
        #expect(outside > 150, "vivid's bright colour bars, on the left, outside the mask")
    }

    /// A camera other than the one remembered in the state folder (swapped while the unit was off) is reported
    /// as `camera_replaced`, then remembered: the next start reports nothing.
    @Test func anotherCameraThanRememberedIsReported() throws {
        let file = "/tmp/vigie-rig-identity-\(getpid())"
        defer { unlink(file) }
        let previous = CameraIdentity(driver: "uvcvideo", card: "HD Pro Webcam C920", bus: "usb-0000:00:14.0-1")
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = previous.encoded.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let first = Record()
        _ = try Self.service(width: 640, height: 480, frames: 5, record: first, identityFile: file).run()
        #expect(first.kinds.withLock { $0 } == ["camera_replaced"], "\(first.kinds.withLock { $0 })")
        let remembered = try CameraIdentity(encoded: TextFile.read(path: file, limit: 4096))
        #expect(remembered?.driver == "vivid")
        let second = Record()
        _ = try Self.service(width: 640, height: 480, frames: 5, record: second, identityFile: file).run()
        #expect(second.kinds.withLock { $0 }.isEmpty, "\(second.kinds.withLock { $0 })")
    }
}
