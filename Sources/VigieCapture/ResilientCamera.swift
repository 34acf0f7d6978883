import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// A V4L2 camera that survives being unplugged or stalling: it reports each change of state and reopens the
/// device by itself with capped backoff, keeping the geometry it started with. `next(into:)` blocks until a
/// frame arrives or `stop()` is called (then it returns `false`).
public final class ResilientCamera: FrameSource {
    /// A change of state to report (`camera_stalled`, `camera_lost`, `camera_restored`) and whether the
    /// pipeline must re-learn its background.
    public struct Notice: Sendable, Equatable {
        public var kind: String
        public var reason: String
        public var relearn: Bool
    }

    public let path: String
    public let geometry: FrameGeometry
    public let framesPerSecond: Double
    private let width: Int
    private let height: Int
    private var camera: V4L2Camera?
    private var link: CameraLink
    private let stopping: StopSignal
    private let notify: @Sendable (Notice) -> Void
    private var pendingRelearn = false
    private var droppedBefore = 0

    /// Opens the camera now (so a wrong path or format is an error at start, not a silent retry loop).
    public init(
        path: String, width: Int, height: Int, framesPerSecond: Double, link: CameraLink = CameraLink(),
        stop: StopSignal = StopSignal(), notify: @escaping @Sendable (Notice) -> Void
    ) throws(V4L2Error) {
        let camera = try V4L2Camera(path: path, width: width, height: height, framesPerSecond: framesPerSecond)
        self.camera = camera
        self.path = path
        self.geometry = camera.geometry
        self.framesPerSecond = camera.framesPerSecond
        self.width = camera.geometry.width
        self.height = camera.geometry.height
        self.link = link
        self.stopping = stop
        self.notify = notify
    }

    /// Frames dropped by the driver since the start, across reconnections.
    public var droppedFrames: Int { droppedBefore + (camera?.droppedFrames ?? 0) }

    public var state: CameraLink.State { link.state }

    /// Releases the device.
    public func close() {
        camera?.close()
        camera = nil
    }

    public func next(into frame: Frame) throws -> Bool {
        while !stopping.isSet {
            guard let camera else {
                reopen()
                continue
            }
            do {
                _ = try camera.next(into: frame)
                perform(link.frameArrived())
                return true
            } catch let error as V4L2Error {
                if case .timeout(_, let seconds) = error {
                    perform(link.timedOut(seconds: seconds))
                } else {
                    perform(link.failed(reason: error.description))
                }
            }
        }
        return false
    }

    /// Whether the frame just returned is the first after a reconnect (the detector must re-learn).
    public func takeRelearn() -> Bool {
        defer { pendingRelearn = false }
        return pendingRelearn
    }

    private func perform(_ actions: [CameraLink.Action]) {
        for action in actions {
            switch action {
            case .report(let kind, let reason):
                notify(Notice(kind: kind, reason: reason, relearn: kind == "camera_restored"))
            case .relearn:
                pendingRelearn = true
            case .reopen(let delay):
                if let camera {
                    droppedBefore += camera.droppedFrames
                    camera.close()
                    self.camera = nil
                }
                pause(delay)
            }
        }
    }

    private func reopen() {
        do {
            let candidate = try V4L2Camera(path: path, width: width, height: height, framesPerSecond: framesPerSecond)
            guard candidate.geometry == geometry else {
                candidate.close()
                perform(link.failed(reason: "came back as \(candidate.geometry), expected \(geometry)"))
                return
            }
            camera = candidate
        } catch {
            perform(link.failed(reason: error.description))
        }
    }

    private func pause(_ seconds: Double) {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        while clock.now < deadline && !stopping.isSet {
            var step = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&step, nil)
        }
    }
}

/// A flag another thread raises to make a blocked camera return (within a stall timeout or a backoff step).
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func raise() { flag.store(true, ordering: .relaxed) }
    public var isSet: Bool { flag.load(ordering: .relaxed) }
}
