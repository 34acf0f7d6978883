import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// A V4L2 failure that keeps the request's name and the errno, in words a technician can act on.
public enum V4L2Error: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(device: String, errno: Int32)
    /// An ioctl failed: `request` is its name (`VIDIOC_DQBUF`).
    case ioctl(device: String, request: String, errno: Int32)
    case notACaptureDevice(device: String)
    case noUsableFormat(device: String, offered: [String])
    case mmapFailed(device: String, errno: Int32)
    case timeout(device: String, seconds: Double)
    /// The driver delivers separate fields (SEQ_TB, ALTERNATE…), which would misplace the privacy mask.
    case unsupportedFieldOrder(device: String, field: UInt32)

    /// The device is gone (unplugged, driver unbound): reopen later.
    public var isDeviceGone: Bool {
        switch self {
        case .cannotOpen(_, let code), .ioctl(_, _, let code), .mmapFailed(_, let code):
            code == ENODEV || code == ENXIO || code == EIO || code == ENOENT || code == EPIPE
        default: false
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let device, let code): "\(device): cannot open (\(SystemError.describe(code)))"
        case .ioctl(let device, let request, let code): "\(device): \(request) failed (\(SystemError.describe(code)))"
        case .notACaptureDevice(let device): "\(device): not a video capture device with streaming I/O"
        case .noUsableFormat(let device, let offered):
            "\(device): none of YUYV, NV12, GREY or YU12 (MJPEG through libv4lconvert) is offered; it has \(offered.joined(separator: ", "))"
        case .mmapFailed(let device, let code): "\(device): cannot map capture buffers (\(SystemError.describe(code)))"
        case .timeout(let device, let seconds): "\(device): no frame for \(seconds) s"
        case .unsupportedFieldOrder(let device, let field):
            "\(device): the driver sends separate fields (V4L2 field order \(field)); only whole frames can be masked safely"
        }
    }
}
