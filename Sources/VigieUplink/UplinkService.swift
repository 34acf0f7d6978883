import Logging
import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reports to the centre: retained status with a last will, events and snapshots through the durable outbox
/// (store-and-forward), telemetry, and commands with replies.
///
/// An event is published as soon as it is raised, while a writer thread commits it to the outbox (the link never
/// waits on the disk); it leaves the outbox when both its commit and the broker's acknowledgement are done. After
/// a reconnect the outbox is published again from the start, highest priority first, oldest first within a
/// priority. Delivery is at least once: the centre de-duplicates by event id. While the disk fails, events are
/// kept in memory (bounded) and delivered from there; an item the broker refuses, or that cannot be published,
/// is quarantined (kept in the outbox, never offered again) instead of blocking the ones behind it.
public actor UplinkService {
    /// Handles a validated command; returns the reply payload (use `CommandReply`).
    public typealias CommandHandler = @Sendable (CommandRequest) async -> [UInt8]

    public struct Identity: Sendable {
        public var deviceID: String
        public var role: String
        public var board: String
        public var firmware: String
        public var capabilities: [String]
        /// The speaker's recorded clips and their durations in seconds, listed in the birth message.
        public var clips: [(id: String, seconds: Double)]

        public init(
            deviceID: String, role: String, board: String, firmware: String, capabilities: [String],
            clips: [(id: String, seconds: Double)] = []
        ) {
            self.deviceID = deviceID
            self.role = role
            self.board = board
            self.firmware = firmware
            self.capabilities = capabilities
            self.clips = clips
        }
    }

    /// How the uplink copes with its disk.
    public struct StorageOptions: Sendable {
        /// The most it keeps in memory of items not yet committed (while the disk fails, what it delivers from).
        public var memory = DeliveryLedger.Limits()
        /// Delays between attempts to write while the disk fails.
        public var retry = Backoff(initial: 0.5, maximum: 30)
        /// Seconds writes must work again before a storage fault is over (`storage_recovered`).
        public var settle = 10.0
        /// Seconds between two `outbox_overflow` reports, and between two `outbox_quarantine` reports, at least.
        public var reportInterval = 60.0

        public init() {}
    }

    public nonisolated let topics: Topics
    private let identity: Identity
    private let settings: UplinkSettings
    private let outbox: any Outbox
    /// Nil while it cannot be made (a TLS file missing or unreadable): `run` tries again with `clientRetry`.
    private var client: MQTTClient?
    private let clientOptions: MQTTClient.Options
    private let clientRetry: Backoff
    /// Why the client cannot be made, while it cannot.
    private var clientFault: MQTTError?
    /// `shutdown()` was called: a wait for the client ends.
    private var stopping = false
    private let logger: Logger
    private let boot: Int64
    private let started = ContinuousClock.now
    /// Items on their way: numbered in memory, committed by a writer thread, published here.
    private let queue: DeliveryQueue
    private var commandHandler: CommandHandler?
    private var telemetrySource: (@Sendable () -> TelemetrySample)?
    /// What each message in flight is (`motion`, `snapshot`, …), for a refusal's report.
    private var labels: [Int32: String] = [:]
    /// Reading the outbox failed: said once until it works again.
    private var readFailing = false
    /// Message ids whose acknowledgement someone is waiting for (the `offline` status at shutdown).
    private var acknowledgedMids: Set<Int32> = []
    private var connected = false
    /// The MQTT version of the current (or last) connection, for telemetry.
    private var version: MQTTVersion?
    /// Rate limit per command name and bound on the commands in progress.
    private var gate: CommandGate
    /// Commands refused since the last one that ran, per episode (`rate_limited <name>` or `busy`): the first
    /// refusal is logged, the rest are counted, so a flood makes two log lines, not one per message.
    private var refusals: [String: Int] = [:]
    /// Told of each item the broker accepted, with its topic and payload as published (for measurements:
    /// `vigie-bench uplink`); the items in flight it watches.
    private var deliveryObserver: (@Sendable (_ topic: String, _ payload: [UInt8]) -> Void)?
    private var observed: [Int32: OutboxItem] = [:]
    /// QoS 1 messages in flight at once.
    public static let window = 64

    /// Throws only if the outbox cannot give its numbering. A client that cannot be made (a TLS file missing or
    /// unreadable) does not stop the service: it logs the fault, raises `uplink_fault` (kept in the outbox until
    /// it can go out) and tries again in `run()`, waiting `clientRetry` between attempts.
    public init(
        identity: Identity, settings: UplinkSettings, outbox: any Outbox, logger: Logger,
        storage: StorageOptions = StorageOptions(), clientRetry: Backoff = Backoff(initial: 2, maximum: 60)
    ) throws {
        self.identity = identity
        self.settings = settings
        self.outbox = outbox
        self.logger = logger
        self.topics = Topics(deviceID: identity.deviceID)
        self.gate = CommandGate(settings: settings)
        self.boot = try outbox.nextBoot()
        queue = try DeliveryQueue(
            outbox: outbox, topics: topics, deviceID: identity.deviceID, options: storage, logger: logger)
        var options = MQTTClient.Options(clientID: "vigie-\(identity.deviceID)", brokers: settings.brokers)
        options.keepalive = settings.keepalive
        options.username = settings.username
        options.password = settings.password
        options.caFile = settings.caFile
        options.certFile = settings.certFile
        options.keyFile = settings.keyFile
        options.verifyHostname = settings.verifyHostname
        options.mqttProtocol = settings.mqttProtocol
        options.will = (topics.status, Self.status("lost", identity: identity, boot: boot, armed: nil))
        options.subscriptions = [topics.commands]
        clientOptions = options
        self.clientRetry = clientRetry
        do throws(MQTTError) {
            client = try MQTTClient(options: options)
        } catch {
            client = nil
            clientFault = error
            logger.error(
                """
                uplink fault: the MQTT client cannot be made (a certificate or key missing or unreadable?); the camera \
                runs, events wait in the outbox, and the files are checked again
                """, metadata: ["error": "\(error)"])
            queue.raiseReport(UplinkFault.event(reason: error.description, retry: clientRetry.maximum), millis: nil)
        }
    }

    deinit { queue.stopWriter() }

    /// Sets what answers commands and what telemetry reports. Call before `run()`.
    public func configure(commands: @escaping CommandHandler, telemetry: @escaping @Sendable () -> TelemetrySample) {
        commandHandler = commands
        telemetrySource = telemetry
    }

    /// Calls `observer` on the service's actor each time the broker accepts an item (PUBACK below 0x80), for
    /// measurements. It must be quick. Call before `run()`.
    public func observeDeliveries(_ observer: @escaping @Sendable (_ topic: String, _ payload: [UInt8]) -> Void) {
        deliveryObserver = observer
    }

    /// Raises an event: numbers it, publishes it at once if the link is up, and has it committed to the outbox
    /// meanwhile. Never waits on the disk (nor fails because of it: while the disk fails, the event is kept in
    /// memory and delivered from there). Safe from any thread. Returns the event id at once: until its commit
    /// (a few milliseconds, one fsync shared with the events raised meanwhile) or its acknowledgement, a power cut
    /// can lose it; `raiseStored` waits for that.
    @discardableResult
    public nonisolated func raise(_ event: UplinkEvent, millis: Int64? = nil) -> String {
        queue.raise(event, millis: millis)
    }

    /// Raises one of the uplink's own reports (made by the storage's or the uplink's own code: `storage_recovered`
    /// for an outbox set aside at boot, …), which `observeReports` observers hear of.
    @discardableResult
    public nonisolated func raiseReport(_ event: UplinkEvent) -> String { queue.raiseReport(event, millis: nil) }

    /// Calls `observer` for each of the uplink's own reports (`storage_fault`, `storage_recovered`,
    /// `outbox_overflow`, `outbox_quarantine`, `uplink_fault`), those raised before included, with their ids.
    public nonisolated func observeReports(_ observer: @escaping @Sendable (UplinkEvent, String) -> Void) {
        queue.observeReports(observer)
    }

    /// Raises an event like `raise`, publishing it at once, and returns once it is stored: committed to the
    /// outbox, or already acknowledged by the broker, whichever comes first; while the disk fails, once its failed
    /// commit left it in memory (a `storage_fault` says so). From then on a power cut cannot lose it. For a caller
    /// that may wait for that (test events); the camera and the call point, which must not wait, use `raise`
    /// (committed within milliseconds).
    public nonisolated func raiseStored(_ event: UplinkEvent, millis: Int64? = nil) async -> String {
        await queue.raiseStored(event, millis: millis)
    }

    /// Calls `observer` with every event numbered from now on (the unit's own and the uplink's reports), with its
    /// id, sequence number, time and payload as the centre receives them: the daemon's event store records them.
    /// It runs on the raiser's thread and must be quick (append to a queue, no I/O).
    public nonisolated func observeRaised(_ observer: @escaping @Sendable (UplinkEvent, RaisedEvent) -> Void) {
        queue.observeRaised(observer)
    }

    /// Sends a stored event again (`cmd/replay`): its payload as first sent, marked `historical`, and its snapshot,
    /// through the outbox (same id and sequence number: the centre de-duplicates). Never waits on the disk.
    public nonisolated func resend(payload: [UInt8], kind: String, priority: Int, snapshot: [UInt8]?) {
        queue.resend(payload: payload, kind: kind, priority: priority, snapshot: snapshot)
    }

    /// Publishes a masked snapshot that belongs to no event (the `snapshot` command), through the outbox. It has
    /// an id of its own and uses no event sequence number.
    public nonisolated func sendSnapshot(_ jpeg: [UInt8]) -> (id: String, topic: String) {
        queue.send(snapshot: jpeg)
    }

    /// Publishes the masked snapshot of the event `eventID` (raised before, so the event goes out first) on
    /// `snapshot/<eventID>`, with the event's priority: the call point's picture of the caller, encoded only once
    /// the call is on its way.
    @discardableResult
    public nonisolated func sendSnapshot(_ jpeg: [UInt8], ofEvent eventID: String, priority: Int) -> String {
        queue.send(snapshot: jpeg, event: (eventID, priority)).topic
    }

    /// Waits up to `timeout` until everything raised so far is committed to the outbox (or was delivered while
    /// the disk failed). Returns whether it is.
    public func flush(timeout: Duration = .seconds(10)) async -> Bool {
        await queue.flush(timeout: timeout)
    }

    /// Connects and serves until `shutdown()`.
    public func run() async {
        if !settings.verifyHostname {
            // Said at every start, so that a lab setting left on a unit in the field shows in its log.
            logger.warning(
                """
                verify_hostname = false: the broker's certificate is not checked against its name, so anyone on \
                the path can pose as the centre; a lab setting, never for the field
                """)
        }
        guard let client = await startedClient() else { return }
        client.start()
        let telemetry = Task { await self.telemetryLoop() }
        let wakes = queue.wakes
        let publisher = Task {
            for await _ in wakes { self.pump() }
        }
        defer {
            telemetry.cancel()
            publisher.cancel()
        }
        for await event in client.events {
            await handle(event)
        }
    }

    /// Delivers what is waiting (for up to `drain` seconds), publishes the retained `offline` status, disconnects
    /// cleanly (the broker drops the last will), then commits what is still in memory and stops the writer. What
    /// is not delivered stays in the outbox.
    public func shutdown(drain: Double = 3) async {
        let clock = ContinuousClock()
        _ = await Poll.until(timeout: .milliseconds(Int(drain * 1000)), every: .milliseconds(20)) {
            pump()
            return !connected || !hasUndelivered
        }
        let offline = Self.status("offline", identity: identity, boot: boot, armed: nil)
        stopping = true
        if connected, let mid = try? client?.publish(topic: topics.status, payload: offline, qos: 1, retain: true) {
            // Wait for the broker's acknowledgement, so the centre really sees `offline` (not the last will).
            let ackDeadline = clock.now + .seconds(2)
            while connected && !acknowledgedMids.contains(mid) && clock.now < ackDeadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        client?.stop()
        await queue.close(timeout: .seconds(5))
        logger.notice("uplink stopped", metadata: ["outbox": "\(outboxDepth())"])
    }

    public var isConnected: Bool { connected }

    /// Why the uplink cannot start (its MQTT client cannot be made), while it cannot; nil once it runs.
    public var fault: String? { clientFault?.description }

    /// The client, made now if it could not be before: tries again with backoff until it can be made (then
    /// says so) or `shutdown()` is called (then nil).
    private func startedClient() async -> MQTTClient? {
        if let client { return client }
        var retry = clientRetry
        while !stopping && !Task.isCancelled {
            let due = ContinuousClock.now + .milliseconds(Int(retry.next() * 1000))
            while ContinuousClock.now < due && !stopping && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
            }
            if stopping || Task.isCancelled { return nil }
            do throws(MQTTError) {
                let made = try MQTTClient(options: clientOptions)
                logger.notice("uplink fault over: the MQTT client is made; connecting")
                client = made
                clientFault = nil
                return made
            } catch {
                if error != clientFault {
                    logger.error("uplink fault: the MQTT client still cannot be made", metadata: ["error": "\(error)"])
                }
                clientFault = error
            }
        }
        return nil
    }

    /// Items waiting to be delivered: in the outbox (less those delivered and not yet removed) and only in memory.
    /// -1 when the outbox cannot be read.
    public nonisolated func outboxDepth() -> Int {
        let (held, delivered) = queue.state.withLock { ($0.ledger.held.items, $0.ledger.deliveredInOutbox) }
        guard let stored = try? outbox.count() else { return -1 }
        return max(0, stored - delivered) + held
    }

    /// Items set aside for good: in the outbox, or in memory while the disk fails.
    public nonisolated func quarantinedCount() -> Int {
        let inMemory = queue.state.withLock { $0.ledger.quarantinedCount }
        return max((try? outbox.quarantinedCount()) ?? 0, inMemory)
    }

    /// Something raised is not yet delivered: in memory, in flight, or perhaps in the outbox.
    private var hasUndelivered: Bool {
        queue.state.withLock { $0.ledger.undelivered > 0 || $0.ledger.inFlight > 0 || $0.ledger.backlog }
    }

    // MARK: - Events from the client

    private func handle(_ event: MQTTClient.Event) async {
        switch event {
        case .connected(let broker, let version):
            connected = true
            self.version = version
            linkReset()
            logger.notice(
                "uplink connected",
                metadata: ["broker": "\(broker)", "protocol": "MQTT \(version)", "outbox": "\(outboxDepth())"])
            _ = try? client?.publish(
                topic: topics.status, payload: Self.status("online", identity: identity, boot: boot, armed: nil),
                qos: 1, retain: true)
            pump()
        case .connectFailed(let broker, let reason):
            connected = false
            logger.warning("uplink cannot connect", metadata: ["broker": "\(broker)", "reason": "\(reason)"])
        case .disconnected(let reason):
            connected = false
            linkReset()
            let level: Logger.Level = reason == "stopped" ? .info : .warning
            logger.log(
                level: level, "uplink disconnected", metadata: ["reason": "\(reason)", "outbox": "\(outboxDepth())"])
        case .acknowledged(let mid, let reason):
            acknowledgedMids.insert(mid)
            if acknowledgedMids.count > 256 { acknowledgedMids.removeAll() }
            let label = labels.removeValue(forKey: mid)
            let item = observed.removeValue(forKey: mid)
            let answer = queue.state.withLock {
                $0.ledger.acknowledged(mid, reason: reason) { "refused by the broker: \(MQTTClient.reasonText($0))" }
            }
            // Over MQTT 3.1.1 there is no refusal: a 3.1.1 broker cannot refuse a message (see docs/mqtt.md).
            if case .refused(let id) = answer { reportQuarantine(id, label: label ?? "item") }
            if case .delivered = answer, let item { deliveryObserver?(item.topic, item.payload) }
            queue.resumeStored()
            queue.pokeWriter()
            pump()
        case .messageDropped(let topic, let bytes):
            logger.warning("incoming message too large; dropped", metadata: ["topic": "\(topic)", "bytes": "\(bytes)"])
        case .message(let message):
            admit(message)
        }
    }

    /// The connection began or ended: what was in flight is offered again.
    private func linkReset() {
        queue.state.withLock { $0.ledger.linkReset() }
        labels.removeAll()
        observed.removeAll()
    }

    /// Publishes waiting items, from memory and from the outbox, until the window is full. Quarantines an item
    /// that cannot be published and goes on with the next.
    private func pump() {
        guard connected, let client else { return }
        let room = Self.window - queue.state.withLock { $0.ledger.inFlight }
        guard room > 0 else { return }
        let plan = queue.state.withLock { $0.ledger.plan(limit: room) }
        var stored: [StoredItem]?
        if let read = plan.read {
            do {
                stored = try outbox.pending(limit: read.limit, excluding: read.excluding)
                if readFailing {
                    readFailing = false
                    logger.notice("outbox readable again")
                }
            } catch {
                // What memory holds still goes; the outbox is read again on the next round.
                if !readFailing { logger.error("outbox unreadable", metadata: ["error": "\(error)"]) }
                readFailing = true
            }
        }
        let chosen = queue.state.withLock { $0.ledger.choose(plan, stored: stored, limit: room) }
        let now = Self.nowMillis()
        let historicalAfterMillis = Int64(settings.historicalAfter * 1000)
        for (index, next) in chosen.enumerated() {
            var payload = next.item.payload
            if next.item.kind == .event && now - next.item.createdAt > historicalAfterMillis {
                payload = UplinkEvent.markHistorical(payload)
            }
            let label = OutboxItem.label(kind: next.item.kind, topic: next.item.topic)
            do throws(MQTTError) {
                let mid = try client.publish(topic: next.item.topic, payload: payload, qos: 1)
                queue.state.withLock { $0.ledger.published(next.id, message: mid) }
                labels[mid] = label
                if deliveryObserver != nil { observed[mid] = next.item }
            } catch .unpublishable(let reason) {
                queue.state.withLock { $0.ledger.quarantine(next.id, reason: "cannot be published: \(reason)") }
                reportQuarantine(next.id, label: label)
            } catch {
                // The link dropped (or the client is short of memory): offered again on the next round.
                queue.state.withLock { ledger in
                    for skipped in chosen[index...] { ledger.ledger.notPublished(skipped.id) }
                }
                return
            }
        }
    }

    /// Tells of an item the ledger quarantined (it writes it to the outbox as such): in the log, and throttled, in
    /// an `outbox_quarantine` event.
    private func reportQuarantine(_ id: Int64, label: String) {
        let reason = queue.state.withLock { $0.ledger.quarantineReason(id) } ?? "quarantined"
        logger.error(
            "item quarantined: kept in the outbox, not offered again",
            metadata: ["item": "\(id)", "what": "\(label)", "reason": "\(reason)"])
        queue.noteQuarantine(label: label, reason: reason, millis: Self.nowMillis())
        queue.pokeWriter()
    }

    /// Validates a command and decides at once whether it runs. Malformed commands, `rate_limited` and `busy`
    /// are answered here without running anything; an admitted command runs in a task of its own, so a slow one
    /// (a snapshot from a stalled camera) never holds up acknowledgements, reconnections or other commands.
    private func admit(_ message: MQTTClient.Message) {
        let route = CommandRouter.route(
            topic: message.topic, payload: message.payload, responseTopic: message.responseTopic,
            correlationData: message.correlationData, topics: topics, replyPrefix: settings.replyPrefix)
        if route != .ignore, let responseTopic = message.responseTopic,
            !CommandRouter.isAllowedResponseTopic(responseTopic, topics: topics, replyPrefix: settings.replyPrefix)
        {
            logger.warning(
                "command's response topic is outside the unit's reply tree: not used",
                metadata: ["topic": "\(message.topic)", "response_topic": "\(responseTopic.prefix(128))"])
        }
        switch route {
        case .ignore:
            return
        case .reject(let topic, let payload, let correlation):
            logger.warning(
                "command refused",
                metadata: ["topic": "\(message.topic)", "reply": "\(String(decoding: payload, as: UTF8.self))"])
            _ = try? client?.publish(topic: topic, payload: payload, qos: 1, correlationData: correlation)
        case .request(let request):
            let name = request.command.name
            switch gate.admit(name, now: elapsedSeconds(), reserved: request.command.isReserved) {
            case .run:
                endRefusals("rate_limited \(name)")
                endRefusals("busy")
                logger.info("command", metadata: ["command": "\(name)", "request": "\(request.requestID)"])
                Task { await self.execute(request) }
            case .rateLimited(let retryAfter):
                let rate = settings.commandsPerMinute
                refuse(
                    request, code: "rate_limited", episode: "rate_limited \(name)",
                    message: "more than \(settings.commandBurst) '\(name)' commands at once or "
                        + "\(rate == rate.rounded() ? String(Int(rate)) : String(rate)) a minute; try again in "
                        + "\((retryAfter * 10).rounded(.up) / 10) s")
            case .busy(let limit):
                refuse(
                    request, code: "busy", episode: "busy",
                    message: "\(limit) commands are already in progress; try again later")
            }
        }
    }

    private func execute(_ request: CommandRequest) async {
        let reply: [UInt8]
        if let commandHandler {
            reply = await commandHandler(request)
        } else {
            reply = CommandReply.error(
                requestID: request.requestID, command: request.command.name, code: "unavailable",
                message: "the unit is starting")
        }
        _ = try? client?.publish(
            topic: request.replyTopic, payload: reply, qos: 1, correlationData: request.correlationData)
        gate.finished(reserved: request.command.isReserved)
    }

    /// Answers a valid command with an error without running it; logs the first of an episode only.
    private func refuse(_ request: CommandRequest, code: String, episode: String, message: String) {
        let reply = CommandReply.error(
            requestID: request.requestID, command: request.command.name, code: code, message: message)
        _ = try? client?.publish(
            topic: request.replyTopic, payload: reply, qos: 1, correlationData: request.correlationData)
        refusals[episode, default: 0] += 1
        if refusals[episode] == 1 {
            logger.warning(
                "command refused",
                metadata: ["command": "\(request.command.name)", "request": "\(request.requestID)", "error": "\(code)"])
        }
    }

    /// A command of this episode ran again: say how many were refused in between (beyond the first, logged).
    private func endRefusals(_ episode: String) {
        guard let count = refusals.removeValue(forKey: episode), count > 1 else { return }
        logger.notice("commands refused", metadata: ["episode": "\(episode)", "count": "\(count)"])
    }

    /// Seconds since the service started, on the monotonic clock.
    private func elapsedSeconds() -> Double {
        (ContinuousClock.now - started).inSeconds
    }

    private func telemetryLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int(settings.telemetryInterval * 1000)))
            guard connected, let telemetrySource else { continue }
            var sample = telemetrySource()
            sample.uptimeSeconds = Double((ContinuousClock.now - started).components.seconds)
            sample.outboxQuarantined = quarantinedCount()
            let payload = sample.json(
                deviceID: identity.deviceID, millis: Self.nowMillis(), outboxDepth: outboxDepth(), link: "online",
                protocol: version)
            _ = try? client?.publish(topic: topics.telemetry, payload: payload, qos: 0)
        }
    }

    // MARK: - Helpers

    static func status(_ state: String, identity: Identity, boot: Int64, armed: Bool?) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.string("state", state)
        json.string("device", identity.deviceID)
        json.string("firmware", identity.firmware)
        json.string("role", identity.role)
        json.string("board", identity.board)
        json.beginArray("capabilities")
        for capability in identity.capabilities { json.string(nil, capability) }
        json.endArray()
        if !identity.clips.isEmpty {
            json.beginArray("clips")
            for clip in identity.clips {
                json.beginObject()
                json.string("id", clip.id)
                json.number("duration_s", clip.seconds, decimals: 2)
                json.endObject()
            }
            json.endArray()
        }
        json.integer("boot", Int(boot))
        json.string("time", Timestamp.rfc3339(millis: nowMillis()))
        json.endObject()
        return Array(json.text.utf8)
    }

    public static func nowMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
