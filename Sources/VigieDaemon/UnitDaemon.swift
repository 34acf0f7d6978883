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
        /// Tells systemd of readiness, status and liveness (inactive unless started by systemd).
        public var systemd = SystemdNotifier(environment: [:])
        /// Where the local control socket listens (`vigie status`, `vigie doctor`); none if `nil`.
        public var controlSocket: String?

        public init(configuration: Configuration) { self.configuration = configuration }
    }

    private let launch: Launch
    private let logger: Logger
    private let camera: CameraService
    private let uplink: UplinkService?
    /// The unit's voice; `nil` on a unit without a speaker (`[audio]` or `[speaker]`).
    private let speaker: SpeakerService?
    /// Where every event goes (see `EventSink`).
    private let events: EventSink
    private let started = ContinuousClock.now
    /// `stop()` was called: systemd hears nothing more but the end.
    private let stopRequested = Atomic<Bool>(false)
    /// How `run` ends: the camera returned, or it did not within `cameraStopBound` of `stop()`.
    private enum Ending: Sendable {
        case camera(Result<CameraService.Report, any Error>)
        case cameraHung
    }
    private let endings: AsyncStream<Ending>
    private let ending: AsyncStream<Ending>.Continuation
    /// How long `stop()` waits for the camera's current frame before stopping without it.
    static let cameraStopBound = Duration.seconds(4)

    public init(launch: Launch, logger: Logger) throws {
        self.launch = launch
        self.logger = logger
        (endings, ending) = AsyncStream<Ending>.makeStream()
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
        let clips = configuration.speaker.map { SpeakerService.loadClips($0, logger: logger) } ?? ClipLibrary()
        if let settings = configuration.uplink {
            let outbox = try SQLiteOutbox(
                directory: configuration.stateDirectory, maximumItems: settings.outboxMaximumItems,
                maximumBytes: settings.outboxMaximumBytes)
            uplink = try UplinkService(
                identity: .init(
                    deviceID: configuration.deviceID, role: configuration.role.rawValue,
                    board: configuration.board ?? "generic",
                    firmware: Self.firmware,
                    capabilities: ["motion", "snapshot", "privacy_masks", "camera_watchdog"]
                        + (configuration.speaker == nil ? [] : ["speaker"]),
                    clips: clips.clips.values.sorted { $0.id < $1.id }.map { ($0.id, $0.duration) }),
                settings: settings, outbox: outbox, logger: logger)
        } else {
            uplink = nil
        }
        let events = EventSink(uplink: uplink, logger: logger)
        self.events = events
        speaker = configuration.speaker.map {
            SpeakerService(settings: $0, clips: clips, events: events, logger: logger)
        }
        camera = CameraService(
            configuration: configuration, logger: logger, frameLimit: launch.frameLimit,
            snapshotDirectory: launch.snapshotDirectory, identityFile: identityFile,
            notify: { notice in
                // Never waits on the disk, never fails: while the disk fails, events are kept in memory.
                switch notice {
                case .motionStarted(let zone, let boxes, let snapshot):
                    events.raise(
                        UplinkEvent(
                            kind: "motion", priority: Priority.alert, zone: zone, boxes: boxes, snapshot: snapshot))
                case .motionEnded(let event):
                    events.raise(
                        UplinkEvent(
                            kind: "motion_end", priority: Priority.routine, zone: event.zone, boxes: event.boxes,
                            details: [
                                ("duration_s", CameraService.rounded(event.endTime - event.startTime)),
                                ("peak_area", CameraService.rounded(event.peakArea * 100) + "%"),
                            ]))
                case .cameraState(let kind, let reason):
                    events.raise(UplinkEvent(kind: kind, priority: Priority.fault, details: [("reason", reason)]))
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
        await speaker?.start()
        let testTask = Task { await self.raiseTestEvents() }
        let systemdTask = Task { await self.superviseForSystemd() }
        let control = startControlServer()
        defer {
            uplinkTask.cancel()
            testTask.cancel()
            systemdTask.cancel()
            control?.stop()
        }
        let camera = self.camera
        let ending = self.ending
        Self.detach { ending.yield(.camera(Result { try camera.run() })) }
        var result: Result<CameraService.Report, any Error> = .success(CameraService.Report())
        var next = endings.makeAsyncIterator()
        if let end = await next.next() {
            switch end {
            case .camera(let outcome):
                result = outcome
            case .cameraHung:
                // A source blocked in the kernel (a stalled pipe, a stuck driver) cannot be woken: leave it; the
                // uplink still stops cleanly, and the process's exit ends the thread.
                logger.error(
                    "the camera did not stop in time; stopping without it",
                    metadata: ["seconds": "\(Self.cameraStopBound.components.seconds)"])
            }
        }
        testTask.cancel()
        _ = await testTask.value
        await speaker?.stop()
        if let uplink { await uplink.shutdown() }
        _ = try result.get()
    }

    /// Stops the unit: the camera after its current frame, then the uplink (`run` returns once both are done,
    /// within about 14 s: 4 s at most for the camera, 3 s to deliver what waits, 2 s for the `offline` status, 5 s
    /// for the outbox's last commit; the unit file's `TimeoutStopSec` is longer).
    public func stop() {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        launch.systemd.stopping(status: "stopping")
        camera.stop()
        let ending = self.ending
        Task {
            try? await Task.sleep(for: Self.cameraStopBound)
            ending.yield(.cameraHung)
        }
    }

    // MARK: - systemd

    /// `READY=1` at once (the unit runs, degraded or not), then every few seconds a `STATUS=` line and, with a
    /// watchdog, `WATCHDOG=1` only while frames are processed (or the camera is reported lost and retried, which a
    /// restart would not mend): a pipeline that hangs stops the pings and systemd restarts the unit.
    private func superviseForSystemd() async {
        let systemd = launch.systemd
        guard systemd.isActive else { return }
        systemd.ready(status: await statusLine())
        let interval = min(systemd.watchdogInterval ?? .seconds(5), .seconds(5))
        var lastFrames = camera.currentStatistics.frames
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if stopRequested.load(ordering: .acquiring) { return }
            let stats = camera.currentStatistics
            if systemd.watchdogInterval != nil && (stats.frames != lastFrames || stats.cameraFault != nil) {
                systemd.watchdog()
            }
            lastFrames = stats.frames
            systemd.status(await statusLine())
        }
    }

    /// What `systemctl status` shows: the camera and the uplink in one line.
    func statusLine() async -> String {
        let stats = camera.currentStatistics
        var camera =
            if let fault = stats.cameraFault {
                "camera \(fault)"
            } else if stats.frames == 0 {
                "camera starting"
            } else {
                "camera \(CameraService.rounded(stats.framesPerSecond)) fps, \(stats.frames) frames"
            }
        if !stats.armed { camera += ", disarmed" }
        guard let uplink else { return camera + "; no uplink" }
        let link = await uplink.isConnected ? "connected" : "disconnected"
        return camera + "; uplink \(link), outbox \(uplink.outboxDepth())"
    }

    // MARK: - Control socket

    /// Listens on the control socket if one is configured; a socket that cannot be made is logged, not fatal.
    private func startControlServer() -> ControlServer? {
        guard let path = launch.controlSocket else { return nil }
        do {
            let server = try ControlServer(path: path, logger: logger)
            server.start { [self] request in
                switch request {
                case .status: await statusReport()
                case .doctor: await doctorReport()
                }
            }
            logger.info("control socket listening", metadata: ["path": "\(path)"])
            return server
        } catch {
            logger.error(
                "control socket unavailable: vigie status cannot reach this unit", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The whole unit at a glance, for `vigie status`.
    func statusReport() async -> String {
        let configuration = launch.configuration
        let stats = camera.currentStatistics
        var json = JSONWriter()
        json.beginObject()
        json.bool("ok", true)
        json.string("device", configuration.deviceID)
        json.string("role", configuration.role.rawValue)
        json.string("board", configuration.board ?? "none")
        json.string("firmware", Self.firmware)
        json.integer("uptime_s", Int((ContinuousClock.now - started).components.seconds))
        json.beginObject("camera")
        json.string("source", Self.describe(configuration.source))
        json.string("state", cameraState(stats))
        json.number("fps", stats.framesPerSecond, decimals: 1)
        json.integer("frames", stats.frames)
        json.integer("dropped_frames", stats.droppedFrames)
        json.bool("armed", stats.armed)
        json.integer("masks", configuration.mask.polygons.count)
        json.endObject()
        json.beginObject("uplink")
        if let uplink {
            json.string("state", await uplink.isConnected ? "connected" : "disconnected")
            json.string("brokers", configuration.uplink?.brokers.map(\.description).joined(separator: ",") ?? "")
            json.integer("outbox", uplink.outboxDepth())
            json.integer("quarantined", uplink.quarantinedCount())
        } else {
            json.string("state", "none")
        }
        json.endObject()
        if let voice = await speaker?.report {
            json.beginObject("speaker")
            json.string("state", voice.fault == nil ? "ready" : "fault")
            json.string("output", voice.output)
            if let fault = voice.fault { json.string("fault", fault) }
            json.integer("clips", voice.clips)
            json.endObject()
        }
        json.beginArray("last_events")
        for event in events.last {
            json.beginObject()
            json.string("id", event.id)
            json.string("kind", event.kind)
            json.integer("priority", event.priority)
            json.string("time", Timestamp.rfc3339(millis: event.millis))
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.text
    }

    /// The daemon's own verdicts for `vigie doctor` (which adds what it can check without the daemon).
    func doctorReport() async -> String {
        let stats = camera.currentStatistics
        let streaming = camera.isStreaming
        var checks: [DoctorCheck] = []
        checks.append(
            DoctorCheck(
                name: "camera", ok: streaming,
                detail: streaming
                    ? "\(cameraState(stats)), \(CameraService.rounded(stats.framesPerSecond)) fps from "
                        + Self.describe(launch.configuration.source)
                    : "\(cameraState(stats)) (\(Self.describe(launch.configuration.source)))",
                hint: "check the cable and power; `vigie camera check DEVICE` tests it alone"))
        if let uplink {
            let connected = await uplink.isConnected
            let brokers = launch.configuration.uplink?.brokers.map(\.description).joined(separator: ", ") ?? ""
            checks.append(
                DoctorCheck(
                    name: "uplink", ok: connected,
                    detail: connected ? "connected to \(brokers)" : "not connected to \(brokers)",
                    hint:
                        "check the network, the broker's address, TLS files and credentials (journalctl -u vigied -p warning)"
                ))
            let depth = uplink.outboxDepth()
            checks.append(
                DoctorCheck(
                    name: "outbox", ok: depth >= 0,
                    detail: depth >= 0 ? "\(depth) waiting, \(uplink.quarantinedCount()) quarantined" : "unreadable",
                    hint: "the state folder's disk may be failing (journalctl -u vigied -p err)"))
        }
        if let voice = await speaker?.report {
            checks.append(
                DoctorCheck(
                    name: "speaker", ok: voice.fault == nil,
                    detail: voice.fault.map { "\(voice.output): \($0)" }
                        ?? "\(voice.output), \(voice.clips) clips",
                    hint: "check the sound card (aplay -l) and [speaker] pcm; `vigie speaker test --pcm NAME` tests it")
            )
        }
        checks.append(DoctorCheck.disk(launch.configuration.stateDirectory))
        var json = JSONWriter()
        json.beginObject()
        json.bool("ok", true)
        json.beginArray("checks")
        for check in checks { check.write(to: &json) }
        json.endArray()
        json.endObject()
        return json.text
    }

    private func cameraState(_ stats: CameraService.Statistics) -> String {
        if let fault = stats.cameraFault { return fault }
        if camera.isStreaming { return "streaming" }
        return stats.frames == 0 ? "starting" : "stalled"
    }

    static func describe(_ source: Configuration.Source) -> String {
        switch source {
        case .synthetic: "synthetic"
        case .y4m(let path): "y4m:\(path)"
        case .v4l2(let device): device
        }
    }

    // MARK: - Reload

    public enum ReloadResult: Sendable {
        case applied(masks: Int, zones: Int)
        case refused(String)
    }

    /// Reads the configuration again and applies it (masks, zones, detection); a file with errors is refused, the
    /// running configuration kept, and a `config_refused` event says why. For `cmd/reload` and SIGHUP.
    public func reload() -> ReloadResult {
        let next: Configuration
        do {
            if let path = launch.configurationPath {
                next = try Configuration.load(path: path)
            } else {
                next = try Configuration.parse(DemoConfiguration.text, file: "<demo>")
            }
        } catch {
            let reason = error.issues.prefix(5).map(\.description).joined(separator: "; ")
            logger.error("configuration refused; the running one is kept", metadata: ["errors": "\(reason)"])
            events.raise(UplinkEvent(kind: "config_refused", priority: Priority.fault, details: [("reason", reason)]))
            return .refused(reason)
        }
        camera.reload(next)
        logger.notice(
            "configuration reloaded",
            metadata: ["masks": "\(next.mask.polygons.count)", "zones": "\(next.zones.count)"])
        events.raise(
            UplinkEvent(
                kind: "config_changed", priority: Priority.fault,
                details: [("masks", "\(next.mask.polygons.count)"), ("zones", "\(next.zones.count)")]))
        return .applied(masks: next.mask.polygons.count, zones: next.zones.count)
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
            let voice = await speaker?.report
            return CommandReply.ok(requestID: request.requestID, command: name) { json in
                if let voice {
                    json.beginObject("speaker")
                    json.bool("ok", voice.fault == nil)
                    json.string("output", voice.output)
                    if let fault = voice.fault { json.string("fault", fault) }
                    json.integer("clips", voice.clips)
                    json.endObject()
                }
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
            switch reload() {
            case .refused(let reason):
                return CommandReply.error(
                    requestID: request.requestID, command: name, code: "invalid_configuration", message: reason)
            case .applied(let masks, let zones):
                return CommandReply.ok(requestID: request.requestID, command: name) { json in
                    json.integer("masks", masks)
                    json.integer("zones", zones)
                }
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
        case .say(let text, let voice, let priority, let repeatCount):
            guard let speaker else { return Self.noSpeaker(request) }
            return Self.speakerReply(
                request,
                await speaker.say(
                    text: text, voice: voice, priority: priority, repeatCount: repeatCount,
                    why: "command:\(request.requestID)"))
        case .play(let clip, let repeatCount):
            guard let speaker else { return Self.noSpeaker(request) }
            return Self.speakerReply(
                request,
                await speaker.play(
                    clip: clip, repeatCount: repeatCount, priority: .command, why: "command:\(request.requestID)"))
        }
    }

    private static func noSpeaker(_ request: CommandRequest) -> [UInt8] {
        CommandReply.error(
            requestID: request.requestID, command: request.command.name, code: "speaker_unavailable",
            message: "this unit has no speaker")
    }

    private static func speakerReply(
        _ request: CommandRequest, _ result: Result<String, SpeakerService.Refusal>
    ) -> [UInt8] {
        switch result {
        case .success(let message):
            return CommandReply.ok(requestID: request.requestID, command: request.command.name) { json in
                json.string("status", "queued")
                json.string("message", message)
            }
        case .failure(let refusal):
            return CommandReply.error(
                requestID: request.requestID, command: request.command.name, code: refusal.code,
                message: refusal.message)
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
        guard uplink != nil, launch.testEvents > 0 else { return }
        for index in 1...launch.testEvents {
            if Task.isCancelled { return }
            let id = await events.raiseStored(
                UplinkEvent(
                    kind: "test", priority: index % 10 == 0 ? Priority.emergency : Priority.alert,
                    details: [("n", "\(index)")]))
            // Only once stored: tools/powercut holds every event so announced to reach the centre.
            Self.writeStandardOutput("raised n=\(index) id=\(id ?? "")\n")
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
    static func writeStandardOutput(_ text: String) { writeAll(text, to: 1) }

    /// Writes all of `text` to `descriptor` (retrying short writes and EINTR); gives up silently on an error.
    static func writeAll(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, base + offset, bytes.count - offset)
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
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw DaemonError.unsupportedSource(
                    "\(current): cannot create the state folder (\(SystemError.describe(errno)))")
            }
        }
    }
}
