import Logging
import Synchronization
import VigieCore
import VigieImage

#if canImport(Glibc)
import Glibc
#endif

/// Runs one camera: frames from the source, masked, analysed, events logged with a masked snapshot.
///
/// A file or synthetic source is paced at its frame rate, as a camera would deliver it. Runs on the caller's
/// thread until the source ends, `frameLimit` is reached or `stop()` is called.
public final class CameraService: Sendable {
    /// What the service did, for the log at shutdown and for tests.
    public struct Report: Sendable, Equatable {
        public var frames = 0
        public var eventsStarted = 0
        public var eventsEnded = 0
        public var snapshots = 0
    }

    private let configuration: Configuration
    private let logger: Logger
    private let frameLimit: Int?
    private let snapshotDirectory: String?
    private let paced: Bool
    private let stopping = Atomic<Bool>(false)

    /// - Parameters:
    ///   - frameLimit: stop after this many frames (tests, bounded demos); `nil` runs until stopped.
    ///   - snapshotDirectory: where to write the masked JPEG of each event's start; `nil` keeps none.
    ///   - paced: wait for each frame's time (true for a daemon; false to run a file as fast as possible).
    public init(
        configuration: Configuration, logger: Logger, frameLimit: Int? = nil, snapshotDirectory: String? = nil,
        paced: Bool = true
    ) {
        self.configuration = configuration
        self.logger = logger
        self.frameLimit = frameLimit
        self.snapshotDirectory = snapshotDirectory
        self.paced = paced
    }

    /// Asks `run()` to return after the current frame. Safe from any thread or a signal handler's queue.
    public func stop() { stopping.store(true, ordering: .relaxed) }

    /// Opens the configured source and processes frames until told to stop.
    public func run() throws -> Report {
        let source = try Self.openSource(configuration)
        let geometry = source.geometry
        logger.info(
            "camera started",
            metadata: [
                "source": "\(configuration.source)", "geometry": "\(geometry)",
                "fps": "\(source.framesPerSecond)", "masks": "\(configuration.mask.polygons.count)",
            ])
        let pipeline = FramePipeline(configuration: configuration, geometry: geometry)
        let pool = FramePool(geometry: geometry, capacity: 2)
        let encoder = try JPEGEncoder()
        let clock = ContinuousClock()
        let start = clock.now
        let period = Duration.seconds(1 / source.framesPerSecond)
        var report = Report()
        while !stopping.load(ordering: .relaxed) {
            if let frameLimit, report.frames >= frameLimit { break }
            guard let frame = pool.take() else { break }
            defer { pool.recycle(frame) }
            guard try source.next(into: frame) else {
                logger.info("source ended")
                break
            }
            let result = pipeline.process(frame)
            report.frames += 1
            handle(result.updates, masked: result.masked, encoder: encoder, report: &report)
            if paced {
                let due = start + period * report.frames
                let now = clock.now
                if due > now { Self.sleep(due - now) }
            }
        }
        handle(pipeline.finish(), masked: nil, encoder: encoder, report: &report)
        logger.info(
            "camera stopped",
            metadata: ["frames": "\(report.frames)", "events": "\(report.eventsEnded)", "snapshots": "\(report.snapshots)"])
        return report
    }

    private func handle(
        _ updates: [MotionEventTracker.Update], masked: MaskedFrame?, encoder: JPEGEncoder, report: inout Report
    ) {
        for update in updates {
            switch update {
            case .started(let zone, let frame, let time, let boxes):
                report.eventsStarted += 1
                var metadata: Logger.Metadata = [
                    "event.zone": "\(zone)", "frame": "\(frame)", "time": "\(Self.seconds(time))",
                    "boxes": "\(boxes.map { Self.describe($0) }.joined(separator: " "))",
                ]
                if let masked, let path = snapshot(masked, zone: zone, frame: frame, encoder: encoder) {
                    report.snapshots += 1
                    metadata["snapshot"] = "\(path)"
                }
                logger.notice("motion started", metadata: metadata)
            case .ended(let event):
                report.eventsEnded += 1
                logger.notice(
                    "motion ended",
                    metadata: [
                        "event.zone": "\(event.zone)", "start": "\(Self.seconds(event.startTime))",
                        "end": "\(Self.seconds(event.endTime))", "peak_area": "\(Self.seconds(event.peakArea * 100))%",
                    ])
            }
        }
    }

    /// Writes the masked frame as JPEG; returns its path. Failure to write degrades, never stops the camera.
    private func snapshot(_ masked: MaskedFrame, zone: String, frame: Int, encoder: JPEGEncoder) -> String? {
        guard let snapshotDirectory else { return nil }
        do {
            let jpeg = try encoder.encode(masked, quality: configuration.snapshotQuality)
            let path = "\(snapshotDirectory)/\(configuration.deviceID)-\(frame)-\(zone).jpg"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                logger.warning("snapshot not written", metadata: ["path": "\(path)", "error": "\(SystemError.describe(errno))"])
                return nil
            }
            defer { close(fd) }
            let written = jpeg.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == jpeg.count else {
                logger.warning("snapshot truncated", metadata: ["path": "\(path)"])
                return nil
            }
            return path
        } catch {
            logger.warning("snapshot failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    static func openSource(_ configuration: Configuration) throws -> FrameSource {
        switch configuration.source {
        case .synthetic:
            return SyntheticScene.street(geometry: try FrameGeometry(format: .i420, width: 640, height: 480), framesPerSecond: 10)
        case .y4m(let path):
            return try Y4MFileSource(path: path, loop: configuration.loop)
        case .v4l2(let device):
            throw DaemonError.unsupportedSource("v4l2:\(device): camera capture is not in this build yet (issue 4)")
        }
    }

    private static func sleep(_ duration: Duration) {
        let parts = duration.components
        var request = timespec(tv_sec: Int(parts.seconds), tv_nsec: Int(parts.attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    static func seconds(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return String(rounded)
    }

    static func describe(_ rect: NormalizedRect) -> String {
        "[\(seconds(rect.x)),\(seconds(rect.y)),\(seconds(rect.width)),\(seconds(rect.height))]"
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
