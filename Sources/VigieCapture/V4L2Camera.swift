internal import CV4L2
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// What `vigie camera list` and `info` show about a device.
public struct CameraInfo: Sendable, Equatable {
    public struct Format: Sendable, Equatable {
        /// Four-character code, e.g. `YUYV`.
        public var fourcc: String
        public var description: String
        /// Converted by libv4lconvert rather than given by the camera.
        public var emulated: Bool
        /// Discrete sizes, or the stepwise range's min and max.
        public var sizes: [String]
    }

    public var path: String
    public var driver: String
    public var card: String
    public var bus: String
    /// The USB serial number, where the camera has one.
    public var serial: String?
    public var formats: [Format]
}

/// A V4L2 capture device through libv4l2: format negotiation, mmap streaming with a ring of buffers, driver
/// timestamps and sequence numbers (gaps count as dropped frames).
///
/// In the camera's own formats (YUYV, NV12, GREY) there is no copy: the pipeline gets the driver's
/// memory-mapped buffer itself, which the unit owns from `VIDIOC_DQBUF` to `VIDIOC_QBUF`, masks it in place,
/// analyses it and encodes any snapshot from it, then the buffer is queued back. Only a format that libv4lconvert
/// converts (MJPEG to YU12) is copied, once, out of libv4l2's conversion buffer, and so is every frame of a driver
/// that does not give the unit its buffers (v4l2loopback lets its writer fill a buffer a reader still holds, which
/// could put unmasked pixels into a frame after its mask). The ring has six buffers, so the driver keeps five to
/// fill while one frame is worked on; frames it had to skip are counted.
public final class V4L2Camera: FrameSource {
    public let path: String
    public let geometry: FrameGeometry
    public let framesPerSecond: Double
    /// The pixel format the camera delivers, as a four-character code (`YUYV`, or `YU12` converted from MJPEG).
    public let fourcc: String
    /// Whether libv4lconvert converts the camera's format (then each frame is copied once).
    public let converted: Bool
    /// Whether each frame is copied out of the driver's buffer (a converted format, or a driver whose buffers the
    /// unit does not own while it holds them) rather than masked in place.
    public var copies: Bool { converted || Self.sharesBuffers(driver: identity.driver) }
    /// Who the camera is (driver, card, bus, serial).
    public let identity: CameraIdentity
    /// Frames the driver skipped (gaps in its sequence numbers).
    public private(set) var droppedFrames = 0
    /// Seconds without a frame before `withNextFrame(_:)` throws `V4L2Error.timeout`.
    public var stallTimeout: Double
    public var pacesItself: Bool { true }
    /// Default number of driver buffers.
    public static let defaultBufferCount = 6

    private let fd: Int32
    /// Per driver buffer, its mapping when its frames are copied (converted formats), unmapped through libv4l2
    /// at `close()`; `nil` when the buffer is lent (see `lent`).
    private var buffers: [(pointer: UnsafeMutableRawPointer, length: Int)?] = []
    /// Per driver buffer, the frame that wraps its mapping (native formats), or `nil` (converted: copied into
    /// `conversion`). A wrapping frame unmaps its buffer when it goes away, so its memory outlives any reference.
    private var lent: [Frame?] = []
    private lazy var conversion = Frame(geometry: geometry)
    private var lastSequence: UInt32?
    private var framesSeen = 0
    private var streaming = false
    private var closed = false

    /// Opens `path` (or a stable `/dev/v4l/by-id/…` link) and starts streaming at the size and rate asked for,
    /// or the nearest the camera offers.
    /// - Parameter formats: restrict the choice (e.g. `[.nv12]`); `nil` takes the best the camera offers.
    public init(
        path: String, width: Int, height: Int, framesPerSecond: Double, formats: [PixelFormat]? = nil,
        bufferCount: Int = V4L2Camera.defaultBufferCount
    ) throws(V4L2Error) {
        self.path = path
        let fd = cv4l2_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(device: path, errno: errno) }
        self.fd = fd
        let negotiated: Negotiated
        do {
            negotiated = try Self.negotiate(
                fd, path, width: width, height: height, framesPerSecond: framesPerSecond, allowed: formats)
        } catch {
            v4l2_close(fd)
            throw error
        }
        geometry = negotiated.geometry
        self.framesPerSecond = negotiated.rate
        fourcc = negotiated.fourcc
        converted = negotiated.converted
        identity = negotiated.identity
        stallTimeout = max(1, 5 / negotiated.rate)
        do {
            try startStreaming(bufferCount: bufferCount)
        } catch {
            close()
            throw error
        }
    }

    /// Picks the format (native YUYV, NV12 or GREY first; YU12 otherwise, converted by libv4lconvert, e.g. from
    /// MJPEG), sets size and rate, and returns what the driver agreed to.
    private struct Negotiated {
        var geometry: FrameGeometry
        var rate: Double
        var fourcc: String
        var converted: Bool
        var identity: CameraIdentity
    }

    private static func negotiate(
        _ fd: Int32, _ path: String, width: Int, height: Int, framesPerSecond: Double, allowed: [PixelFormat]?
    ) throws(V4L2Error) -> Negotiated {
        var capability = v4l2_capability()
        try ioctl(fd, cv4l2_querycap, "VIDIOC_QUERYCAP", &capability, path)
        let identity = identity(capability, path)
        let caps =
            capability.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS) != 0
            ? capability.device_caps : capability.capabilities
        guard caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0, caps & UInt32(V4L2_CAP_STREAMING) != 0 else {
            throw .notACaptureDevice(device: path)
        }
        let offered = try formats(fd, path)
        let preference: [(UInt32, PixelFormat)] = [
            (cv4l2_pix_yuyv, .yuyv), (cv4l2_pix_nv12, .nv12), (cv4l2_pix_grey, .grey), (cv4l2_pix_yuv420, .i420),
        ].filter { allowed?.contains($0.1) ?? true }
        let choice =
            preference.first { wanted in offered.contains { $0.code == wanted.0 && !$0.emulated } }
            ?? preference.first { wanted in offered.contains { $0.code == wanted.0 } }
        guard let (code, pixelFormat) = choice else {
            throw .noUsableFormat(device: path, offered: offered.map { fourcc($0.code) })
        }
        var format = v4l2_format()
        format.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        format.fmt.pix.width = UInt32(width)
        format.fmt.pix.height = UInt32(height)
        format.fmt.pix.pixelformat = code
        format.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        try ioctl(fd, cv4l2_s_fmt, "VIDIOC_S_FMT", &format, path)
        guard format.fmt.pix.pixelformat == code else {
            throw .noUsableFormat(device: path, offered: [fourcc(format.fmt.pix.pixelformat)])
        }
        guard isProgressive(format.fmt.pix.field) else {
            throw .unsupportedFieldOrder(device: path, field: format.fmt.pix.field)
        }
        let geometry = try geometry(format.fmt.pix, pixelFormat, path)
        var parameters = v4l2_streamparm()
        parameters.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        parameters.parm.capture.timeperframe = v4l2_fract(
            numerator: 1000, denominator: UInt32(max(1, framesPerSecond * 1000)))
        // Not every driver lets the rate be set: keep what it reports.
        _ = try? ioctl(fd, cv4l2_s_parm, "VIDIOC_S_PARM", &parameters, path)
        _ = try? ioctl(fd, cv4l2_g_parm, "VIDIOC_G_PARM", &parameters, path)
        let period = parameters.parm.capture.timeperframe
        let rate =
            period.numerator > 0 && period.denominator > 0
            ? Double(period.denominator) / Double(period.numerator) : framesPerSecond
        let converted = !offered.contains { $0.code == code && !$0.emulated }
        return Negotiated(
            geometry: geometry, rate: rate, fourcc: fourcc(code), converted: converted, identity: identity)
    }

    /// Driver, card and bus from `VIDIOC_QUERYCAP`; the serial number from sysfs for a USB camera.
    private static func identity(_ capability: v4l2_capability, _ path: String) -> CameraIdentity {
        CameraIdentity(
            driver: text(capability.driver), card: text(capability.card), bus: text(capability.bus_info),
            serial: serial(path))
    }

    /// The USB serial number of the camera behind `path` (or a `/dev/v4l/by-id/…` link to it), if it has one.
    static func serial(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        let node = String(cString: resolved).split(separator: "/").last.map(String.init) ?? ""
        // `device` is the USB interface; its parent, the USB device, has the serial.
        let file = "/sys/class/video4linux/\(node)/device/../serial"
        guard let value = try? TextFile.read(path: file, limit: 256) else { return nil }
        let trimmed = value.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Drivers known to write into a buffer while the application holds it: v4l2loopback's writer fills its ring
    /// whatever its readers have dequeued.
    static func sharesBuffers(driver: String) -> Bool { driver == "v4l2 loopback" }

    static func text<T>(_ value: T) -> String {
        withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    deinit { close() }

    /// Stops streaming and releases the device. Safe to call twice.
    public func close() {
        guard !closed else { return }
        closed = true
        if streaming {
            var type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            _ = try? Self.ioctl(fd, cv4l2_streamoff, "VIDIOC_STREAMOFF", &type, path)
            streaming = false
        }
        unmapAll()
        v4l2_close(fd)
    }

    private func unmapAll() {
        for case let buffer? in buffers { v4l2_munmap(buffer.pointer, buffer.length) }
        buffers = []
        // Wrapped native buffers are unmapped by their frames when the last reference goes.
        lent = []
    }

    private func startStreaming(bufferCount: Int) throws(V4L2Error) {
        var request = v4l2_requestbuffers()
        request.count = UInt32(bufferCount)
        request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        request.memory = V4L2_MEMORY_MMAP.rawValue
        try Self.ioctl(fd, cv4l2_reqbufs, "VIDIOC_REQBUFS", &request, path)
        for index in 0..<Int(request.count) {
            var buffer = v4l2_buffer()
            buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            buffer.memory = V4L2_MEMORY_MMAP.rawValue
            buffer.index = UInt32(index)
            try Self.ioctl(fd, cv4l2_querybuf, "VIDIOC_QUERYBUF", &buffer, path)
            let mapped = v4l2_mmap(
                nil, Int(buffer.length), PROT_READ | PROT_WRITE, MAP_SHARED, fd, Int64(buffer.m.offset))
            guard let mapped, mapped != MAP_FAILED else { throw .mmapFailed(device: path, errno: errno) }
            let length = Int(buffer.length)
            if copies || length < geometry.byteCount {
                buffers.append((mapped, length))
                lent.append(nil)
            } else {
                buffers.append(nil)
                lent.append(
                    Frame(
                        geometry: geometry, wrapping: UnsafeMutableRawBufferPointer(start: mapped, count: length),
                        release: { _ = munmap(mapped, length) }))
            }
            try Self.ioctl(fd, cv4l2_qbuf, "VIDIOC_QBUF", &buffer, path)
        }
        var type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        try Self.ioctl(fd, cv4l2_streamon, "VIDIOC_STREAMON", &type, path)
        streaming = true
    }

    /// Waits for the next frame (up to `stallTimeout`), lends it to `body` (the driver's own buffer, or the
    /// converted copy) and queues the buffer back when `body` returns. Never returns `nil`: a camera does not end.
    public func withNextFrame<Result>(_ body: (Frame) throws -> Result) throws -> Result? {
        while true {
            guard let buffer = try dequeue() else { continue }  // woken without a frame ready: wait again
            var queued = buffer
            defer { _ = try? Self.ioctl(fd, cv4l2_qbuf, "VIDIOC_QBUF", &queued, path) }
            // Gaps are counted from the second frame on: v4l2loopback hands a new reader the latest frame with
            // its sequence reset to 0 first, which would read as dozens of drops at every start.
            if let lastSequence, framesSeen > 1, buffer.sequence > lastSequence &+ 1 {
                droppedFrames += Int(buffer.sequence - lastSequence - 1)
            }
            lastSequence = buffer.sequence
            framesSeen += 1
            // A buffer the driver marks as bad, or that holds less than a whole frame, is dropped rather than
            // shown: the rest of the frame buffer would be a mix of two pictures.
            let complete = buffer.bytesused == 0 || Int(buffer.bytesused) >= neededBytes
            guard buffer.flags & UInt32(V4L2_BUF_FLAG_ERROR) == 0, complete, Self.isProgressive(buffer.field) else {
                droppedFrames += 1
                continue
            }
            let index = Int(buffer.index)
            let frame: Frame
            if index < lent.count, let wrapped = lent[index] {
                frame = wrapped
            } else if index < buffers.count, let source = buffers[index] {
                frame = conversion
                let count = min(
                    buffer.bytesused == 0 ? source.length : Int(buffer.bytesused), frame.bytes.count, source.length)
                frame.bytes.baseAddress!.copyMemory(from: source.pointer, byteCount: count)
            } else {
                continue
            }
            frame.sequence = Int(buffer.sequence)
            frame.timestamp = Double(buffer.timestamp.tv_sec) + Double(buffer.timestamp.tv_usec) / 1e6
            return try body(frame)
        }
    }

    /// Bytes a whole frame needs in the driver's layout.
    private var neededBytes: Int {
        geometry.planes.map { $0.offset + $0.stride * ($0.rows - 1) + $0.rowBytes }.max() ?? 0
    }

    /// Waits (up to `stallTimeout`) and dequeues a filled buffer; `nil` if woken without one.
    private func dequeue() throws(V4L2Error) -> v4l2_buffer? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready: Int32
        do throws(SystemCallError) {
            ready = try SystemCall.retrying("poll") { poll(&descriptor, 1, Int32(stallTimeout * 1000)) }
        } catch {
            throw .ioctl(device: path, request: "poll", errno: error.code)
        }
        if ready == 0 { throw .timeout(device: path, seconds: stallTimeout) }
        if descriptor.revents & Int16(POLLERR | POLLHUP) != 0 && descriptor.revents & Int16(POLLIN) == 0 {
            throw .ioctl(device: path, request: "poll", errno: ENODEV)
        }
        var buffer = v4l2_buffer()
        buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        buffer.memory = V4L2_MEMORY_MMAP.rawValue
        do throws(V4L2Error) {
            try Self.ioctl(fd, cv4l2_dqbuf, "VIDIOC_DQBUF", &buffer, path)
            return buffer
        } catch .ioctl(_, _, EAGAIN) {
            return nil  // woken without a filled buffer
        }
    }

    /// Whole frames only: fields sent one after the other (SEQ_TB, ALTERNATE…) would put scene rows at other
    /// buffer rows than the mask expects.
    static func isProgressive(_ field: UInt32) -> Bool {
        field == V4L2_FIELD_NONE.rawValue || field == V4L2_FIELD_ANY.rawValue || field == V4L2_FIELD_INTERLACED.rawValue
            || field == V4L2_FIELD_INTERLACED_TB.rawValue || field == V4L2_FIELD_INTERLACED_BT.rawValue
    }

    /// Sets a control found by its name (case-insensitive), e.g. vivid's "Horizontal Movement".
    public func setControl(named name: String, to value: Int32) throws(V4L2Error) {
        try Self.setControl(fd: fd, path: path, named: name, to: value)
    }

    private static func setControl(fd: Int32, path: String, named name: String, to value: Int32) throws(V4L2Error) {
        var query = v4l2_queryctrl()
        query.id = cv4l2_ctrl_flag_next
        while (try? ioctl(fd, cv4l2_queryctrl, "VIDIOC_QUERYCTRL", &query, path)) != nil {
            let controlName = withUnsafeBytes(of: query.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if controlName.lowercased() == name.lowercased() {
                var control = v4l2_control(id: query.id, value: value)
                try ioctl(fd, cv4l2_s_ctrl, "VIDIOC_S_CTRL", &control, path)
                return
            }
            query.id |= cv4l2_ctrl_flag_next
        }
        throw .ioctl(device: path, request: "VIDIOC_S_CTRL(\(name))", errno: EINVAL)
    }

    /// Sets a control on a device by name without streaming from it (another process may be).
    public static func setControl(path: String, named name: String, to value: Int32) throws(V4L2Error) {
        let fd = cv4l2_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(device: path, errno: errno) }
        defer { v4l2_close(fd) }
        try setControl(fd: fd, path: path, named: name, to: value)
    }

    // MARK: - Discovery

    /// Video devices present, by path.
    public static func devices() -> [String] {
        guard let folder = opendir("/dev") else { return [] }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("video"), Int(name.dropFirst(5)) != nil { names.append("/dev/" + name) }
        }
        return names.sorted { Int($0.dropFirst(10)) ?? 0 < Int($1.dropFirst(10)) ?? 0 }
    }

    /// Driver, card, bus and formats of a device (without streaming).
    public static func info(path: String) throws(V4L2Error) -> CameraInfo {
        let fd = cv4l2_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(device: path, errno: errno) }
        defer { v4l2_close(fd) }
        var capability = v4l2_capability()
        try ioctl(fd, cv4l2_querycap, "VIDIOC_QUERYCAP", &capability, path)
        var formats: [CameraInfo.Format] = []
        for offered in try Self.formats(fd, path) {
            var sizes: [String] = []
            var size = v4l2_frmsizeenum()
            size.pixel_format = offered.code
            while (try? ioctl(fd, cv4l2_enum_framesizes, "VIDIOC_ENUM_FRAMESIZES", &size, path)) != nil {
                if size.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
                    sizes.append("\(size.discrete.width)x\(size.discrete.height)")
                } else {
                    sizes.append(
                        "\(size.stepwise.min_width)x\(size.stepwise.min_height)…\(size.stepwise.max_width)x\(size.stepwise.max_height)"
                    )
                    break
                }
                size.index += 1
            }
            formats.append(
                .init(
                    fourcc: fourcc(offered.code), description: offered.description, emulated: offered.emulated,
                    sizes: sizes))
        }
        return CameraInfo(
            path: path, driver: text(capability.driver), card: text(capability.card), bus: text(capability.bus_info),
            serial: serial(path), formats: formats)
    }

    // MARK: - Helpers

    /// Every ioctl goes through here: retried on EINTR, errno kept with the request's name.
    static func ioctl<T>(
        _ fd: Int32, _ request: UInt, _ name: String, _ argument: inout T, _ path: String
    ) throws(V4L2Error) {
        do throws(SystemCallError) {
            try SystemCall.retrying(name) {
                withUnsafeMutablePointer(to: &argument) { cv4l2_ioctl(fd, request, UnsafeMutableRawPointer($0)) }
            }
        } catch {
            throw .ioctl(device: path, request: name, errno: error.code)
        }
    }

    private static func formats(_ fd: Int32, _ path: String) throws(V4L2Error) -> [(
        code: UInt32, description: String, emulated: Bool
    )] {
        var result: [(UInt32, String, Bool)] = []
        var description = v4l2_fmtdesc()
        description.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        while (try? ioctl(fd, cv4l2_enum_fmt, "VIDIOC_ENUM_FMT", &description, path)) != nil {
            let text = withUnsafeBytes(of: description.description) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            result.append((description.pixelformat, text, description.flags & UInt32(V4L2_FMT_FLAG_EMULATED) != 0))
            description.index += 1
        }
        return result
    }

    static func fourcc(_ code: UInt32) -> String {
        String(decoding: [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: code >> $0) }, as: UTF8.self)
    }

    /// The frame layout of a negotiated format, with the driver's line stride.
    static func geometry(_ pix: v4l2_pix_format, _ format: PixelFormat, _ path: String) throws(V4L2Error)
        -> FrameGeometry
    {
        let width = Int(pix.width)
        let height = Int(pix.height)
        let stride = Int(pix.bytesperline)
        let chromaRows = (height + 1) / 2
        var planes: [PlaneLayout]
        switch format {
        case .yuyv: planes = [PlaneLayout(offset: 0, stride: max(stride, width * 2), rowBytes: width * 2, rows: height)]
        case .grey: planes = [PlaneLayout(offset: 0, stride: max(stride, width), rowBytes: width, rows: height)]
        case .nv12:
            let lumaStride = max(stride, width)
            planes = [
                PlaneLayout(offset: 0, stride: lumaStride, rowBytes: width, rows: height),
                PlaneLayout(
                    offset: lumaStride * height, stride: lumaStride, rowBytes: (width + 1) / 2 * 2, rows: chromaRows),
            ]
        case .i420:
            let lumaStride = max(stride, width)
            let chromaStride = max(lumaStride / 2, (width + 1) / 2)
            let u = lumaStride * height
            let v = u + chromaStride * chromaRows
            planes = [
                PlaneLayout(offset: 0, stride: lumaStride, rowBytes: width, rows: height),
                PlaneLayout(offset: u, stride: chromaStride, rowBytes: (width + 1) / 2, rows: chromaRows),
                PlaneLayout(offset: v, stride: chromaStride, rowBytes: (width + 1) / 2, rows: chromaRows),
            ]
        }
        let needed = planes.map { $0.offset + $0.stride * $0.rows }.max() ?? 0
        guard width > 0, height > 0, width <= FrameGeometry.maximumSide, height <= FrameGeometry.maximumSide,
            format != .yuyv || width % 2 == 0
        else {
            throw .noUsableFormat(device: path, offered: ["\(width)x\(height)"])
        }
        return FrameGeometry(
            format: format, width: width, height: height, planes: planes, byteCount: max(needed, Int(pix.sizeimage)))
    }
}
