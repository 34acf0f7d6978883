import Logging
import Synchronization
import VigieCapture
import VigieCore
import VigieImage

#if canImport(Glibc)
    import Glibc
#endif

/// Runs one camera: frames from the source, masked, analysed; motion and the rules' alerts reported with a masked
/// snapshot.
///
/// Runs on the caller's thread (blocking) until the source ends, `frameLimit` is reached or `stop()` is
/// called. Other threads talk to it through thread-safe requests (snapshot, arm/disarm, reload) that the
/// camera loop serves between frames.
public final class CameraService: Sendable {
    /// What the service did, for the log at shutdown and for tests.
    public struct Report: Sendable, Equatable {
        public var frames = 0
        public var eventsStarted = 0
        public var eventsEnded = 0
        public var snapshots = 0
        /// Alerts the rules raised.
        public var alerts = 0
    }

    /// What the camera tells the rest of the daemon: motion, and changes of the camera's condition.
    public typealias Notice = UnitEvent

    /// Live figures for telemetry and the self-test.
    public struct Statistics: Sendable, Equatable {
        public var frames = 0
        /// Measured over the last few seconds (0 when no frame came for a second or more).
        public var framesPerSecond = 0.0
        /// The camera's last reported state (`camera_lost`, `camera_mismatch`…), `nil` while it streams.
        public var cameraFault: String?
        /// Seconds since the last frame (monotonic), `nil` before the first.
        public var secondsSinceFrame: Double?
        /// Frames the camera driver skipped (gaps in its sequence numbers).
        public var droppedFrames = 0
        public var running = false
        public var armed = true
        /// The source's nominal frame rate.
        public var nominalRate = 0.0
        /// When the last frame was processed (monotonic milliseconds).
        var lastFrameMillis: Int?
    }

    private let configuration: Mutex<Configuration>
    private let pendingConfiguration = Mutex<Configuration?>(nil)
    private let logger: Logger
    private let frameLimit: Int?
    /// Where alerts' snapshots are kept on the unit, if anywhere (used by the camera thread only).
    private let snapshotArchive: Mutex<SnapshotArchive?>
    private let identityFile: String?
    private let paced: Bool
    private let notify: @Sendable (Notice) -> Void
    private let activity: (@Sendable (Int64, ActivityGrid) -> Void)?
    private let stopping = Atomic<Bool>(false)
    /// Wakes a camera blocked waiting for a frame or for the device to come back.
    private let cameraStop = StopSignal()
    /// Waiting snapshot requests, and whether the camera loop is there to serve them: from the start (a request
    /// that comes before the first frame waits for it, within its timeout) until the loop ends.
    private struct SnapshotQueue {
        var serving = true
        var nextID = 0
        var waiting: [(id: Int, continuation: CheckedContinuation<[UInt8]?, Never>)] = []
    }
    private let snapshotRequests = Mutex(SnapshotQueue())
    /// Milliseconds (monotonic) until which motion is not reported; 0 armed, `Int.max` until `arm`.
    private let disarmedUntil = Atomic<Int>(0)
    private let statistics = Mutex(Statistics())

    /// - Parameters:
    ///   - frameLimit: stop after this many frames (tests, bounded demos); `nil` runs until stopped.
    ///   - snapshotDirectory: also write the masked JPEG of each alert here, within `snapshotLimits`; `nil` keeps
    ///     none on disk.
    ///   - identityFile: where a camera's identity is remembered, to report `camera_replaced`; `nil` keeps none.
    ///   - paced: wait for each frame's time (true for a daemon; false to run a file as fast as possible).
    ///   - notify: called on the camera thread for each alert; must not block for long.
    ///   - activity: called on the camera thread with each finished minute of motion activity (wall-clock minute,
    ///     16×16 grid of frames with motion), while armed; must not block (the event store queues it).
    public init(
        configuration: Configuration, logger: Logger, frameLimit: Int? = nil, snapshotDirectory: String? = nil,
        snapshotLimits: SnapshotArchive.Limits = .init(), identityFile: String? = nil, paced: Bool = true,
        notify: @escaping @Sendable (Notice) -> Void = { _ in },
        activity: (@Sendable (_ minute: Int64, _ grid: ActivityGrid) -> Void)? = nil
    ) {
        self.activity = activity
        self.identityFile = identityFile
        self.configuration = Mutex(configuration)
        self.logger = logger
        self.frameLimit = frameLimit
        snapshotArchive = Mutex(snapshotDirectory.map { SnapshotArchive(folder: $0, limits: snapshotLimits) })
        self.paced = paced
        self.notify = notify
    }

    /// Moves while the camera loop makes progress (frames, timed-out waits, backoff steps); stops when it is stuck.
    public var heartbeat: Int { cameraStop.beats }

    /// Asks `run()` to return after the current frame. Safe from any thread.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        cameraStop.raise()
    }

    /// The masked JPEG of the next frame, or `nil` if the camera is not running or gives no frame within
    /// `timeout` seconds (stalled, unplugged).
    public func snapshot(timeout: Double = 3) async -> [UInt8]? {
        await withCheckedContinuation { continuation in
            let id: Int? = snapshotRequests.withLock { queue in
                guard queue.serving else { return nil }
                queue.nextID += 1
                queue.waiting.append((queue.nextID, continuation))
                return queue.nextID
            }
            guard let id else {
                continuation.resume(returning: nil)
                return
            }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                let expired = self.snapshotRequests.withLock { queue in
                    queue.waiting.firstIndex { $0.id == id }.map { queue.waiting.remove(at: $0).continuation }
                }
                expired?.resume(returning: nil)
            }
        }
    }

    /// Stops or resumes raising motion events. `minutes` re-arms by itself after that time.
    public func setArmed(_ armed: Bool, minutes: Int? = nil) {
        if armed {
            disarmedUntil.store(0, ordering: .relaxed)
        } else {
            disarmedUntil.store(minutes.map { Self.monotonicMillis() + $0 * 60_000 } ?? Int.max, ordering: .relaxed)
        }
    }

    /// The wall clock in milliseconds since the epoch (activity minutes are the wall clock's).
    static func wallMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    public var isArmed: Bool { disarmedUntil.load(ordering: .relaxed) <= Self.monotonicMillis() }

    /// Applies a new, already validated configuration between two frames (masks, zones, motion settings,
    /// snapshot quality; a different source is reopened).
    public func reload(_ configuration: Configuration) { pendingConfiguration.withLock { $0 = configuration } }

    public var currentStatistics: Statistics {
        var value = statistics.withLock { $0 }
        value.armed = isArmed
        if let lastFrame = value.lastFrameMillis {
            let idle = Double(Self.monotonicMillis() - lastFrame) / 1000
            value.secondsSinceFrame = idle
            if idle >= 1 { value.framesPerSecond = 0 }
        }
        return value
    }

    /// Whether frames are flowing now: running, no camera fault, a frame within the last two seconds (or three
    /// frame periods). What the self-test reports as the camera's verdict.
    public var isStreaming: Bool {
        let value = currentStatistics
        return value.running && value.cameraFault == nil && value.frames > 0
            && (value.secondsSinceFrame ?? .infinity) < max(2, 3 / max(value.nominalRate, 0.1))
    }

    /// Opens the configured source and processes frames until told to stop.
    public func run() throws -> Report {
        var configuration = self.configuration.withLock { $0 }
        var source = try openSource(configuration)
        defer { source.close() }
        // Built for the geometry of the frames that actually arrive: a camera may come back at another size of
        // the same aspect ratio, and a reload brings new masks. Never a frame with the old raster on a new size.
        var pipeline: FramePipeline?
        // The pipeline a reload retired, until the next frame builds its successor: its tamper state carries over.
        var retired: FramePipeline?
        log(started: configuration, source: source)
        let encoder = try JPEGEncoder()
        let clock = ContinuousClock()
        var start = clock.now
        var paceFrames = 0
        var period = Duration.seconds(1 / source.framesPerSecond)
        var report = Report()
        var accumulator = ActivityAccumulator()
        defer { if let finished = accumulator.finish() { activity?(finished.minute, finished.grid) } }
        statistics.withLock {
            $0.running = true
            $0.nominalRate = source.framesPerSecond
        }
        // The rate is measured over the last one to five seconds, so a camera that slows down shows it.
        var window = (start: clock.now, frames: 0)
        snapshotRequests.withLock { $0.serving = true }
        defer {
            statistics.withLock { $0.running = false }
            // Nobody waits for ever on a camera that stopped.
            let waiting = snapshotRequests.withLock { queue in
                queue.serving = false
                defer { queue.waiting = [] }
                return queue.waiting
            }
            for request in waiting { request.continuation.resume(returning: nil) }
        }
        while !stopping.load(ordering: .relaxed) {
            cameraStop.beat()
            snapshotArchive.withLock { $0?.pruneIfDue() }
            if let frameLimit, report.frames >= frameLimit { break }
            if let next = pendingConfiguration.withLock({ pending in
                defer { pending = nil }; return pending
            }) {
                if let pipeline {
                    handle(pipeline.finish(), configuration: configuration, report: &report)
                }
                if Self.needsReopen(configuration, next) {
                    source.close()
                    source = try openSource(next)
                    period = .seconds(1 / source.framesPerSecond)
                    start = clock.now
                    paceFrames = 0
                }
                configuration = next
                self.configuration.withLock { $0 = next }
                retired = pipeline ?? retired
                pipeline = nil
                log(started: configuration, source: source)
            }
            let processed: Void? = try source.withNextFrame { frame in
                let current: FramePipeline
                if let pipeline, pipeline.geometry == frame.geometry {
                    current = pipeline
                    if source.takeRelearn() {
                        // The first frames after a reconnect are not motion: re-learn the scene.
                        handle(
                            current.restart(), configuration: configuration,
                            report: &report)
                    }
                } else {
                    if let pipeline {
                        handle(pipeline.finish(), configuration: configuration, report: &report)
                    }
                    let reconnected = source.takeRelearn()
                    current = FramePipeline(
                        configuration: configuration, geometry: frame.geometry, replacing: pipeline ?? retired,
                        reason: reconnected ? .reconnect : .reload)
                    pipeline = current
                    retired = nil
                    // A tampering the new pipeline could not take over is over: the centre is told why.
                    if let change = current.tamperChange { handle(change, snapshot: nil) }
                }
                let armed = isArmed
                current.process(frame, armed: armed, localTime: Self.localNow()) { masked, updates in
                    handle(
                        armed ? updates : [],
                        snapshot: { try? encoder.encode(masked, quality: configuration.snapshotQuality) },
                        configuration: configuration, report: &report)
                    // The rules raise nothing while disarmed (the pipeline does not run them).
                    if !current.ruleAlerts.isEmpty {
                        let jpeg = try? encoder.encode(masked, quality: configuration.snapshotQuality)
                        for alert in current.ruleAlerts {
                            handle(alert, snapshot: jpeg, configuration: configuration, report: &report)
                        }
                    }
                    // Tampering is about the camera itself: reported whether the unit is armed or not.
                    if let change = current.tamperChange {
                        handle(change, snapshot: try? encoder.encode(masked, quality: configuration.snapshotQuality))
                    }
                    serveSnapshots(masked, encoder: encoder, quality: configuration.snapshotQuality)
                    if let activity, isArmed,
                        let finished = accumulator.frame(
                            millis: Self.wallMillis(), boxes: current.detector.boxes.lazy.map(\.rect))
                    {
                        activity(finished.minute, finished.grid)
                    }
                }
            }
            guard processed != nil else {
                logger.info("source ended")
                break
            }
            report.frames += 1
            paceFrames += 1
            window.frames += 1
            let elapsed = clock.now - window.start
            let seconds = elapsed.inSeconds
            let dropped = source.droppedFrames
            let rate = source.framesPerSecond
            statistics.withLock {
                $0.droppedFrames = dropped
                $0.frames = report.frames
                $0.nominalRate = rate
                $0.lastFrameMillis = Self.monotonicMillis()
                if seconds >= 1 { $0.framesPerSecond = Double(window.frames) / seconds }
            }
            if seconds >= 5 { window = (clock.now, 0) }
            if paced && !source.pacesItself {
                let due = start + period * paceFrames
                let now = clock.now
                if due > now { Self.sleep(due - now) }
            }
        }
        if let pipeline {
            handle(pipeline.finish(), configuration: configuration, report: &report)
        }
        logger.info(
            "camera stopped",
            metadata: [
                "frames": "\(report.frames)", "events": "\(report.eventsEnded)", "snapshots": "\(report.snapshots)",
            ])
        return report
    }

    /// Whether a new configuration needs the source opened again: another source, or another size or rate for
    /// the same camera.
    static func needsReopen(_ old: Configuration, _ new: Configuration) -> Bool {
        guard old.source == new.source else { return true }
        guard case .v4l2 = new.source else { return false }
        return old.captureWidth != new.captureWidth || old.captureHeight != new.captureHeight
            || old.captureRate != new.captureRate
    }

    private func log(started configuration: Configuration, source: FrameSource) {
        logger.info(
            "camera started",
            metadata: [
                "source": "\(configuration.source)", "framing": "\(configuration.framing)",
                "fps": "\(source.framesPerSecond)", "masks": "\(configuration.mask.polygons.count)",
            ])
    }

    private func serveSnapshots(_ masked: borrowing MaskedFrame, encoder: JPEGEncoder, quality: Int) {
        // A reload is waiting: the request is served from the next frame, the first with the new masks.
        guard pendingConfiguration.withLock({ $0 == nil }) else { return }
        let waiting = snapshotRequests.withLock { queue in
            defer { queue.waiting = [] }
            return queue.waiting
        }
        guard !waiting.isEmpty else { return }
        let jpeg = try? encoder.encode(masked, quality: quality)
        for request in waiting { request.continuation.resume(returning: jpeg) }
    }

    private func handle(
        _ updates: [MotionEventTracker.Update], snapshot: () -> [UInt8]? = { nil }, configuration: Configuration,
        report: inout Report
    ) {
        for update in updates {
            switch update {
            case .started(let zone, let frame, let time, let boxes):
                report.eventsStarted += 1
                var metadata: Logger.Metadata = [
                    "event.zone": "\(zone)", "frame": "\(frame)", "time": "\(UnitEvent.rounded(time))",
                    "boxes": "\(boxes.map { Self.describe($0) }.joined(separator: " "))",
                ]
                let jpeg = snapshot()
                if let jpeg, let path = write(jpeg, deviceID: configuration.deviceID, zone: zone) {
                    report.snapshots += 1
                    metadata["snapshot"] = "\(path)"
                }
                logger.notice("motion started", metadata: metadata)
                notify(.motionStarted(zone: zone, boxes: boxes, snapshot: jpeg))
            case .ended(let event):
                report.eventsEnded += 1
                logger.notice(
                    "motion ended",
                    metadata: [
                        "event.zone": "\(event.zone)", "start": "\(UnitEvent.rounded(event.startTime))",
                        "end": "\(UnitEvent.rounded(event.endTime))",
                        "peak_area": "\(UnitEvent.rounded(event.peakArea * 100))%",
                    ])
                notify(.motionEnded(event))
            }
        }
    }

    private func handle(
        _ alert: RuleAlert, snapshot: [UInt8]?, configuration: Configuration, report: inout Report
    ) {
        var metadata: Logger.Metadata = [
            "rule": "\(alert.rule)", "frame": "\(alert.frame)", "start": "\(UnitEvent.rounded(alert.startTime))",
            "confidence": "\(UnitEvent.rounded(alert.confidence))",
            "boxes": "\(alert.boxes.map { Self.describe($0) }.joined(separator: " "))",
        ]
        if let zone = alert.zone { metadata["event.zone"] = "\(zone)" }
        if let line = alert.line { metadata["line"] = "\(line)" }
        if let direction = alert.direction { metadata["direction"] = "\(direction.rawValue)" }
        if let snapshot, let path = write(snapshot, deviceID: configuration.deviceID, zone: alert.zone ?? alert.rule) {
            report.snapshots += 1
            metadata["snapshot"] = "\(path)"
        }
        report.alerts += 1
        logger.notice("\(alert.kind.rawValue)", metadata: metadata)
        notify(.rule(alert, snapshot: snapshot))
    }

    private func handle(_ change: TamperChange, snapshot: [UInt8]?) {
        let measured = change.measurement
        logger.warning(
            "\(change.kind)",
            metadata: [
                "frame": "\(change.frame)", "confidence": "\(UnitEvent.rounded(change.confidence))",
                "contrast": "\(UnitEvent.rounded(measured.contrast))",
                "sharpness": "\(UnitEvent.rounded(measured.sharpness))",
                "correlation": "\(UnitEvent.rounded(measured.correlation))",
            ])
        notify(.tamper(change, snapshot: snapshot))
    }

    /// Writes a snapshot file; returns its path. Failure to write degrades, never stops the camera.
    private func write(_ jpeg: [UInt8], deviceID: String, zone: String) -> String? {
        let written = snapshotArchive.withLock { $0?.write(jpeg, deviceID: deviceID, zone: zone) }
        switch written {
        case .success(let path): return path
        case .failure(let error):
            logger.warning("snapshot not written", metadata: ["error": "\(error)"])
            return nil
        case nil: return nil
        }
    }

    func openSource(_ configuration: Configuration) throws -> FrameSource {
        switch configuration.source {
        case .synthetic:
            return SyntheticScene.street(
                geometry: try FrameGeometry(format: .i420, width: 640, height: 480), framesPerSecond: 10)
        case .y4m(let path):
            return try Y4MFileSource(path: path, loop: configuration.loop)
        case .v4l2(let device):
            let logger = self.logger
            let notify = self.notify
            return ResilientCamera(
                path: device, framing: configuration.framing, framesPerSecond: configuration.captureRate,
                identityFile: identityFile, stop: cameraStop
            ) { [self] event in
                if case .camera(let condition, let reason) = event {
                    logger.warning("\(condition.rawValue)", metadata: ["device": "\(device)", "reason": "\(reason)"])
                    statistics.withLock { $0.cameraFault = condition.isFault ? condition.rawValue : nil }
                }
                notify(event)
            }
        }
    }

    private static func sleep(_ duration: Duration) { SystemCall.sleep(duration) }

    /// The local wall-clock time now, for the zones' schedules (the system's time zone, as `localtime_r` has it).
    static func localNow() -> LocalTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var broken = tm()
        localtime_r(&seconds, &broken)
        return LocalTime(seconds: Double(now.tv_sec + broken.tm_gmtoff) + Double(now.tv_nsec) / 1e9)
    }

    static func monotonicMillis() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }

    static func describe(_ rect: NormalizedRect) -> String {
        "[\(UnitEvent.rounded(rect.x)),\(UnitEvent.rounded(rect.y)),\(UnitEvent.rounded(rect.width)),\(UnitEvent.rounded(rect.height))]"
    }
}

/// Why the daemon cannot run a configuration.
public enum DaemonError: Error, CustomStringConvertible {
    case unsupportedSource(String)

    public var description: String {
        switch self {
        case .unsupportedSource(let reason): reason
        }
    }
}
