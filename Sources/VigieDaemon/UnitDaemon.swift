import Logging
import Synchronization
import VigieCore
import VigieStore
import VigieUplink

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's composition: the camera, the uplink to the centre and the commands that join them.
public final class UnitDaemon: Sendable {
    public static let firmware = "0.1.0"

    /// How the daemon was started.
    public struct Launch: Sendable {
        public var configuration: Configuration
        /// Re-read by the `reload` command; `nil` for the built-in demo.
        public var configurationPath: String?
        public var frameLimit: Int?
        public var snapshotDirectory: String?
        /// Raise this many `test` events (every tenth an emergency), for store-and-forward checks. Once the raise of
        /// one has returned, `raised n=<index from 1> id=<event id>` is written to standard output.
        public var testEvents = 0
        public var testEventInterval = 0.01

        public init(configuration: Configuration) { self.configuration = configuration }
    }

    private let launch: Launch
    private let logger: Logger
    private let camera: CameraService
    private let uplink: UplinkService?
    private let started = ContinuousClock.now

    public init(launch: Launch, logger: Logger) throws {
        self.launch = launch
        self.logger = logger
        let configuration = launch.configuration
        // The state folder also remembers the camera's identity; without an uplink, a unit that cannot make it
        // still runs (it only cannot notice a swapped camera).
        var identityFile: String? = "\(configuration.stateDirectory)/camera.identity"
        do {
            try Self.makeDirectory(configuration.stateDirectory)
        } catch  where configuration.uplink == nil {
            logger.warning(
                "state folder unusable: a swapped camera will not be noticed", metadata: ["error": "\(error)"])
            identityFile = nil
        }
        if let settings = configuration.uplink {
            let outbox = try SQLiteOutbox(
                directory: configuration.stateDirectory, maximumItems: settings.outboxMaximumItems,
                maximumBytes: settings.outboxMaximumBytes)
            uplink = try UplinkService(
                identity: .init(
                    deviceID: configuration.deviceID, role: configuration.role.rawValue, board: configuration.board,
                    firmware: Self.firmware, capabilities: ["motion", "snapshot", "privacy_masks", "camera_watchdog"]),
                settings: settings, outbox: outbox, logger: logger)
        } else {
            uplink = nil
        }
        let uplink = self.uplink
        camera = CameraService(
            configuration: configuration, logger: logger, frameLimit: launch.frameLimit,
            snapshotDirectory: launch.snapshotDirectory, identityFile: identityFile,
            notify: { notice in
                // Never waits on the disk, never fails: while the disk fails, events are kept in memory.
                guard let uplink else { return }
                switch notice {
                case .motionStarted(let zone, let boxes, let snapshot):
                    uplink.raise(
                        UplinkEvent(
                            kind: "motion", priority: Priority.alert, zone: zone, boxes: boxes, snapshot: snapshot))
                case .motionEnded(let event):
                    uplink.raise(
                        UplinkEvent(
                            kind: "motion_end", priority: Priority.routine, zone: event.zone, boxes: event.boxes,
                            details: [
                                ("duration_s", CameraService.rounded(event.endTime - event.startTime)),
                                ("peak_area", CameraService.rounded(event.peakArea * 100) + "%"),
                            ]))
                case .cameraState(let kind, let reason):
                    uplink.raise(UplinkEvent(kind: kind, priority: Priority.fault, details: [("reason", reason)]))
                }
            })
    }

    /// Runs until `stop()` or the camera's source ends (with `frameLimit`).
    public func run() async throws {
        if let uplink {
            await uplink.configure(
                commands: { [self] request in await self.handle(request) },
                telemetry: { [self] in self.telemetry() })
        }
        let uplinkTask = Task { if let uplink { await uplink.run() } }
        let testTask = Task { await self.raiseTestEvents() }
        defer {
            uplinkTask.cancel()
            testTask.cancel()
        }
        let camera = self.camera
        let result: Result<CameraService.Report, any Error> = await withCheckedContinuation { continuation in
            Self.detach { continuation.resume(returning: Result { try camera.run() }) }
        }
        testTask.cancel()
        _ = await testTask.value
        if let uplink { await uplink.shutdown() }
        _ = try result.get()
    }

    public func stop() { camera.stop() }

    /// Reads the configuration file again (the built-in text for the demo) and hands it to the camera, which applies
    /// it from its next frame, then tells the centre with a `config_changed` event. A file with errors changes
    /// nothing. Used by the `reload` command and by SIGHUP (`systemctl reload vigied`).
    @discardableResult
    public func reload() throws(ConfigurationError) -> Configuration {
        let next: Configuration
        if let path = launch.configurationPath {
            next = try Configuration.load(path: path)
        } else {
            next = try Configuration.parse(DemoConfiguration.text, file: "<demo>")
        }
        camera.reload(next)
        uplink?.raise(
            UplinkEvent(
                kind: "config_changed", priority: Priority.fault,
                details: [("masks", "\(next.mask.polygons.count)"), ("zones", "\(next.zones.count)")]))
        return next
    }

    // MARK: - Commands

    func handle(_ request: CommandRequest) async -> [UInt8] {
        let name = request.command.name
        switch request.command {
        case .snapshot:
            guard let jpeg = await camera.snapshot() else {
                return CommandReply.error(
                    requestID: request.requestID, command: name, code: "camera_unavailable",
                    message: "the camera is not running")
            }
            guard let uplink else {
                return CommandReply.error(
                    requestID: request.requestID, command: name, code: "unavailable", message: "no uplink")
            }
            let sent = uplink.sendSnapshot(jpeg)
            return CommandReply.ok(requestID: request.requestID, command: name) { json in
                json.string("snapshot", sent.id)
                json.string("topic", sent.topic)
                json.integer("bytes", jpeg.count)
            }
        case .selftest:
            let stats = camera.currentStatistics
            let depth = uplink?.outboxDepth() ?? 0
            let disk = SystemProbe.diskFree(launch.configuration.stateDirectory)
            return CommandReply.ok(requestID: request.requestID, command: name) { json in
                json.beginObject("camera")
                json.bool("ok", camera.isStreaming)
                if let fault = stats.cameraFault { json.string("fault", fault) }
                json.integer("frames", stats.frames)
                json.number("fps", stats.framesPerSecond, decimals: 1)
                json.endObject()
                json.beginObject("outbox")
                json.bool("ok", depth >= 0)
                json.integer("depth", depth)
                json.endObject()
                json.beginObject("storage")
                json.bool("ok", (disk ?? 0) > 16 << 20)
                if let disk { json.integer("free_bytes", Int(disk)) }
                json.endObject()
                json.bool("armed", stats.armed)
            }
        case .reload:
            let next: Configuration
            do {
                next = try reload()
            } catch {
                return CommandReply.error(
                    requestID: request.requestID, command: name, code: "invalid_configuration",
                    message: error.issues.prefix(5).map(\.description).joined(separator: "; "))
            }
            return CommandReply.ok(requestID: request.requestID, command: name) { json in
                json.integer("masks", next.mask.polygons.count)
                json.integer("zones", next.zones.count)
            }
        case .arm:
            camera.setArmed(true)
            return CommandReply.ok(requestID: request.requestID, command: name) { $0.bool("armed", true) }
        case .disarm(let minutes):
            camera.setArmed(false, minutes: minutes)
            return CommandReply.ok(requestID: request.requestID, command: name) { json in
                json.bool("armed", false)
                if let minutes { json.integer("minutes", minutes) }
            }
        }
    }

    func telemetry() -> TelemetrySample {
        let stats = camera.currentStatistics
        var sample = TelemetrySample()
        sample.framesPerSecond = stats.framesPerSecond
        sample.frames = stats.frames
        sample.droppedFrames = stats.droppedFrames
        sample.cpuLoad = SystemProbe.load()
        sample.cpuTemperature = SystemProbe.temperature()
        sample.diskFreeBytes = SystemProbe.diskFree(launch.configuration.stateDirectory)
        sample.armed = stats.armed
        return sample
    }

    private func raiseTestEvents() async {
        guard let uplink, launch.testEvents > 0 else { return }
        for index in 1...launch.testEvents {
            if Task.isCancelled { return }
            let id = await uplink.raiseStored(
                UplinkEvent(
                    kind: "test", priority: index % 10 == 0 ? Priority.emergency : Priority.alert,
                    details: [("n", "\(index)")]))
            // Only once stored: tools/powercut holds every event so announced to reach the centre.
            Self.writeStandardOutput("raised n=\(index) id=\(id)\n")
            try? await Task.sleep(for: .milliseconds(Int(launch.testEventInterval * 1000)))
        }
        logger.notice("test events raised", metadata: ["count": "\(launch.testEvents)"])
    }

    // MARK: - Helpers

    /// Runs blocking work on a thread of its own, off the concurrency pool.
    static func detach(_ body: @escaping @Sendable () -> Void) {
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, context)
        precondition(status == 0, "cannot start a thread")
        pthread_detach(thread)
    }

    /// Writes `text` to standard output at once, unbuffered: what a line claims is out before the next step.
    static func writeStandardOutput(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = write(1, base + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o750) != 0 && errno != EEXIST {
                throw DaemonError.unsupportedSource(
                    "\(current): cannot create the state folder (\(SystemError.describe(errno)))")
            }
        }
    }
}
