import Logging
import ServiceLifecycle
import Synchronization
import VigieCore
import VigieGPIO
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
        public var snapshotLimits = SnapshotArchive.Limits()
        /// Raise this many `test` events (every tenth an emergency), for store-and-forward checks. Once the raise of
        /// one has returned, `raised n=<index from 1> id=<event id>` is written to standard output.
        public var testEvents = 0
        public var testEventInterval = 0.01
        /// Tells systemd of readiness, status and liveness (inactive unless started by systemd).
        public var systemd = SystemdNotifier(environment: [:])
        /// Where the local control socket listens (`vigie status`, `vigie doctor`); none if `nil`.
        public var controlSocket: String?
        /// What the command line set over the file, applied again to each reloaded file.
        public var overrides = Overrides()

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
    /// The local event store's writer; it opens the store on its own thread (see `openStore`).
    private let recorder: EventRecorder
    /// What opening the event store found worth telling the centre (a damaged store replaced), raised once the
    /// unit runs.
    private let storeOpening = StoreFinding()

    final class StoreFinding: Sendable {
        private let event = Mutex<UnitEvent?>(nil)
        func set(_ found: UnitEvent) { event.withLock { $0 = found } }
        func take() -> UnitEvent? { event.withLock { $0.take() } }
    }
    /// How often the store is purged (and once at start).
    static let purgeInterval = Duration.seconds(3600)
    /// The emergency call point; `nil` on a unit without a button line in `[gpio]`.
    private let callPoint: CallPointService?
    /// Set when the outbox could not be opened for writing at boot: it opens itself once it can.
    private let reopening: ReopeningOutbox?
    /// A damaged outbox set aside at boot.
    private let recovery: OutboxRecovery?
    private let started = ContinuousClock.now
    /// The configuration running now: the launch's, then each reload's (less what only a restart applies).
    private let current: Mutex<Configuration>
    /// `stop()` was called: systemd hears nothing more but the end.
    private let stopRequested = Atomic<Bool>(false)
    /// Held through a whole reload.
    private let reloading = Mutex(())
    /// The refusal last logged for each rule warning's source that cannot sound (logged once until it sounds).
    private let warningTrouble = Mutex<[String: String]>([:])
    /// The running parts, once `run` has made them.
    private let group = Mutex<ServiceGroup?>(nil)
    /// How long `stop()` waits for the camera's current frame before stopping without it.
    static let cameraStopBound = Duration.seconds(4)
    /// The most a graceful shutdown may take before what is left is cancelled (systemd's `TimeoutStopSec` is 20 s).
    static let shutdownBound = Duration.seconds(15)

    /// Throws nothing today: a unit degrades rather than stop (a state folder, an outbox or TLS files it cannot
    /// use are reported and retried); only an invalid configuration, refused before, keeps it from starting.
    public init(launch: Launch, logger: Logger) throws {
        self.launch = launch
        self.logger = logger
        current = Mutex(launch.configuration)
        let configuration = launch.configuration
        // The state folder also remembers the camera's identity; a unit that cannot make it still runs (it only
        // cannot notice a swapped camera), and its outbox waits in memory until the folder takes writes.
        var identityFile: String? = "\(configuration.stateDirectory)/camera.identity"
        do {
            try Self.makeDirectory(configuration.stateDirectory)
        } catch {
            logger.error(
                "state folder unusable: a swapped camera will not be noticed", metadata: ["error": "\(error)"])
            identityFile = nil
        }
        let clips = configuration.speaker.map { SpeakerService.loadClips($0, logger: logger) } ?? ClipLibrary()
        if let settings = configuration.uplink {
            (uplink, reopening, recovery) = Self.makeUplink(
                configuration, settings: settings,
                identity: UplinkService.Identity(
                    deviceID: configuration.deviceID, role: configuration.role.rawValue,
                    board: configuration.board ?? "generic",
                    firmware: Self.firmware,
                    capabilities: ["motion", "snapshot", "privacy_masks", "camera_watchdog"]
                        + (configuration.speaker == nil ? [] : ["speaker"])
                        + (configuration.gpio?.button == nil ? [] : ["callpoint"]),
                    clips: clips.clips.values.sorted { $0.id < $1.id }.map { ($0.id, $0.duration) }),
                logger: logger)
        } else {
            (uplink, reopening, recovery) = (nil, nil, nil)
        }
        let recorder = Self.openStore(configuration, logger: logger, found: storeOpening)
        self.recorder = recorder
        let events = EventSink(uplink: uplink, recorder: recorder, deviceID: configuration.deviceID, logger: logger)
        self.events = events
        recorder.onProblems(
            failure: { problem in
                logger.error(
                    problem.opening
                        ? "event store: cannot be opened; events wait in memory and it is tried again"
                        : "event store: cannot write; events wait in memory and are tried again",
                    metadata: ["error": "\(problem.error)", "held_in_memory": "\(problem.heldInMemory)"])
                events.raise(
                    .eventStoreFault(
                        opening: problem.opening, reason: problem.error.summary, heldInMemory: problem.heldInMemory))
            },
            recovery: { recovery in
                logger.notice("event store: writes again", metadata: ["failed_attempts": "\(recovery.failures)"])
                events.raise(
                    .eventStoreRecovered(
                        opening: recovery.opening, seconds: recovery.duration.inSeconds,
                        failedWrites: recovery.failures, written: recovery.written))
            })
        speaker = configuration.speaker.map {
            SpeakerService(settings: $0, clips: clips, events: events, logger: logger)
        }
        let activity: @Sendable (Int64, ActivityGrid) -> Void = { minute, grid in
            recorder.record(minute: minute, grid: grid)
        }
        camera = CameraService(
            configuration: configuration, logger: logger, frameLimit: launch.frameLimit,
            snapshotDirectory: launch.snapshotDirectory, snapshotLimits: launch.snapshotLimits,
            identityFile: identityFile,
            notify: { event in events.raise(event) },
            activity: activity)
        if let gpio = configuration.gpio, gpio.button != nil {
            callPoint = CallPointService(
                settings: configuration.callPoint, lines: gpio, open: Self.gpioOpener(gpio), events: events,
                speaker: speaker, camera: camera, uplink: uplink, logger: logger)
        } else {
            callPoint = nil
        }
    }

    /// Starts the event store's writer, which opens the store in the state folder on its own thread (its check
    /// can take tens of seconds on an SD card: the unit does not wait for it); a damaged store is set aside and a
    /// new one made (left in `found`, for the centre); a store that cannot be opened is tried again (the writer's
    /// failure handler tells of it).
    private static func openStore(_ configuration: Configuration, logger: Logger, found: StoreFinding)
        -> EventRecorder
    {
        let directory = configuration.stateDirectory
        return EventRecorder(opening: { () throws(SQLiteError) -> EventStore in
            let started = ContinuousClock.now
            let (store, recovery) = try EventStore.openRecovering(
                directory: directory, millis: UplinkService.nowMillis())
            if let recovery {
                logger.error(
                    "storage fault: the event store was damaged; it is set aside and a new one is used",
                    metadata: ["error": "\(recovery.reason)", "set_aside": "\(recovery.setAside)"])
                found.set(.eventStoreReplaced(reason: recovery.reason, setAside: recovery.setAside))
            }
            logger.info(
                "event store open",
                metadata: ["checked_in": "\(ContinuousClock.now - started)", "path": "\(store.path)"])
            return store
        })
    }

    /// Compares the masks with those of the last run (`masks.json` in the state folder): a change made while the
    /// unit was stopped is audited (`mask_change`, reason `restart`), as a reload's is. The first run only records
    /// them.
    /// The centre is told at once; the record is kept in the store once it is open (its check can take long
    /// after a power cut), and the masks are remembered in between, so that a reload meanwhile is compared with
    /// these.
    func auditMasksSinceLastRun() async {
        let configuration = current.withLock { $0 }
        let path = configuration.stateDirectory + "/" + MaskRecord.fileName
        var change: AuditRecord?
        if let text = try? TextFile.read(path: path, limit: 4 << 20) {
            if let last = MaskRecord.decode(text) {
                change = AuditRecord.maskChange(from: last, to: configuration.mask, user: "vigied", reason: "restart")
            } else {
                logger.warning(
                    "the masks of the last run cannot be read: a change across this restart is not audited",
                    metadata: ["file": "\(path)"])
            }
        }
        var id: String?
        if let change { id = await announce(change) }
        rememberMasks(configuration.mask)
        if let change { await keep(change, event: id, wait: Self.storeWait) }
    }

    /// Keeps `mask` as the masks last applied, for the next start's comparison.
    func rememberMasks(_ mask: PrivacyMask) {
        let path = current.withLock(\.stateDirectory) + "/" + MaskRecord.fileName
        if let failure = SystemCall.replaceFile(path, with: MaskRecord.encode(mask)) {
            logger.warning(
                "the masks applied cannot be recorded: a change across the next restart will not be audited",
                metadata: ["file": "\(path)", "error": "\(failure)"])
        }
    }

    /// Purges the event store now, with the retention and size cap of the running configuration.
    func purgeStore() {
        guard let store = recorder.store else { return }
        let storage = current.withLock(\.storage)
        let folder = String(store.path.dropLast(EventStore.fileName.count + 1))
        for name in EventStore.purgeSetAside(
            directory: folder, retentionMillis: storage.retentionMillis, nowMillis: UplinkService.nowMillis())
        {
            logger.info("event store: a damaged copy older than the retention deleted", metadata: ["file": "\(name)"])
        }
        do {
            let result = try store.purge(
                now: UplinkService.nowMillis(), retentionMillis: storage.retentionMillis,
                maximumBytes: storage.maximumBytes)
            if result.events + result.minutes > 0 {
                logger.info(
                    "event store purged",
                    metadata: [
                        "events": "\(result.events)", "minutes": "\(result.minutes)", "for_size": "\(result.forSize)",
                    ])
            }
        } catch {
            logger.error("event store: purge failed", metadata: ["error": "\(error)"])
        }
    }

    /// How long a mask change's audit record waits for the event store to open (after a power cut, its check).
    static let storeWait = Duration.seconds(600)

    /// Tells the centre of `record` (`export`, `mask_change`: kept in the outbox before this returns); returns the
    /// event's id (nil without an uplink).
    private func announce(_ record: AuditRecord) async -> String? {
        let id = await events.raiseStored(.audit(record))
        logger.notice(
            "audit", metadata: ["kind": "\(record.kind)", "user": "\(record.user)", "reason": "\(record.reason)"])
        return id
    }

    /// Keeps `record` (announced as event `id`) in the store, waiting up to `wait` for a store not open yet; a
    /// failure is logged and returned.
    @discardableResult
    private func keep(_ record: AuditRecord, event id: String?, wait: Duration) async -> Result<String?, SQLiteError> {
        guard let store = await recorder.opened(timeout: wait) else {
            let message =
                recorder.cannotOpen ? "the event store cannot be opened" : "the event store is still being opened"
            logger.error(
                "event store: the audit record cannot be kept",
                metadata: ["kind": "\(record.kind)", "error": "\(message)"])
            return .failure(SQLiteError(code: 14, message: message, context: "audit"))
        }
        do {
            try store.record(record, event: id, millis: UplinkService.nowMillis())
            return .success(id)
        } catch {
            logger.error(
                "event store: the audit record cannot be kept",
                metadata: ["kind": "\(record.kind)", "error": "\(error)"])
            return .failure(error)
        }
    }

    /// `vigie export`: its audit record kept and sent before it writes anything; an error reply stops the export.
    func recordExport(_ claim: ControlRequest.ExportClaim) async -> String {
        let record = AuditRecord(
            action: .export(
                since: claim.since, until: claim.until, events: claim.events, snapshots: claim.snapshots,
                output: claim.output),
            user: claim.user, reason: claim.reason)
        // Nothing is told nor written unless the store can keep the record: the CLI waits 5 s for this answer.
        guard await recorder.opened(timeout: .seconds(3)) != nil else {
            let why = recorder.cannotOpen ? "it cannot be opened" : "still being checked after a restart"
            return ControlServer.errorReply("the event store is not open (\(why)): export refused, try again shortly")
        }
        let id = await announce(record)
        switch await keep(record, event: id, wait: .seconds(1)) {
        case .failure(let error):
            return ControlServer.errorReply("the audit record cannot be kept (\(error.summary)): export refused")
        case .success(let id):
            var json = JSONWriter()
            json.beginObject()
            json.bool("ok", true)
            json.string("user", claim.user)
            if let id { json.string("event", id) }
            json.string("time", Timestamp.rfc3339(millis: UplinkService.nowMillis()))
            json.endObject()
            return json.text
        }
    }

    /// Opens the call point's lines: in memory for a simulated chip (the same lines each time, so that
    /// `vigie callpoint simulate` drives the ones the call point reads), through libgpiod otherwise.
    private static func gpioOpener(_ settings: GPIOSettings) -> CallPointService.Opener {
        if case .simulated = settings.chip {
            let lines = SimulatedGPIO(settings)
            return { lines }
        }
        return { () throws(GPIOError) in try LibgpiodLines(settings) }
    }

    /// The uplink and its outbox, whatever the state folder: a damaged outbox is set aside and replaced (and
    /// `storage_recovered` says so once the uplink runs); one that cannot be opened for writing is replaced by a
    /// `ReopeningOutbox`, which keeps events in memory until the folder takes writes.
    private static func makeUplink(
        _ configuration: Configuration, settings: UplinkSettings, identity: UplinkService.Identity, logger: Logger
    ) -> (UplinkService?, ReopeningOutbox?, OutboxRecovery?) {
        let directory = configuration.stateDirectory
        var failure: any Error
        do {
            let (outbox, recovery) = try SQLiteOutbox.openRecovering(
                directory: directory, maximumItems: settings.outboxMaximumItems,
                maximumBytes: settings.outboxMaximumBytes, millis: UplinkService.nowMillis())
            if let recovery { logRecovery(recovery, logger: logger) }
            let uplink = try UplinkService(identity: identity, settings: settings, outbox: outbox, logger: logger)
            if let recovery { uplink.raiseReport(recovery.event) }
            return (uplink, nil, recovery)
        } catch {
            failure = error
        }
        let reason =
            failure as? SQLiteError ?? SQLiteError(code: 14, message: "\(failure)", context: "open \(directory)")
        let reopening = ReopeningOutbox(
            directory: directory, maximumItems: settings.outboxMaximumItems, maximumBytes: settings.outboxMaximumBytes,
            reason: reason)
        logger.error(
            """
            storage fault: the outbox cannot be opened for writing; events are kept in memory and delivered from \
            there, and the outbox opens by itself once the state folder takes writes
            """,
            metadata: [
                "error": "\(reason)",
                "numbering": "\(reopening.inspected == nil ? "unknown: sequence numbers start again at 1" : "read")",
            ])
        do {
            let uplink = try UplinkService(identity: identity, settings: settings, outbox: reopening, logger: logger)
            reopening.onOpen { opening in
                logger.notice("the outbox is open again", metadata: ["id_offset": "\(opening.offset)"])
                if let recovery = opening.recovery {
                    logRecovery(recovery, logger: logger)
                    uplink.raiseReport(recovery.event)
                }
            }
            return (uplink, reopening, nil)
        } catch {
            // Not reached: a ReopeningOutbox always gives its numbering.
            logger.critical("no uplink: the outbox gives no numbering", metadata: ["error": "\(error)"])
            return (nil, reopening, nil)
        }
    }

    private static func logRecovery(_ recovery: OutboxRecovery, logger: Logger) {
        logger.error(
            """
            storage fault: the outbox was damaged; it is set aside (its undelivered events are not sent) and a new \
            one is used
            """, metadata: ["error": "\(recovery.reason)", "set_aside": "\(recovery.setAside)"])
    }

    /// What is degraded now, in a few words each, for the status line, the self-test and telemetry.
    func faults() async -> [String] {
        var faults: [String] = []
        if let fault = reopening?.fault { faults.append("outbox not writable (\(fault.summary))") }
        if let fault = await uplink?.fault { faults.append("uplink cannot start (\(fault))") }
        if recorder.cannotOpen {
            faults.append("event store cannot be opened: events wait in memory (see the log)")
        }
        return faults
    }

    /// Runs until `stop()` or the camera's source ends (with `frameLimit`): the unit's parts as one `ServiceGroup`
    /// (`UnitServices`), stopped in reverse order within `shutdownBound`.
    public func run() async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        checkWarnings(current.withLock { $0 })
        // First in, so last out: the camera's last minute of activity and the uplink's last events are recorded.
        let recorder = recorder
        services.append(
            .init(
                service: UnitServices.Until(
                    description: "event store",
                    body: { [self] in
                        // Once the store is open (its check may take long after a power cut).
                        while await recorder.opened(timeout: .seconds(60)) == nil, recorder.isOpening {
                            if Task.isCancelled { return }
                        }
                        if let found = storeOpening.take() { events.raise(found) }
                        await auditMasksSinceLastRun()
                        while !Task.isCancelled {
                            purgeStore()
                            do { try await Task.sleep(for: Self.purgeInterval) } catch { return }
                        }
                    },
                    finish: { [logger] in
                        if await !recorder.flush(timeout: .seconds(3)) {
                            // They were delivered through the outbox, or wait there; only the unit's record lacks them.
                            logger.warning(
                                "event store: events not kept at stop (the store was not open or not writable)",
                                metadata: ["events": "\(recorder.waitingEvents)"])
                        }
                        recorder.stop()
                    }),
                successTerminationBehavior: .ignore))
        if let uplink {
            await uplink.configure(
                commands: { [self] request in await self.handle(request) },
                telemetry: { [self] in self.telemetry() })
            if let callPoint {
                await uplink.observeDeliveries { topic, payload in callPoint.delivered(topic: topic, payload: payload) }
            }
            services.append(.init(service: UnitServices.Uplink(uplink: uplink)))
        }
        if let speaker {
            events.observe { [weak self] event in
                if case .rule(let alert, _) = event { self?.warn(of: alert, speaker: speaker) }
            }
            services.append(
                .init(
                    service: UnitServices.Until(
                        description: "speaker",
                        body: {
                            await speaker.start()
                            try? await gracefulShutdown()
                        },
                        finish: { await speaker.stop() })))
        }
        if let callPoint {
            services.append(
                .init(
                    service: UnitServices.Until(
                        description: "call point",
                        body: {
                            callPoint.start(selfTest: { [self] in _ = await self.selfTest(trigger: "schedule") })
                            try? await gracefulShutdown()
                        },
                        finish: { callPoint.stop() })))
        }
        // The camera ending by itself (`--frames`) ends the unit; failing, too (after the uplink has stopped).
        services.append(
            .init(
                service: UnitServices.Camera(camera: camera, logger: logger),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        if let control = startControlServer() {
            services.append(
                .init(
                    service: UnitServices.Until(
                        description: "control socket", body: { try? await gracefulShutdown() },
                        finish: { control.stop() })))
        }
        services.append(
            .init(
                service: UnitServices.Until(description: "systemd", body: { [self] in await superviseForSystemd() }),
                successTerminationBehavior: .ignore))
        services.append(
            .init(
                service: UnitServices.Until(description: "test events", body: { [self] in await raiseTestEvents() }),
                successTerminationBehavior: .ignore))
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = Self.shutdownBound
        let group = ServiceGroup(configuration: configuration)
        self.group.withLock { $0 = group }
        if stopRequested.load(ordering: .acquiring) { await group.triggerGracefulShutdown() }
        try await group.run()
    }

    /// Stops the unit: the camera after its current frame, then the uplink (`run` returns once both are done,
    /// within about 14 s: 4 s at most for the camera, 3 s to deliver what waits, 2 s for the `offline` status, 5 s
    /// for the outbox's last commit; `shutdownBound` cuts it at 15 s; the unit file's `TimeoutStopSec` is 20).
    public func stop() {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        launch.systemd.stopping(status: "stopping")
        guard let group = group.withLock({ $0 }) else { return }  // `run` triggers it as soon as it has one
        Task { await group.triggerGracefulShutdown() }
    }

    // MARK: - systemd

    /// `READY=1` at once (the unit runs, degraded or not), then every few seconds a `STATUS=` line and, with a
    /// watchdog, `WATCHDOG=1` only while the camera loop makes progress: frames, or, for a camera reported lost or
    /// stalled, its timed-out waits and reopen attempts (a restart would not mend those). A loop stuck in the
    /// kernel stops the pings, and systemd restarts the unit.
    private func superviseForSystemd() async {
        let systemd = launch.systemd
        guard systemd.isActive else { return }
        systemd.ready(status: await statusLine())
        let interval = min(systemd.watchdogInterval ?? .seconds(5), .seconds(5))
        var lastBeat = camera.heartbeat
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if stopRequested.load(ordering: .acquiring) { return }
            // The camera loop's heartbeat: frames, or a lost camera's timed-out waits and backoff steps. A loop
            // stuck in the kernel stops it, and with it the pings.
            let beat = camera.heartbeat
            if systemd.watchdogInterval != nil && beat != lastBeat { systemd.watchdog() }
            lastBeat = beat
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
                "camera \(UnitEvent.rounded(stats.framesPerSecond)) fps, \(stats.frames) frames"
            }
        if !stats.armed { camera += ", disarmed" }
        guard let uplink else { return camera + "; no uplink" }
        let link = await uplink.isConnected ? "connected" : "disconnected"
        let faults = await faults()
        return camera + "; uplink \(link), outbox \(uplink.outboxDepth())"
            + (faults.isEmpty ? "" : "; FAULT: " + faults.joined(separator: "; "))
    }

    // MARK: - Spoken warnings

    /// Sounds the warning (`say`/`play`) of the zone or line whose alert this is, with the zones and lines in force;
    /// the speaker's cool-down and quiet hours apply. Never waits: the camera's thread raised the alert. A warning
    /// that cannot sound (a clip missing, the speaker out of order) is logged once until it sounds again.
    private func warn(of alert: RuleAlert, speaker: SpeakerService) {
        let warning = current.withLock { RuleWarning.sounded(by: alert, zones: $0.zones, lines: $0.lines) }
        guard let warning else { return }
        let source = RuleWarning.source(of: alert)
        Task { [weak self, logger] in
            let result =
                switch warning {
                case .say(let text):
                    await speaker.say(text: text, voice: nil, priority: .rule, repeatCount: 1, why: source)
                case .play(let clip):
                    await speaker.play(clip: clip, repeatCount: 1, priority: .rule, why: source)
                }
            guard case .failure(let refusal) = result else {
                self?.warningTrouble.withLock { $0[source] = nil }
                return
            }
            let metadata: Logger.Metadata = [
                "why": "\(source)", "code": "\(refusal.code)", "reason": "\(refusal.message)",
            ]
            // Heard less than a cool-down ago, or at night: silent by design.
            if ["cooling_down", "quiet_hours"].contains(refusal.code) {
                logger.debug("rule warning not sounded", metadata: metadata)
            } else if self?.warningTrouble.withLock({ $0.updateValue(refusal.code, forKey: source) }) != refusal.code {
                logger.warning("rule warning not sounded (logged once until it sounds)", metadata: metadata)
            }
        }
    }

    /// Logs each warning of `configuration` that cannot sound on the running speaker (at start, and after a reload:
    /// the speaker and its clips are read at start only).
    private func checkWarnings(_ configuration: Configuration) {
        let problems = RuleWarning.problems(
            zones: configuration.zones, lines: configuration.lines, speaker: speaker?.settings,
            clips: Set(speaker?.clips.clips.keys.map { $0 } ?? []))
        for problem in problems {
            logger.warning(
                "rule warning will not sound", metadata: [problem.place: "\(problem.name)", "why": "\(problem.why)"])
        }
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
                case .callPoint(let action): await simulate(action)
                case .export(let claim): await recordExport(claim)
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
        let configuration = current.withLock { $0 }
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
        json.beginArray("faults")
        for fault in await faults() { json.string(nil, fault) }
        json.endArray()
        if let voice = await speaker?.report {
            json.beginObject("speaker")
            json.string("state", voice.fault == nil ? "ready" : "fault")
            json.string("output", voice.output)
            if let fault = voice.fault { json.string("fault", fault) }
            json.integer("clips", voice.clips)
            json.endObject()
        }
        if let callPoint { Self.write(callPoint.report, into: &json) }
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

    /// `vigie callpoint simulate`: the button moved, or the centre's answer, on the unit itself; the reply says
    /// where the call point is then.
    func simulate(_ action: ControlRequest.CallPointSimulation) async -> String {
        guard let callPoint else { return ControlServer.errorReply("this unit has no call point ([gpio] button_line)") }
        var result: Result<String?, CommandRefusal>
        switch action {
        case .press:
            result = callPoint.simulate(buttonActive: true).map { nil }
            if case .success = result {
                // Held as a finger would hold it, then released; the call is registered on the press.
                try? await Task.sleep(for: .milliseconds(200))
                result = callPoint.simulate(buttonActive: false).map { nil }
            }
        case .hold: result = callPoint.simulate(buttonActive: true).map { nil }
        case .release: result = callPoint.simulate(buttonActive: false).map { nil }
        case .ack: result = callPoint.answer(callID: nil, message: nil).map { $0 }
        case .end: result = callPoint.end(callID: nil).map { $0 }
        }
        if case .failure(let failure) = result {
            return ControlServer.errorReply("\(failure.code): \(failure.message)")
        }
        // Let the call point's thread take an edge in before reporting.
        try? await Task.sleep(for: .milliseconds(50))
        var json = JSONWriter()
        json.beginObject()
        json.bool("ok", true)
        json.string("action", action.rawValue)
        Self.write(callPoint.report, into: &json)
        json.endObject()
        return json.text
    }

    /// The call point's state as `vigie status` and `vigie callpoint simulate` show it.
    static func write(_ report: CallPointService.Report, into json: inout JSONWriter) {
        json.beginObject("callpoint")
        json.string("state", "\(report.phase)")
        if let call = report.callID { json.string("call", call) }
        json.bool("button_stuck", report.buttonStuck)
        json.bool("cabinet_open", report.cabinetOpen)
        json.beginObject("leds")
        json.string("call", report.lights.call.description)
        json.string("answered", report.lights.answered.description)
        json.string("fault", report.lights.fault.description)
        json.endObject()
        if let fault = report.fault { json.string("fault", fault) }
        json.endObject()
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
                    ? "\(cameraState(stats)), \(UnitEvent.rounded(stats.framesPerSecond)) fps from "
                        + Self.describe(current.withLock(\.source))
                    : "\(cameraState(stats)) (\(Self.describe(current.withLock(\.source))))",
                hint: "check the cable and power; `vigie camera check DEVICE` tests it alone"))
        if let uplink {
            let connected = await uplink.isConnected
            let brokers = launch.configuration.uplink?.brokers.map(\.description).joined(separator: ", ") ?? ""
            checks.append(
                DoctorCheck(
                    name: "uplink", ok: connected,
                    detail: connected
                        ? "connected to \(brokers)"
                        : "not connected to \(brokers)" + ((await uplink.fault).map { ": \($0)" } ?? ""),
                    hint:
                        "check the network, the broker's address, TLS files and credentials (journalctl -u vigied -p warning)"
                ))
            let depth = uplink.outboxDepth()
            let stored = reopening?.fault == nil
            checks.append(
                DoctorCheck(
                    name: "outbox", ok: depth >= 0 && stored,
                    detail: !stored
                        ? "not writable: events kept in memory (\(reopening?.fault?.summary ?? ""))"
                        : depth >= 0 ? "\(depth) waiting, \(uplink.quarantinedCount()) quarantined" : "unreadable",
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
        /// Applied; `restartNeeded` names the changed keys only a restart applies (they keep their running value).
        case applied(masks: Int, zones: Int, restartNeeded: [String])
        case refused(String)
    }

    /// Values the command line sets over the configuration file (`--device-id`, `--state-dir`, `--broker`).
    public struct Overrides: Sendable {
        public var deviceID: String?
        public var stateDirectory: String?
        public var brokers: [BrokerURL] = []

        public init() {}

        public func apply(to configuration: inout Configuration) {
            if let deviceID { configuration.deviceID = deviceID }
            if let stateDirectory { configuration.stateDirectory = stateDirectory }
            if !brokers.isEmpty {
                var settings = configuration.uplink ?? UplinkSettings()
                settings.brokers = brokers
                configuration.uplink = settings
            }
        }
    }

    /// Reads the configuration again and applies it (masks, zones, detection); a file with errors is refused, the
    /// running configuration kept, and a `config_refused` event says why. For `cmd/reload` and SIGHUP.
    public func reload() -> ReloadResult {
        // One reload at a time (SIGHUP and `cmd/reload` may meet): the file read last is the one applied.
        reloading.withLock { _ in reloadNow() }
    }

    private func reloadNow() -> ReloadResult {
        var next: Configuration
        do {
            if let path = launch.configurationPath {
                next = try Configuration.load(path: path)
            } else {
                next = try Configuration.parse(DemoConfiguration.text, file: "<demo>")
            }
        } catch {
            let reason = error.issues.prefix(5).map(\.description).joined(separator: "; ")
            logger.error("configuration refused; the running one is kept", metadata: ["errors": "\(reason)"])
            events.raise(.configRefused(reason: reason))
            return .refused(reason)
        }
        launch.overrides.apply(to: &next)
        // What only a restart applies keeps its running value until then.
        let restartNeeded: [String]
        (next, restartNeeded) = next.applicable(over: launch.configuration)
        camera.reload(next)
        let previous = current.withLock { current in
            defer { current = next }
            return current
        }
        // What the camera hides changed: the centre must know who changed it and when (the reload's caller).
        if let record = AuditRecord.maskChange(from: previous.mask, to: next.mask, user: "vigied", reason: "reload") {
            Task {
                let id = await announce(record)
                await keep(record, event: id, wait: Self.storeWait)
            }
            rememberMasks(next.mask)
        }
        logger.notice(
            "configuration reloaded",
            metadata: [
                "masks": "\(next.mask.polygons.count)", "zones": "\(next.zones.count)",
                "restart_needed": "\(restartNeeded.isEmpty ? "nothing" : restartNeeded.joined(separator: ","))",
            ])
        checkWarnings(next)
        events.raise(
            .configChanged(masks: next.mask.polygons.count, zones: next.zones.count, restartNeeded: restartNeeded))
        return .applied(masks: next.mask.polygons.count, zones: next.zones.count, restartNeeded: restartNeeded)
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
            let (findings, eventID) = await selfTest(trigger: "command")
            let (stats, voice, disk, depth) = (findings.stats, findings.voice, findings.diskFree, findings.outboxDepth)
            let outboxFault = findings.outboxFault
            return CommandReply.ok(requestID: request.requestID, command: name) { json in
                json.string("verdict", findings.report.ok ? "ok" : "fault")
                if let eventID { json.string("event", eventID) }
                if let voice {
                    json.beginObject("speaker")
                    json.bool("ok", voice.fault == nil)
                    json.string("output", voice.output)
                    if let fault = voice.fault { json.string("fault", fault) }
                    json.integer("clips", voice.clips)
                    json.endObject()
                }
                for part in findings.callPoint {
                    json.beginObject(part.name)
                    json.bool("ok", part.fault == nil)
                    if let fault = part.fault { json.string("fault", fault) }
                    json.endObject()
                }
                json.beginObject("camera")
                json.bool("ok", camera.isStreaming)
                if let fault = stats.cameraFault { json.string("fault", fault) }
                json.integer("frames", stats.frames)
                json.number("fps", stats.framesPerSecond, decimals: 1)
                json.endObject()
                json.beginObject("outbox")
                json.bool("ok", depth >= 0 && outboxFault == nil)
                json.integer("depth", depth)
                if let outboxFault {
                    json.string("fault", outboxFault)
                }
                if let recovery { json.string("recovered", "damaged at boot, set aside as \(recovery.setAside)") }
                json.endObject()
                json.beginObject("storage")
                json.bool("ok", findings.storageOK)
                if let disk { json.integer("free_bytes", Int(disk)) }
                json.endObject()
                json.bool("armed", stats.armed)
            }
        case .reload:
            switch reload() {
            case .refused(let reason):
                return CommandReply.error(
                    requestID: request.requestID, command: name, code: "invalid_configuration", message: reason)
            case .applied(let masks, let zones, let restartNeeded):
                return CommandReply.ok(requestID: request.requestID, command: name) { json in
                    json.integer("masks", masks)
                    json.integer("zones", zones)
                    json.beginArray("restart_needed")
                    for key in restartNeeded { json.string(nil, key) }
                    json.endArray()
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
        case .callAcknowledge(let call, let message):
            guard let callPoint else { return Self.noCallPoint(request) }
            if let message, let limit = speaker?.settings.queue.maximumTextLength, message.count > limit {
                // Refused before the call is answered: the caller would hear nothing of it.
                return Self.reply(
                    request,
                    Result<String, CommandRefusal>.failure(
                        CommandRefusal(
                            code: "text_too_long",
                            message: "the message is \(message.count) characters; the speaker says at most \(limit)")
                    )
                ) { _, _ in }
            }
            return Self.reply(request, callPoint.answer(callID: call, message: message)) { $0.string("call", $1) }
        case .callEnd(let call):
            guard let callPoint else { return Self.noCallPoint(request) }
            return Self.reply(request, callPoint.end(callID: call)) { $0.string("call", $1) }
        case .replay(let from, let to):
            return await replay(request, from: from, to: to)
        case .alertVerdict(let verdict):
            return await record(request, verdict: verdict)
        }
    }

    /// `cmd/replay`: the stored events numbered `from`…`to` sent again, marked `historical`.
    private func replay(_ request: CommandRequest, from: Int64, to: Int64) async -> [UInt8] {
        let name = request.command.name
        guard let uplink, let store = await recorder.opened(timeout: .seconds(2)) else {
            return storeUnavailable(request)
        }
        // What was raised a moment ago may still wait for its commit.
        _ = await recorder.flush(timeout: .seconds(2))
        do {
            let found = try store.events(fromSequence: from, to: to)
            for (event, snapshot) in found {
                // Behind everything live, first to go on overflow: the store still has them.
                uplink.resend(
                    payload: event.payload, kind: event.kind, priority: Priority.historical, snapshot: snapshot)
            }
            logger.info(
                "replay", metadata: ["from_seq": "\(from)", "to_seq": "\(to)", "events": "\(found.count)"])
            return CommandReply.ok(requestID: request.requestID, command: name) { json in
                json.integer("events", found.count)
                json.integer("missing", Int(to - from + 1) - found.count)
            }
        } catch {
            return CommandReply.error(
                requestID: request.requestID, command: name, code: "store_error", message: error.summary)
        }
    }

    /// The error reply to a command that needs the event store when there is none, or none yet.
    private func storeUnavailable(_ request: CommandRequest) -> [UInt8] {
        CommandReply.error(
            requestID: request.requestID, command: request.command.name, code: "store_unavailable",
            message: recorder.cannotOpen
                ? "the event store cannot be opened (see the unit's log); it is tried again"
                : "the event store is still being opened (checked after a restart): try again shortly")
    }

    /// `cmd/alert_confirm` and `cmd/alert_dismiss`: the operator's verdict recorded with the alert.
    private func record(_ request: CommandRequest, verdict: AlertVerdict) async -> [UInt8] {
        let name = request.command.name
        guard let store = await recorder.opened(timeout: .seconds(2)) else { return storeUnavailable(request) }
        _ = await recorder.flush(timeout: .seconds(2))
        do {
            guard try store.record(verdict, millis: UplinkService.nowMillis()) else {
                return CommandReply.error(
                    requestID: request.requestID, command: name, code: "unknown_event",
                    message: "no event '\(verdict.event)' in the store (never raised here, or purged)")
            }
            logger.info(
                "alert verdict",
                metadata: [
                    "event.id": "\(verdict.event)", "verdict": "\(verdict.word)", "operator": "\(verdict.operatorName)",
                ])
            return CommandReply.ok(requestID: request.requestID, command: name) { json in
                json.string("event", verdict.event)
                json.string("verdict", verdict.word)
            }
        } catch {
            return CommandReply.error(
                requestID: request.requestID, command: name, code: "store_error", message: error.summary)
        }
    }

    /// What a self-test looks at; `report` is its verdict part by part.
    struct SelfTestFindings: Sendable {
        var stats: CameraService.Statistics
        var streaming: Bool
        var voice: SpeakerService.Report?
        var callPoint: [SelfTestReport.Part]
        var outboxDepth: Int
        var outboxFault: String?
        var diskFree: Int64?

        /// At least 16 MiB free for the outbox.
        var storageOK: Bool { (diskFree ?? 0) > 16 << 20 }

        var report: SelfTestReport {
            var parts = [SelfTestReport.Part("camera", fault: streaming ? nil : stats.cameraFault ?? "not streaming")]
            if let voice { parts.append(SelfTestReport.Part("speaker", fault: voice.fault)) }
            parts += callPoint
            parts.append(SelfTestReport.Part("outbox", fault: outboxFault))
            parts.append(SelfTestReport.Part("storage", fault: storageOK ? nil : "less than 16 MiB free"))
            return SelfTestReport(parts: parts)
        }
    }

    /// Checks the camera, the speaker, the call point's lines, the outbox and the disk, and raises `selftest`
    /// with the verdict (on the call point's schedule, or the centre's `selftest`). Returns what it found and the
    /// event's id.
    func selfTest(trigger: String) async -> (SelfTestFindings, String?) {
        let findings = SelfTestFindings(
            stats: camera.currentStatistics, streaming: camera.isStreaming, voice: await speaker?.check(),
            callPoint: callPoint?.selfTestParts() ?? [], outboxDepth: uplink?.outboxDepth() ?? 0,
            outboxFault: reopening?.fault.map { "not writable, events kept in memory: \($0.summary)" },
            diskFree: SystemProbe.diskFree(launch.configuration.stateDirectory))
        callPoint?.selfTestRan()
        let id = events.raise(.selfTest(findings.report, trigger: trigger))
        return (findings, id)
    }

    private static func noCallPoint(_ request: CommandRequest) -> [UInt8] {
        CommandReply.error(
            requestID: request.requestID, command: request.command.name, code: "callpoint_unavailable",
            message: "this unit has no call point ([gpio] button_line)")
    }

    private static func noSpeaker(_ request: CommandRequest) -> [UInt8] {
        CommandReply.error(
            requestID: request.requestID, command: request.command.name, code: "speaker_unavailable",
            message: "this unit has no speaker")
    }

    /// The reply to a command a part of the unit ran (`ok` writes its result) or refused.
    private static func reply<Value>(
        _ request: CommandRequest, _ result: Result<Value, CommandRefusal>,
        ok: @escaping (inout JSONWriter, Value) -> Void
    ) -> [UInt8] {
        switch result {
        case .success(let value):
            return CommandReply.ok(requestID: request.requestID, command: request.command.name) { ok(&$0, value) }
        case .failure(let refusal):
            return CommandReply.error(
                requestID: request.requestID, command: request.command.name, code: refusal.code,
                message: refusal.message)
        }
    }

    private static func speakerReply(_ request: CommandRequest, _ result: Result<String, CommandRefusal>) -> [UInt8] {
        reply(request, result) { json, message in
            json.string("status", "queued")
            json.string("message", message)
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
        if let fault = reopening?.fault { sample.faults.append("outbox not writable: \(fault.summary)") }
        return sample
    }

    private func raiseTestEvents() async {
        guard uplink != nil, launch.testEvents > 0 else { return }
        for index in 1...launch.testEvents {
            if Task.isCancelled { return }
            let id = await events.raiseStored(.test(index: index))
            // Only once stored: tools/powercut holds every event so announced to reach the centre.
            Self.writeStandardOutput("raised n=\(index) id=\(id ?? "")\n")
            try? await Task.sleep(for: .milliseconds(Int(launch.testEventInterval * 1000)))
        }
        logger.notice("test events raised", metadata: ["count": "\(launch.testEvents)"])
    }

    // MARK: - Helpers

    /// Writes `text` to standard output at once, unbuffered: what a line claims is out before the next step.
    static func writeStandardOutput(_ text: String) { try? SystemCall.writeAll(text, to: 1) }

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
