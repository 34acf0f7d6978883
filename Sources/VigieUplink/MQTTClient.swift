internal import CMosquitto
import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// An MQTT client over libmosquitto, with its own I/O thread.
///
/// The thread carries out what an `MQTTLink` decides: brokers in turn with capped, jittered backoff (never a
/// busy loop), MQTT 5 with a fallback to 3.1.1 per broker under `auto`, the subscriptions restored on every
/// connection. What happens is reported through `events`. `publish` may be called from any thread
/// (libmosquitto runs in threaded mode and wakes its loop itself).
public final class MQTTClient: Sendable {
    /// Connection settings.
    public struct Options: Sendable {
        public var clientID: String
        public var brokers: [BrokerURL]
        public var keepalive = 30
        public var username: String?
        public var password: String?
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var verifyHostname = true
        /// Retained last will, published by the broker if this client vanishes.
        public var will: (topic: String, payload: [UInt8])?
        /// Start a fresh session on each connection (the unit's own outbox handles durability). A test
        /// subscriber sets it false so the broker keeps its messages while it is away (over 3.1.1: MQTT 5 only
        /// keeps a session with a session-expiry property).
        public var cleanStart = true
        /// Which MQTT version to speak: `auto` tries MQTT 5 and falls back to 3.1.1 with a broker that does
        /// not speak it (response topics and PUBACK reason codes exist only in MQTT 5).
        public var mqttProtocol = MQTTProtocolChoice.auto
        /// Largest packet this client takes, in bytes. Sent to an MQTT 5 broker in CONNECT (Maximum Packet
        /// Size: the broker then drops a larger message instead of sending it); over 3.1.1 the broker cannot
        /// be told, so every incoming message is checked too, before its payload is copied, and a larger one is
        /// dropped and reported (`messageDropped`).
        public var maximumPacketSize = 64 << 10
        /// Filters subscribed at QoS 1 on every connection.
        public var subscriptions: [String] = []
        /// How long a connection attempt may take, in seconds, before the next broker is tried.
        public var connectTimeout = 10.0
        public var backoff = Backoff()

        public init(clientID: String, brokers: [BrokerURL]) {
            self.clientID = clientID
            self.brokers = brokers
        }
    }

    /// An incoming message.
    public struct Message: Sendable {
        public var topic: String
        public var payload: [UInt8]
        /// MQTT 5 request/response: where the reply goes, and what to echo in it (never set over 3.1.1).
        public var responseTopic: String?
        public var correlationData: [UInt8]?
    }

    /// What the client reports.
    public enum Event: Sendable {
        /// The broker accepted the connection, speaking `version`.
        case connected(BrokerURL, version: MQTTVersion)
        /// The broker could not be reached or refused us; `reason` says why (TLS errors included), and whether
        /// the other MQTT version is tried next.
        case connectFailed(BrokerURL, reason: String)
        case disconnected(reason: String)
        /// The broker answered the QoS 1 message with this id: `reason` below 0x80 is success; 0x80 and above
        /// is a refusal (MQTT 5: not authorised, quota exceeded, topic invalid, packet too large…).
        case acknowledged(Int32, reason: Int32)
        case message(Message)
        /// A message larger than `maximumPacketSize` arrived (a broker that could not be told the limit) and
        /// was dropped without being copied.
        case messageDropped(topic: String, bytes: Int)
    }

    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let handle: Handle
    private let options: Options
    private let state: State
    private let thread = Mutex<pthread_t?>(nil)

    /// The libmosquitto handle, owned by this client (freed in `deinit`).
    private final class Handle: Sendable {
        nonisolated(unsafe) let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { mosquitto_destroy(pointer) }
    }

    /// Shared with the C callbacks through `Unmanaged` userdata.
    final class State: Sendable {
        let continuation: AsyncStream<Event>.Continuation
        /// The CONNACK of the attempt in progress: -1 until it arrives, then its code (0 is success).
        let connack = Atomic<Int>(-1)
        let connected = Atomic<Bool>(false)
        /// The connection speaks MQTT 5 (properties may be sent).
        let speaksV5 = Atomic<Bool>(false)
        let stopping = Atomic<Bool>(false)
        let lastError = Mutex<String?>(nil)
        let maximumPacketSize: Int

        init(continuation: AsyncStream<Event>.Continuation, maximumPacketSize: Int) {
            self.continuation = continuation
            self.maximumPacketSize = maximumPacketSize
        }
    }

    private static let libraryReady: Bool = {
        mosquitto_lib_init()
        return true
    }()

    public init(options: Options) throws(MQTTError) {
        precondition(Self.libraryReady)
        guard !options.brokers.isEmpty else { throw .invalidOption("no broker URL") }
        guard (1...268_435_455).contains(options.maximumPacketSize) else {
            throw .invalidOption("maximum packet size \(options.maximumPacketSize) is out of range")
        }
        let (events, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
        self.events = events
        self.continuation = continuation
        self.options = options
        let state = State(continuation: continuation, maximumPacketSize: options.maximumPacketSize)
        self.state = state
        guard
            let pointer = mosquitto_new(
                options.clientID, options.cleanStart, Unmanaged.passUnretained(state).toOpaque())
        else { throw .cannotCreateClient }
        handle = Handle(pointer)
        let mosq = pointer
        mosquitto_threaded_set(mosq, true)
        mosquitto_max_inflight_messages_set(mosq, 64)
        if let username = options.username {
            guard mosquitto_username_pw_set(mosq, username, options.password) == MOSQ_ERR_SUCCESS.rawValue else {
                throw .invalidOption("username or password rejected by libmosquitto")
            }
        }
        if let will = options.will {
            let status = will.payload.withUnsafeBytes {
                mosquitto_will_set_v5(mosq, will.topic, Int32($0.count), $0.baseAddress, 1, true, nil)
            }
            guard status == MOSQ_ERR_SUCCESS.rawValue else {
                throw .invalidOption("invalid last will topic \(will.topic)")
            }
        }
        if options.brokers.contains(where: \.tls) {
            guard let caFile = options.caFile else { throw .tls("a CA file is required for mqtts://") }
            let status = mosquitto_tls_set(mosq, caFile, nil, options.certFile, options.keyFile, nil)
            guard status == MOSQ_ERR_SUCCESS.rawValue else {
                throw .tls(
                    "cannot use CA \(caFile) / certificate \(options.certFile ?? "-"): \(String(cString: mosquitto_strerror(status)))"
                )
            }
            mosquitto_tls_opts_set(mosq, 1, "tlsv1.2", nil)
            mosquitto_tls_insecure_set(mosq, !options.verifyHostname)
        }
        Self.installCallbacks(mosq)
    }

    deinit {
        stop()
        continuation.finish()
    }

    /// Starts the I/O thread: connects, and reconnects for ever until `stop()`.
    public func start() {
        thread.withLock { thread in
            guard thread == nil else { return }
            thread = OSThread.start("vigie-mqtt") { self.run() }
        }
    }

    /// Whether the broker has accepted the connection.
    public var isConnected: Bool { state.connected.load(ordering: .relaxed) }

    /// Publishes `payload` on `topic`. Returns the message id (acknowledged later by `.acknowledged`). Over
    /// 3.1.1 the MQTT 5 properties (`correlationData`, `responseTopic`) are left out.
    @discardableResult
    public func publish(
        topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false, correlationData: [UInt8]? = nil,
        responseTopic: String? = nil
    ) throws(MQTTError) -> Int32 {
        var mid: Int32 = 0
        var properties: OpaquePointer?
        defer { mosquitto_property_free_all(&properties) }
        if state.speaksV5.load(ordering: .relaxed) {
            if let responseTopic {
                mosquitto_property_add_string(&properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), responseTopic)
            }
            if let correlationData {
                _ = correlationData.withUnsafeBytes {
                    mosquitto_property_add_binary(
                        &properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), $0.baseAddress, UInt16($0.count))
                }
            }
        }
        let status = payload.withUnsafeBytes {
            mosquitto_publish_v5(
                handle.pointer, &mid, topic, Int32($0.count), $0.baseAddress, Int32(qos), retain, properties)
        }
        guard status == MOSQ_ERR_SUCCESS.rawValue else {
            let text = String(cString: mosquitto_strerror(status))
            switch status {
            case MOSQ_ERR_NO_CONN.rawValue:
                throw .notConnected
            case MOSQ_ERR_OVERSIZE_PACKET.rawValue, MOSQ_ERR_PAYLOAD_SIZE.rawValue:
                throw .unpublishable("\(text) (\(payload.count) bytes on \(topic.prefix(200)))")
            case MOSQ_ERR_INVAL.rawValue, MOSQ_ERR_MALFORMED_UTF8.rawValue:
                throw .unpublishable("\(text) (topic \(topic.prefix(200)))")
            default:
                throw .publishFailed(text)
            }
        }
        return mid
    }

    /// An MQTT 5 reason code in words (a PUBACK's, a CONNACK's), with its number.
    public static func reasonText(_ code: Int32) -> String {
        let hex = "0x" + String(code, radix: 16, uppercase: true)
        guard let text = mosquitto_reason_string(code) else { return "reason code \(hex)" }
        return "\(String(cString: text)) (\(hex))"
    }

    /// Stops the I/O thread. With `final`, first publishes that retained message and waits up to `timeout`
    /// seconds for it to be written, then disconnects cleanly (no last will). `UplinkService.shutdown` waits
    /// for the broker's acknowledgement of its `offline` status before calling this.
    public func stop(final: (topic: String, payload: [UInt8])? = nil, timeout: Double = 2) {
        guard
            let running = thread.withLock({ thread -> pthread_t? in
                defer { thread = nil }
                return thread
            })
        else { return }
        if let final, isConnected {
            _ = try? publish(topic: final.topic, payload: final.payload, qos: 1, retain: true)
            // Let the I/O thread carry it; a clean disconnect follows.
            Poll.blockingUntil(timeout: .seconds(timeout), every: .milliseconds(20)) {
                !mosquitto_want_write(handle.pointer)
            }
        }
        state.stopping.store(true, ordering: .relaxed)
        pthread_join(running, nil)
    }

    // MARK: - The I/O thread: carries out the link's actions

    private var stopping: Bool { state.stopping.load(ordering: .relaxed) }

    private func run() {
        let clock = ContinuousClock()
        let origin = clock.now
        var link = MQTTLink(brokers: options.brokers.count, protocol: options.mqttProtocol, backoff: options.backoff)
        var actions = link.start()
        while true {
            guard !actions.isEmpty else {
                // Nothing left to do but carry a live connection; otherwise the link is stopped.
                guard case .connected = link.state else { return }
                actions = serve(&link, since: origin)
                continue
            }
            let action = actions.removeFirst()
            switch action {
            case .connect(let broker, let version):
                actions += connect(options.brokers[broker], version, &link, since: origin)
            case .disconnect:
                state.connected.store(false, ordering: .relaxed)
                mosquitto_disconnect(handle.pointer)
                _ = mosquitto_loop(handle.pointer, 100, 1)
            case .wait(let seconds):
                let interrupted = Poll.blockingUntil(timeout: .seconds(seconds)) { stopping }
                actions += interrupted ? link.stop() : link.waited()
            case .resubscribe:
                for filter in options.subscriptions { mosquitto_subscribe_v5(handle.pointer, nil, filter, 1, 0, nil) }
            case .reportConnected(let broker, let version):
                continuation.yield(.connected(options.brokers[broker], version: version))
            case .reportConnectFailed(let broker, _, let reason):
                continuation.yield(.connectFailed(options.brokers[broker], reason: reason))
            case .reportDisconnected(let reason):
                continuation.yield(.disconnected(reason: reason))
            }
        }
    }

    /// One attempt: returns the link's answer to its outcome.
    private func connect(
        _ broker: BrokerURL, _ version: MQTTVersion, _ link: inout MQTTLink, since origin: ContinuousClock.Instant
    ) -> [MQTTLink.Action] {
        let mosq = handle.pointer
        let clock = ContinuousClock()
        state.connack.store(-1, ordering: .relaxed)
        state.lastError.withLock { $0 = nil }
        if let problem = prepare(version) { return link.connectFailed(reason: problem) }
        var status = mosquitto_connect_async(mosq, broker.host, Int32(broker.port), Int32(options.keepalive))
        guard status == MOSQ_ERR_SUCCESS.rawValue else { return link.connectFailed(reason: reason(status)) }
        let deadline = clock.now + .seconds(options.connectTimeout)
        while true {
            status = mosquitto_loop(mosq, 100, 1)
            // The CONNACK may have come in the same round as an error (a refusal closes the connection).
            switch state.connack.load(ordering: .relaxed) {
            case 0:
                state.speaksV5.store(version == .v5, ordering: .relaxed)
                state.connected.store(true, ordering: .relaxed)
                return link.connectSucceeded(now: clock.now - origin)
            case let code where code > 0:
                mosquitto_disconnect(mosq)
                return link.connectRefused(code: code, reason: Self.connackText(code, version))
            default:
                break
            }
            if status != MOSQ_ERR_SUCCESS.rawValue {
                // Read before anything else can change errno.
                let closed = Self.closedByBroker(status)
                let why = reason(status)
                mosquitto_disconnect(mosq)
                return closed
                    ? link.connectionClosed(reason: why, now: clock.now - origin)
                    : link.connectFailed(reason: why)
            }
            if stopping { return link.stop() }
            if clock.now >= deadline { return link.connectTimedOut(seconds: options.connectTimeout) }
        }
    }

    /// Carries a live connection until it drops or `stop()` is called.
    private func serve(_ link: inout MQTTLink, since origin: ContinuousClock.Instant) -> [MQTTLink.Action] {
        var status = MOSQ_ERR_SUCCESS.rawValue
        while !stopping && status == MOSQ_ERR_SUCCESS.rawValue {
            status = mosquitto_loop(handle.pointer, 200, 1)
        }
        if stopping { return link.stop() }
        state.connected.store(false, ordering: .relaxed)
        return link.connectionClosed(reason: reason(status), now: ContinuousClock.now - origin)
    }

    /// Sets the version of the next CONNECT and its properties. Returns what went wrong, if anything.
    private func prepare(_ version: MQTTVersion) -> String? {
        let mosq = handle.pointer
        mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, version == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311)
        // No Nagle: a small PUBLISH (an emergency call) must not wait behind the unacknowledged end of a snapshot.
        mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1)
        var properties: OpaquePointer?
        defer { mosquitto_property_free_all(&properties) }
        if version == .v5 {
            mosquitto_property_add_int32(
                &properties, Int32(MQTT_PROP_MAXIMUM_PACKET_SIZE.rawValue), UInt32(options.maximumPacketSize))
        }
        // libmosquitto 2.0 takes CONNECT properties only through mosquitto_connect_bind_v5, which connects in
        // blocking mode (no connect timeout, no stop). It keeps them for the connections that follow, and
        // stores them before it checks its arguments: called with port -1 it stores them (or, with none,
        // clears them) and returns MOSQ_ERR_INVAL without any I/O. mosquitto_connect_async then sends them.
        // The integration tests check that a broker honours the size (MaximumPacketSizeTests).
        let status = mosquitto_connect_bind_v5(mosq, "", -1, Int32(options.keepalive), nil, properties)
        guard status == MOSQ_ERR_INVAL.rawValue else {
            return "cannot set the CONNECT properties: \(String(cString: mosquitto_strerror(status)))"
        }
        return nil
    }

    /// Whether a loop error before CONNACK means the broker itself ended the connection (as a 3.1.1-only
    /// broker may do on an MQTT 5 CONNECT), rather than the network or TLS failing to reach it.
    private static func closedByBroker(_ status: Int32) -> Bool {
        switch status {
        case MOSQ_ERR_CONN_LOST.rawValue, MOSQ_ERR_PROTOCOL.rawValue, MOSQ_ERR_MALFORMED_PACKET.rawValue: true
        case MOSQ_ERR_ERRNO.rawValue: errno == ECONNRESET || errno == EPIPE
        default: false
        }
    }

    /// A CONNACK refusal in words: MQTT 5 reason codes and 3.1.1 return codes are numbered apart.
    private static func connackText(_ code: Int, _ version: MQTTVersion) -> String {
        let text = version == .v5 ? mosquitto_reason_string(Int32(code)) : mosquitto_connack_string(Int32(code))
        return text.map { String(cString: $0) } ?? "code \(code)"
    }

    private func reason(_ status: Int32) -> String {
        if let error = state.lastError.withLock({ $0 }) { return error }
        return String(cString: mosquitto_strerror(status))
    }

    // MARK: - Callbacks (on the I/O thread, inside mosquitto_loop)

    private static func installCallbacks(_ mosq: OpaquePointer) {
        mosquitto_connect_v5_callback_set(mosq) { _, context, code, _, _ in
            let state = Unmanaged<State>.fromOpaque(context!).takeUnretainedValue()
            state.connack.store(Int(code), ordering: .relaxed)
        }
        mosquitto_disconnect_v5_callback_set(mosq) { _, context, code, _ in
            let state = Unmanaged<State>.fromOpaque(context!).takeUnretainedValue()
            if code != 0 && state.connected.load(ordering: .relaxed) {
                state.lastError.withLock { $0 = "connection lost: \(String(cString: mosquitto_strerror(code)))" }
            }
        }
        mosquitto_publish_v5_callback_set(mosq) { _, context, mid, reason, _ in
            let state = Unmanaged<State>.fromOpaque(context!).takeUnretainedValue()
            state.continuation.yield(.acknowledged(mid, reason: reason))
        }
        mosquitto_message_v5_callback_set(mosq) { _, context, message, properties in
            guard let context, let message else { return }
            let state = Unmanaged<State>.fromOpaque(context).takeUnretainedValue()
            let incoming = message.pointee
            let topic = String(cString: incoming.topic)
            let length = Int(incoming.payloadlen)
            // Checked before anything is copied: a broker that could not be told the limit (3.1.1) may send more.
            guard length <= state.maximumPacketSize else {
                state.continuation.yield(.messageDropped(topic: topic, bytes: length))
                return
            }
            let payload =
                length > 0 && incoming.payload != nil
                ? Array(UnsafeRawBufferPointer(start: incoming.payload, count: length)) : []
            var responseTopic: String?
            var correlation: [UInt8]?
            var text: UnsafeMutablePointer<CChar>?
            if mosquitto_property_read_string(properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), &text, false)
                != nil,
                let text
            {
                responseTopic = String(cString: text)
                free(text)
            }
            var data: UnsafeMutableRawPointer?
            var bytes: UInt16 = 0
            if mosquitto_property_read_binary(
                properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &data, &bytes, false) != nil,
                let data
            {
                correlation = Array(UnsafeRawBufferPointer(start: data, count: Int(bytes)))
                free(data)
            }
            state.continuation.yield(
                .message(
                    Message(topic: topic, payload: payload, responseTopic: responseTopic, correlationData: correlation))
            )
        }
        mosquitto_log_callback_set(mosq) { _, context, level, text in
            guard let context, let text, level & Int32(MOSQ_LOG_ERR) != 0 else { return }
            let state = Unmanaged<State>.fromOpaque(context).takeUnretainedValue()
            let line = String(cString: text)
            state.lastError.withLock { $0 = line }
        }
    }
}
