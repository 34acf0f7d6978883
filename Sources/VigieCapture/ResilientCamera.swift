import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// A V4L2 camera that survives being unplugged, stalling or being swapped: it reports each change of state and
/// reopens the device by itself with capped backoff.
///
/// It streams only a camera whose picture has the commissioned framing's aspect ratio (the one the privacy masks
/// were drawn for): another aspect is refused (`camera_mismatch`) and retried, never streamed. It remembers the
/// camera's identity in `identityFile`; another camera on the same node reports `camera_replaced`.
/// `withNextFrame(_:)` blocks until a frame arrives or `stop()` is called (then it returns `nil`).
public final class ResilientCamera: FrameSource {
    public let path: String
    public let framing: CameraFraming
    private let requestedRate: Double
    private let identityFile: String?
    private var camera: V4L2Camera?
    private var link: CameraLink
    private let stopping: StopSignal
    /// Told of each change of the camera's condition (and of an identity it could not save).
    private let notify: @Sendable (UnitEvent) -> Void
    private var pendingRelearn = false
    private var droppedBefore = 0

    /// Tries the camera at once; a camera that is absent, fails or has the wrong framing is reported and retried
    /// from `withNextFrame(_:)`, so a unit whose camera is slow to appear at boot still starts.
    /// - Parameters:
    ///   - framing: the size asked for, which the masks were drawn for.
    ///   - identityFile: where the identity of the camera is kept between runs; `nil` keeps none.
    public init(
        path: String, framing: CameraFraming, framesPerSecond: Double, identityFile: String? = nil,
        link: CameraLink = CameraLink(), stop: StopSignal = StopSignal(),
        notify: @escaping @Sendable (UnitEvent) -> Void
    ) {
        self.path = path
        self.framing = framing
        self.requestedRate = framesPerSecond
        self.identityFile = identityFile
        self.link = link
        self.stopping = stop
        self.notify = notify
        open()
    }

    /// The camera's rate once open, the rate asked for until then.
    public var framesPerSecond: Double { camera?.framesPerSecond ?? requestedRate }
    public var pacesItself: Bool { true }
    /// Geometry of the camera now streaming, if any.
    public var geometry: FrameGeometry? { camera?.geometry }
    /// Identity of the camera now streaming, if any.
    public var identity: CameraIdentity? { camera?.identity }

    /// Frames dropped by the driver since the start, across reconnections.
    public var droppedFrames: Int { droppedBefore + (camera?.droppedFrames ?? 0) }

    public var state: CameraLink.State { link.state }

    /// Releases the device.
    public func close() {
        guard let camera else { return }
        droppedBefore += camera.droppedFrames
        camera.close()
        self.camera = nil
    }

    public func withNextFrame<Result>(_ body: (Frame) throws -> Result) throws -> Result? {
        while !stopping.isSet {
            stopping.beat()
            guard let camera else {
                open()
                continue
            }
            // An error from `body` (the pipeline) is passed on as it is; only the camera's own are handled here.
            var failure: (any Error)?
            do {
                let outcome = try camera.withNextFrame { frame -> Result? in
                    perform(link.frameArrived())
                    do { return try body(frame) } catch {
                        failure = error
                        return nil
                    }
                }
                if let failure { throw failure }
                if case .some(.some(let value)) = outcome { return value }
            } catch let error as V4L2Error where failure == nil {
                if case .timeout(_, let seconds) = error {
                    perform(link.timedOut(seconds: seconds))
                } else {
                    perform(link.failed(reason: error.description))
                }
            }
        }
        return nil
    }

    /// Whether the frame just returned is the first after a reconnect (the detector must re-learn).
    public func takeRelearn() -> Bool {
        defer { pendingRelearn = false }
        return pendingRelearn
    }

    private func perform(_ actions: [CameraLink.Action]) {
        for action in actions {
            switch action {
            case .report(let condition, let reason):
                notify(.camera(condition, reason: reason))
            case .relearn:
                pendingRelearn = true
            case .reopen(let delay):
                close()
                pause(delay)
            }
        }
    }

    /// Opens the device and checks it: identity (a replacement is reported), then framing (nothing is streamed
    /// with masks drawn for another picture).
    private func open() {
        let candidate: V4L2Camera
        do {
            candidate = try V4L2Camera(
                path: path, width: framing.width, height: framing.height, framesPerSecond: requestedRate)
        } catch {
            perform(link.failed(reason: error.description))
            return
        }
        checkIdentity(candidate.identity)
        let delivered = candidate.geometry
        switch framing.check(width: delivered.width, height: delivered.height) {
        case .mismatch:
            candidate.close()
            perform(
                link.refused(
                    .mismatch,
                    reason:
                        "\(candidate.identity.card) gives \(delivered.width)x\(delivered.height), another aspect ratio than the \(framing) the masks were drawn for: not streamed"
                ))
            return
        case .rescaled:
            notify(
                .camera(
                    .rescaled,
                    reason:
                        "gives \(delivered.width)x\(delivered.height) instead of \(framing) (same aspect ratio): masks redrawn for that size"
                ))
        case .exact:
            break
        }
        camera = candidate
    }

    /// Compares the camera with the one remembered, reports a replacement, and remembers this one.
    private func checkIdentity(_ identity: CameraIdentity) {
        guard let identityFile else { return }
        let known = (try? TextFile.read(path: identityFile, limit: 4096)).flatMap(CameraIdentity.init(encoded:))
        guard known != identity else { return }
        if let known {
            notify(.camera(.replaced, reason: "\(path) was \(known), is now \(identity)"))
        }
        if let failure = SystemCall.replaceFile(identityFile, with: identity.encoded) {
            notify(.cameraIdentityNotSaved(reason: "\(identityFile): camera identity not saved (\(failure))"))
        }
    }

    private func pause(_ seconds: Double) {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        while clock.now < deadline && !stopping.isSet {
            stopping.beat()
            SystemCall.sleep(.milliseconds(50))
        }
    }
}

/// A flag another thread raises to make a blocked camera return (within a stall timeout or a backoff step); and
/// the camera loop's heartbeat, which moves at each frame, each wait that timed out and each step of a backoff, and
/// stops when the loop is stuck (in a read, an ioctl of a wedged device): what the systemd watchdog follows.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    private let heartbeat = Atomic<Int>(0)
    public init() {}
    public func raise() { flag.store(true, ordering: .relaxed) }
    public var isSet: Bool { flag.load(ordering: .relaxed) }
    /// The loop made progress.
    public func beat() { heartbeat.add(1, ordering: .relaxed) }
    /// Beats so far: compare two readings.
    public var beats: Int { heartbeat.load(ordering: .relaxed) }
}
