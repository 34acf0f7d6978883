import Logging
import Synchronization
import Testing
import VigieCapture
import VigieCore
import VigieDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's camera path with a `v4l2:` source, against vivid in the kernel rig (skipped, visibly,
/// outside it; run by `tools/test` inside it).
@Suite("Camera service with vivid (rig)", .serialized, .enabled(if: getenv("VIGIE_RIG") != nil))
struct CameraServiceRigTests {
    final class Notices: Sendable {
        let list = Mutex<[String]>([])
    }

    @Test func v4l2SourceRaisesMotionAndSurvivesAnUnbind() async throws {
        let device = getenv("VIGIE_RIG_VIDEO").map { String(cString: $0) } ?? "/dev/video0"
        try V4L2Camera.setControl(path: device, named: "OSD Text Mode", to: 2)
        try V4L2Camera.setControl(path: device, named: "Horizontal Movement", to: 6)
        defer { try? V4L2Camera.setControl(path: device, named: "Horizontal Movement", to: 3) }
        var configuration = Configuration()
        configuration.source = .v4l2(device: device)
        configuration.captureRate = 30
        let notices = Notices()
        let service = CameraService(
            configuration: configuration, logger: Logger(label: "rig"), frameLimit: 90,
            notify: { notice in
                notices.list.withLock { $0.append(notice.kind) }
            })
        let unbind = Task.detached {
            try? await Task.sleep(for: .seconds(2))
            _ = Self.write("vivid.0", to: "/sys/bus/platform/drivers/vivid/unbind")
            try? await Task.sleep(for: .seconds(2))
            _ = Self.write("vivid.0", to: "/sys/bus/platform/drivers/vivid/bind")
            try? V4L2Camera.setControl(path: device, named: "OSD Text Mode", to: 2)
            try? V4L2Camera.setControl(path: device, named: "Horizontal Movement", to: 6)
        }
        let report = try service.run()
        _ = await unbind.value
        let seen = notices.list.withLock { $0 }
        #expect(report.frames == 90)
        #expect(seen.contains("motion"), "\(seen)")
        #expect(seen.contains("camera_lost"), "\(seen)")
        #expect(seen.contains("camera_restored"), "\(seen)")
    }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
