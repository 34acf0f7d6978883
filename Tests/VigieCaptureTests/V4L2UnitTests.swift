import Testing
import VigieCore

@testable import VigieCapture

#if canImport(Glibc)
    import Glibc
#endif

@Suite("V4L2 adapter, without a device")
struct V4L2UnitTests {
    @Test func errorsKeepTheRequestAndErrno() {
        let error = V4L2Error.ioctl(device: "/dev/video0", request: "VIDIOC_DQBUF", errno: ENODEV)
        #expect(error.description.hasPrefix("/dev/video0: VIDIOC_DQBUF failed"))
        #expect(error.description.contains("No such device"))
        #expect(error.isDeviceGone)
        #expect(V4L2Error.ioctl(device: "d", request: "VIDIOC_S_FMT", errno: EINVAL).isDeviceGone == false)
        #expect(V4L2Error.cannotOpen(device: "d", errno: ENOENT).isDeviceGone)
    }

    @Test func missingDeviceIsAClearError() {
        #expect(throws: V4L2Error.cannotOpen(device: "/dev/video-nonexistent", errno: ENOENT)) {
            try V4L2Camera(path: "/dev/video-nonexistent", width: 640, height: 480, framesPerSecond: 15)
        }
    }

    @Test func notAVideoDeviceIsRefused() {
        #expect(throws: V4L2Error.self) {
            try V4L2Camera(path: "/dev/null", width: 640, height: 480, framesPerSecond: 15)
        }
    }

    @Test func fourccText() {
        #expect(V4L2Camera.fourcc(0x5659_5559) == "YUYV")
        #expect(V4L2Camera.fourcc(0x3231_564E) == "NV12")
    }
}
