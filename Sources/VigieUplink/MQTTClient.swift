internal import CMosquitto
import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// An MQTT 5 client over libmosquitto, with its own I/O thread.
///
/// The thread connects to each broker in turn with capped, jittered backoff (never a busy loop), restores
/// the subscriptions on every connection, and reports what happens through `events`. `publish` may be
/// called from any thread (libmosquitto runs in threaded mode and wakes its loop itself).
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
        /// subscriber sets it false so the broker keeps its messages while it is away.
        public var cleanStart = true
        /// MQTT 5 (the unit: response topics for command replies) or 3.1.1 (a test subscriber with a session
        /// that outlives its connections, which MQTT 5 only gives with a session-expiry property).
        public var protocolV5 = true
        /// Filters subscribed at QoS 1 on every connection.
        public var subscriptions: [String] = []
        /// How long a connection attempt may take before the next broker is tried.
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
        /// MQTT 5 request/response: where the reply goes, and what to echo in it.
        public var responseTopic: String?
        public var correlationData: [UInt8]?
    }

    /// What the client reports.
    public enum Event: Sendable {
        case connected(BrokerURL)
        /// The broker could not be reached or refused us; `reason` says why (TLS errors included).
        case connectFailed(BrokerURL, reason: String)
        case disconnected(reason: String)
        /// The broker answered the QoS 1 message with this id: `reason` below 0x80 is success; 0x80 and above
        /// is a refusal (MQTT 5: not authorised, quota exceeded, topic invalid, packet too large…).
        case acknowledged(Int32, reason: Int32)
        case message(Message)
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
        let connected = Atomic<Int>(0)  // 0 connecting or down, 1 up, -1 refused
        let stopping = Atomic<Bool>(false)
        let lastError = Mutex<String?>(nil)
        let subscriptions: [String]

        init(continuation: AsyncStream<Event>.Continuation, subscriptions: [String]) {
            self.continuation = continuation
            self.subscriptions = subscriptions
        }
    }

    private static let libraryReady: Bool = {
        mosquitto_lib_init()
        return true
    }()

    public init(options: Options) throws(MQTTError) {
        precondition(Self.libraryReady)
        guard !options.brokers.isEmpty else { throw .invalidOption("no broker URL") }
        let (events, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
        self.events = events
        self.continuation = continuation
        self.options = options
        let state = State(continuation: continuation, subscriptions: options.subscriptions)
        self.state = state
        guard
            let pointer = mosquitto_new(
                options.clientID, options.cleanStart, Unmanaged.passUnretained(state).toOpaque())
        else { throw .cannotCreateClient }
        handle = Handle(pointer)
        let mosq = pointer
        mosquitto_int_option(
            mosq, MOSQ_OPT_PROTOCOL_VERSION, options.protocolV5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311)
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
            let context = Unmanaged.passRetained(self).toOpaque()
            var created = pthread_t()
            let status = pthread_create(
                &created, nil,
                { raw in
                    let client = Unmanaged<MQTTClient>.fromOpaque(raw!).takeRetainedValue()
                    client.run()
                    return nil
                }, context)
            precondition(status == 0, "cannot start the MQTT thread")
            thread = created
        }
    }

    /// Whether the broker has accepted the connection.
    public var isConnected: Bool { state.connected.load(ordering: .relaxed) == 1 }

    /// Publishes `payload` on `topic`. Returns the message id (acknowledged later by `.acknowledged`).
    @discardableResult
    public func publish(
        topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false, correlationData: [UInt8]? = nil,
        responseTopic: String? = nil
    ) throws(MQTTError) -> Int32 {
        var mid: Int32 = 0
        var properties: OpaquePointer?
        defer { mosquitto_property_free_all(&properties) }
        if let responseTopic {
            mosquitto_property_add_string(&properties, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), responseTopic)
        }
        if let correlationData {
            _ = correlationData.withUnsafeBytes {
                mosquitto_property_add_binary(
                    &properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), $0.baseAddress, UInt16($0.count))
            }
        }
        let status = payload.withUnsafeBytes {
            mosquitto_publish_v5(
                handle.pointer, &mid, topic, Int32($0.count), $0.baseAddress, Int32(qos), retain, properties)
        }
        guard status == MOSQ_ERR_SUCCESS.rawValue else {
            if status == MOSQ_ERR_NO_CONN.rawValue { throw .notConnected }
            throw .publishFailed(String(cString: mosquitto_strerror(status)))
        }
        return mid
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

    // MARK: - The I/O thread

    private func run() {
        let mosq = handle.pointer
        var backoff = options.backoff
        var index = 0
        let clock = ContinuousClock()
        while !state.stopping.load(ordering: .relaxed) {
            let broker = options.brokers[index % options.brokers.count]
            state.connected.store(0, ordering: .relaxed)
            state.lastError.withLock { $0 = nil }
            var status = mosquitto_connect_async(mosq, broker.host, Int32(broker.port), Int32(options.keepalive))
            if status == MOSQ_ERR_SUCCESS.rawValue {
                let deadline = clock.now + .milliseconds(Int(options.connectTimeout * 1000))
                while !state.stopping.load(ordering: .relaxed) && state.connected.load(ordering: .relaxed) == 0
                    && clock.now < deadline
                {
                    status = mosquitto_loop(mosq, 100, 1)
                    if status != MOSQ_ERR_SUCCESS.rawValue { break }
                }
            }
            if state.connected.load(ordering: .relaxed) == 1 {
                let connectedAt = clock.now
                continuation.yield(.connected(broker))
                while !state.stopping.load(ordering: .relaxed) {
                    status = mosquitto_loop(mosq, 200, 1)
                    if status != MOSQ_ERR_SUCCESS.rawValue { break }
                }
                state.connected.store(0, ordering: .relaxed)
                if state.stopping.load(ordering: .relaxed) {
                    mosquitto_disconnect(mosq)
                    _ = mosquitto_loop(mosq, 100, 1)
                    continuation.yield(.disconnected(reason: "stopped"))
                    return
                }
                continuation.yield(.disconnected(reason: reason(status)))
                if clock.now - connectedAt > .seconds(30) { backoff.reset() }
            } else {
                if state.stopping.load(ordering: .relaxed) { return }
                let why =
                    state.connected.load(ordering: .relaxed) == -1 || status != MOSQ_ERR_SUCCESS.rawValue
                    ? reason(status) : "no answer within \(Int(options.connectTimeout)) s"
                mosquitto_disconnect(mosq)
                continuation.yield(.connectFailed(broker, reason: why))
                index += 1
            }
            pause(seconds: backoff.next())
        }
    }

    private func reason(_ status: Int32) -> String {
        if let error = state.lastError.withLock({ $0 }) { return error }
        return String(cString: mosquitto_strerror(status))
    }

    /// Sleeps, waking early if `stop()` is called.
    private func pause(seconds: Double) {
        Poll.blockingUntil(timeout: .seconds(seconds)) { state.stopping.load(ordering: .relaxed) }
    }

    // MARK: - Callbacks (on the I/O thread, inside mosquitto_loop)

    private static func installCallbacks(_ mosq: OpaquePointer) {
        mosquitto_connect_v5_callback_set(mosq) { mosq, context, code, _, _ in
            let state = Unmanaged<State>.fromOpaque(context!).takeUnretainedValue()
            guard code == 0 else {
                state.lastError.withLock {
                    $0 = "broker refused the connection: \(String(cString: mosquitto_reason_string(code)))"
                }
                state.connected.store(-1, ordering: .relaxed)
                return
            }
            for filter in state.subscriptions { mosquitto_subscribe_v5(mosq, nil, filter, 1, 0, nil) }
            state.connected.store(1, ordering: .relaxed)
        }
        mosquitto_disconnect_v5_callback_set(mosq) { _, context, code, _ in
            let state = Unmanaged<State>.fromOpaque(context!).takeUnretainedValue()
            if code != 0 && state.connected.load(ordering: .relaxed) == 1 {
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
            let payload =
                incoming.payloadlen > 0 && incoming.payload != nil
                ? Array(UnsafeRawBufferPointer(start: incoming.payload, count: Int(incoming.payloadlen))) : []
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
            var length: UInt16 = 0
            if mosquitto_property_read_binary(
                properties, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &data, &length, false) != nil,
                let data
            {
                correlation = Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
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
