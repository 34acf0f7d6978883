import Logging
import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reports to the centre: retained status with a last will, events and snapshots through the durable outbox
/// (store-and-forward), telemetry, and commands with replies.
///
/// Every event is committed to the outbox before it is published and removed only on the broker's
/// acknowledgement; after a reconnect the outbox is re-published from the start, highest priority first,
/// oldest first within a priority. Delivery is at least once: the centre de-duplicates by event id.
public actor UplinkService {
    /// Handles a validated command; returns the reply payload (use `CommandReply`).
    public typealias CommandHandler = @Sendable (CommandRequest) async -> [UInt8]

    public struct Identity: Sendable {
        public var deviceID: String
        public var role: String
        public var board: String
        public var firmware: String
        public var capabilities: [String]

        public init(deviceID: String, role: String, board: String, firmware: String, capabilities: [String]) {
            self.deviceID = deviceID
            self.role = role
            self.board = board
            self.firmware = firmware
            self.capabilities = capabilities
        }
    }

    public nonisolated let topics: Topics
    private let identity: Identity
    private let settings: UplinkSettings
    private let outbox: any Outbox
    private let client: MQTTClient
    private let logger: Logger
    private let boot: Int64
    private let started = ContinuousClock.now
    private nonisolated let ids = Mutex(EventIDGenerator())
    /// What the full outbox dropped, waiting to be reported; `scheduled` when a task will report it.
    private nonisolated let overflow = Mutex((report: OutboxOverflowReport(), scheduled: false))
    private var commandHandler: CommandHandler?
    private var telemetrySource: (@Sendable () -> TelemetrySample)?
    private var inflight: [Int32: Int64] = [:]
    private var inflightIDs: Set<Int64> = []
    /// Items the broker refused on this connection (PUBACK ≥ 0x80): kept, retried after the next reconnect.
    private var refusedIDs: Set<Int64> = []
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

    public init(identity: Identity, settings: UplinkSettings, outbox: any Outbox, logger: Logger) throws {
        self.identity = identity
        self.settings = settings
        self.outbox = outbox
        self.logger = logger
        self.topics = Topics(deviceID: identity.deviceID)
        self.gate = CommandGate(settings: settings)
        self.boot = try outbox.nextBoot()
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
        client = try MQTTClient(options: options)
    }

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

    /// Stores an event (and its snapshot) durably, then publishes it if the link is up. Safe from any thread;
    /// returns once the event is on disk. Returns the event id.
    @discardableResult
    public nonisolated func raise(_ event: UplinkEvent, millis: Int64? = nil) throws -> String {
        let now = millis ?? Self.nowMillis()
        let id = ids.withLock { $0.next(millis: now) }
        let topics = self.topics
        let deviceID = identity.deviceID
        try outbox.enqueue { sequence in
            let snapshotTopic = event.snapshot == nil ? nil : topics.snapshot(id)
            var items = [
                OutboxItem(
                    topic: topics.event(event.kind),
                    payload: event.payload(
                        id: id, sequence: sequence, millis: now, deviceID: deviceID, snapshotTopic: snapshotTopic),
                    priority: event.priority, kind: .event, createdAt: now)
            ]
            if let snapshot = event.snapshot, let snapshotTopic {
                items.append(
                    OutboxItem(
                        topic: snapshotTopic, payload: snapshot, priority: event.priority, kind: .snapshot,
                        createdAt: now))
            }
            return items
        }
        noteDrops(byReport: event.kind == OutboxOverflowReport.kind, millis: now)
        Task { await self.pump() }
        return id
    }

    /// Publishes a masked snapshot that belongs to no event (the `snapshot` command), through the outbox. It has
    /// an id of its own and uses no event sequence number.
    public nonisolated func sendSnapshot(_ jpeg: [UInt8]) throws -> (id: String, topic: String) {
        let now = Self.nowMillis()
        let id = ids.withLock { $0.next(millis: now) }
        let topic = topics.snapshot(id)
        try outbox.store([
            OutboxItem(topic: topic, payload: jpeg, priority: Priority.routine, kind: .snapshot, createdAt: now)
        ])
        noteDrops(byReport: false, millis: now)
        Task { await self.pump() }
        return (id, topic)
    }

    // MARK: - Outbox overflow

    /// Counts what the outbox just dropped to make room, and reports it when a report is due.
    private nonisolated func noteDrops(byReport: Bool, millis: Int64) {
        let drops = outbox.takeDropped()
        guard !drops.isEmpty else { return }
        overflow.withLock { $0.report.add(drops, byReport: byReport) }
        if !byReport { reportOverflow(millis: millis, woken: false) }
    }

    /// Raises `outbox_overflow` if one is due, else makes sure a task will when it is.
    private nonisolated func reportOverflow(millis: Int64, woken: Bool) {
        let (event, wake) = overflow.withLock { state -> (UplinkEvent?, Int64?) in
            if woken { state.scheduled = false }
            if let event = state.report.report(at: millis) { return (event, nil) }
            guard let due = state.report.due, !state.scheduled else { return (nil, nil) }
            state.scheduled = true
            return (nil, due)
        }
        if let event {
            do {
                try raise(event, millis: millis)
            } catch {
                logger.error("outbox overflow not stored", metadata: ["error": "\(error)"])
            }
        }
        if let wake {
            Task {
                try? await Task.sleep(for: .milliseconds(max(0, wake - Self.nowMillis())))
                self.reportOverflow(millis: Self.nowMillis(), woken: true)
            }
        }
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
        client.start()
        let telemetry = Task { await self.telemetryLoop() }
        defer { telemetry.cancel() }
        for await event in client.events {
            await handle(event)
        }
    }

    /// Delivers what is waiting (for up to `drain` seconds), publishes the retained `offline` status, then
    /// disconnects cleanly (the broker drops the last will). What is not delivered stays in the outbox.
    public func shutdown(drain: Double = 3) async {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(drain * 1000))
        // Items the broker refused on this connection will not go before a reconnection: do not wait for them.
        while connected && outboxDepth() > refusedIDs.count && clock.now < deadline {
            pump()
            try? await Task.sleep(for: .milliseconds(20))
        }
        let offline = Self.status("offline", identity: identity, boot: boot, armed: nil)
        if connected, let mid = try? client.publish(topic: topics.status, payload: offline, qos: 1, retain: true) {
            // Wait for the broker's acknowledgement, so the centre really sees `offline` (not the last will).
            let ackDeadline = clock.now + .seconds(2)
            while connected && !acknowledgedMids.contains(mid) && clock.now < ackDeadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        client.stop()
        logger.notice("uplink stopped", metadata: ["outbox": "\((try? outbox.count()) ?? -1)"])
    }

    public var isConnected: Bool { connected }

    public nonisolated func outboxDepth() -> Int { (try? outbox.count()) ?? -1 }

    // MARK: - Events from the client

    private func handle(_ event: MQTTClient.Event) async {
        switch event {
        case .connected(let broker, let version):
            connected = true
            self.version = version
            inflight.removeAll()
            inflightIDs.removeAll()
            observed.removeAll()
            refusedIDs.removeAll()
            logger.notice(
                "uplink connected",
                metadata: ["broker": "\(broker)", "protocol": "MQTT \(version)", "outbox": "\(outboxDepth())"])
            _ = try? client.publish(
                topic: topics.status, payload: Self.status("online", identity: identity, boot: boot, armed: nil),
                qos: 1, retain: true)
            pump()
        case .connectFailed(let broker, let reason):
            connected = false
            logger.warning("uplink cannot connect", metadata: ["broker": "\(broker)", "reason": "\(reason)"])
        case .disconnected(let reason):
            connected = false
            inflight.removeAll()
            inflightIDs.removeAll()
            observed.removeAll()
            let level: Logger.Level = reason == "stopped" ? .info : .warning
            logger.log(
                level: level, "uplink disconnected", metadata: ["reason": "\(reason)", "outbox": "\(outboxDepth())"])
        case .acknowledged(let mid, let reason):
            acknowledgedMids.insert(mid)
            if acknowledgedMids.count > 256 { acknowledgedMids.removeAll() }
            guard let id = inflight.removeValue(forKey: mid) else { return }
            inflightIDs.remove(id)
            let item = observed.removeValue(forKey: mid)
            if reason >= 0x80 {
                // Refused (an ACL, a quota, a size limit): keep it, say so loudly, try again after a reconnect.
                refusedIDs.insert(id)
                logger.error(
                    "broker refused an item; kept in the outbox", metadata: ["item": "\(id)", "reason": "\(reason)"])
            } else {
                if let item { deliveryObserver?(item.topic, item.payload) }
                do {
                    try outbox.remove(id)
                } catch {
                    logger.error("outbox: cannot remove a delivered item", metadata: ["error": "\(error)"])
                }
            }
            pump()
        case .messageDropped(let topic, let bytes):
            logger.warning("incoming message too large; dropped", metadata: ["topic": "\(topic)", "bytes": "\(bytes)"])
        case .message(let message):
            admit(message)
        }
    }

    /// Publishes waiting items until the window is full.
    private func pump() {
        guard connected, inflight.count < Self.window else { return }
        let items: [StoredItem]
        do {
            items = try outbox.pending(limit: Self.window + inflight.count + refusedIDs.count)
        } catch {
            logger.error("outbox unreadable", metadata: ["error": "\(error)"])
            return
        }
        let now = Self.nowMillis()
        let historicalAfterMillis = Int64(settings.historicalAfter * 1000)
        for stored in items where !inflightIDs.contains(stored.id) && !refusedIDs.contains(stored.id) {
            guard inflight.count < Self.window else { break }
            var payload = stored.item.payload
            if stored.item.kind == .event && now - stored.item.createdAt > historicalAfterMillis {
                payload = UplinkEvent.markHistorical(payload)
            }
            do {
                let mid = try client.publish(topic: stored.item.topic, payload: payload, qos: 1)
                inflight[mid] = stored.id
                inflightIDs.insert(stored.id)
                if deliveryObserver != nil { observed[mid] = stored.item }
            } catch {
                // The link just dropped: the item stays in the outbox and goes again after the reconnect.
                return
            }
        }
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
            _ = try? client.publish(topic: topic, payload: payload, qos: 1, correlationData: correlation)
        case .request(let request):
            let name = request.command.name
            switch gate.admit(name, now: elapsedSeconds()) {
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
        _ = try? client.publish(
            topic: request.replyTopic, payload: reply, qos: 1, correlationData: request.correlationData)
        gate.finished()
    }

    /// Answers a valid command with an error without running it; logs the first of an episode only.
    private func refuse(_ request: CommandRequest, code: String, episode: String, message: String) {
        let reply = CommandReply.error(
            requestID: request.requestID, command: request.command.name, code: code, message: message)
        _ = try? client.publish(
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
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    private func telemetryLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int(settings.telemetryInterval * 1000)))
            guard connected, let telemetrySource else { continue }
            var sample = telemetrySource()
            sample.uptimeSeconds = Double((ContinuousClock.now - started).components.seconds)
            sample.outboxRefused = refusedIDs.count
            let payload = sample.json(
                deviceID: identity.deviceID, millis: Self.nowMillis(), outboxDepth: outboxDepth(), link: "online",
                protocol: version)
            _ = try? client.publish(topic: topics.telemetry, payload: payload, qos: 0)
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
