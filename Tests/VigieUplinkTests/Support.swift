import Foundation
import Testing
import VigieCore
import VigieUplink

/// A broker the tests started, listening on 127.0.0.1.
protocol TestBroker: AnyObject {
    var port: Int { get }
}

extension TestBroker {
    var url: BrokerURL { BrokerURL("mqtt://127.0.0.1:\(port)")! }
}

/// A real mosquitto broker on 127.0.0.1, on a free port, in a folder of its own.
final class Broker: TestBroker, @unchecked Sendable {
    let port: Int
    let folder: URL
    private var process: ChildProcess?
    private let extraConfiguration: String

    init(extraConfiguration: String = "", port: Int? = nil) throws {
        folder = try temporaryFolder("broker")
        self.port = try port ?? freePort()
        self.extraConfiguration = extraConfiguration
    }

    /// Starts mosquitto with persistence (so queued messages survive a restart) and waits until it listens.
    /// Queues are bounded only very high: `max_queued_messages 0` ("no maximum") makes Debian's mosquitto 2.0.11
    /// drop a client's connection after it denies one of its QoS 1 messages.
    func start() throws {
        let configuration = folder.appendingPathComponent("mosquitto.conf")
        let text = """
            per_listener_settings false
            allow_anonymous true
            persistence true
            persistence_location \(folder.path)/
            max_queued_messages 1000000
            max_inflight_messages 0
            log_dest file \(folder.path)/mosquitto.log
            \(extraConfiguration.isEmpty ? "listener \(port) 127.0.0.1" : extraConfiguration)
            """
        try text.write(to: configuration, atomically: true, encoding: .utf8)
        // Started as root, mosquitto drops to its own user: it must be able to write its state here.
        chmod(folder.path, 0o777)
        process = try ChildProcess(
            path: "/usr/sbin/mosquitto", arguments: ["-c", configuration.path],
            output: folder.appendingPathComponent("stdout.log"))
        try waitForPort(port)
    }

    /// Stops it the way systemd would (SIGTERM: it saves its state) and waits for it to exit.
    func stop() {
        guard let process else { return }
        _ = process.stop(signal: SIGTERM)
        self.process = nil
    }

    deinit { stop() }
}

/// A child process started with an empty signal mask and default handlers (a test runner blocks signals
/// in its threads, and a child would inherit that: SIGTERM would never reach it).
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private var exitStatus: Int32?

    /// `environment` is added to (or overrides) the test process's own.
    init(path: String, arguments: [String], output: URL, environment: [String: String] = [:]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
        pid = child
    }

    /// Sends `signal` and waits (up to 20 s, then SIGKILL) for the exit. Returns the exit status.
    @discardableResult
    func stop(signal: Int32) -> Int32 {
        if let exitStatus { return exitStatus }
        kill(pid, signal)
        if Poll.blockingUntil(timeout: .seconds(20), { poll() != nil }), let exitStatus { return exitStatus }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exitStatus = status
        return status
    }

    /// The wait status if the process has exited.
    func poll() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        exitStatus = status
        return status
    }

    deinit { stop(signal: SIGKILL) }
}

/// vigied, run as a separate process like on a unit.
final class DaemonProcess: @unchecked Sendable {
    let child: ChildProcess
    let log: URL

    init(arguments: [String], log: URL, environment: [String: String] = [:]) throws {
        self.log = log
        child = try ChildProcess(
            path: productsFolder().appendingPathComponent("vigied").path, arguments: arguments, output: log,
            environment: environment)
    }

    func kill() { child.stop(signal: SIGKILL) }

    /// SIGTERM, as systemd stops it; returns the exit code, or minus the signal that ended it (-9 when it did
    /// not stop within 20 s and was killed).
    @discardableResult
    func terminate() -> Int32 {
        let status = child.stop(signal: SIGTERM)
        return status & 0x7f == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits up to `timeout` seconds for the daemon to exit by itself; returns its exit code, or nil if it
    /// is still running (or was ended by a signal).
    func exitCode(within timeout: Double) async -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while ContinuousClock.now < deadline {
            if let status = child.poll() { return status & 0x7f == 0 ? (status >> 8) & 0xff : nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

/// Messages received by a subscriber, for tests to wait on.
actor Inbox {
    struct Received: Sendable {
        var topic: String
        var payload: [UInt8]
        var correlationData: [UInt8]? = nil
        var text: String { String(decoding: payload, as: UTF8.self) }
        var json: JSONValue? { try? JSON.parse(payload) }
    }

    private(set) var messages: [Received] = []
    private(set) var connections = 0
    /// The MQTT version of each connection, in order.
    private(set) var versions: [MQTTVersion] = []
    private(set) var failures: [String] = []
    /// Messages the client dropped as larger than its limit: topic and size.
    private(set) var dropped: [(topic: String, bytes: Int)] = []

    func add(_ message: Received) { messages.append(message) }
    func connected(_ version: MQTTVersion) {
        connections += 1
        versions.append(version)
    }
    func drop(_ topic: String, _ bytes: Int) { dropped.append((topic, bytes)) }
    func failed(_ reason: String) { failures.append(reason) }

    /// Waits until `condition` holds over the messages, or `timeout` seconds pass.
    func wait(timeout: Double, _ condition: @Sendable ([Received]) -> Bool) async -> Bool {
        await Poll.until(timeout: .seconds(timeout)) { condition(messages) }
    }

    /// Waits until the client has been accepted by the broker `count` times in all.
    func waitConnected(count: Int = 1, timeout: Double) async -> Bool {
        await Poll.until(timeout: .seconds(timeout)) { connections >= count }
    }
}

/// An MQTT client for the test side: subscribes, records, publishes commands.
final class TestClient: Sendable {
    let client: MQTTClient
    let inbox = Inbox()
    private let task: Task<Void, Never>

    init(_ options: MQTTClient.Options) throws {
        client = try MQTTClient(options: options)
        let inbox = self.inbox
        let events = client.events
        task = Task {
            for await event in events {
                switch event {
                case .message(let message):
                    await inbox.add(
                        .init(topic: message.topic, payload: message.payload, correlationData: message.correlationData))
                case .connected(_, let version): await inbox.connected(version)
                case .messageDropped(let topic, let bytes): await inbox.drop(topic, bytes)
                case .connectFailed(_, let reason): await inbox.failed(reason)
                default: break
                }
            }
        }
        client.start()
    }

    static func subscriber(
        _ broker: Broker, topic: String, id: String = "test-\(UUID().uuidString.prefix(8))", persistent: Bool = false
    ) throws -> TestClient {
        var options = MQTTClient.Options(clientID: id, brokers: [broker.url])
        options.subscriptions = [topic]
        options.cleanStart = !persistent
        // A session that outlives its connections: 3.1.1 keeps it without the MQTT 5 session-expiry property.
        options.mqttProtocol = persistent ? .only(.v311) : .auto
        // Snapshots are larger than the unit's own limit.
        options.maximumPacketSize = 16 << 20
        options.backoff = Backoff(initial: 0.2, maximum: 1, jitter: 0.1)
        return try TestClient(options)
    }

    /// Waits until the client is connected and its subscription delivers: publishes a probe on `probeTopic`
    /// (which the subscription must match) until it comes back. Then nothing published after is missed.
    func ready(probe probeTopic: String, timeout: Double = 15) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        let inbox = self.inbox
        guard await waitFor(timeout: timeout, { await inbox.connections > 0 }) else { return false }
        let marker = "probe-\(UUID().uuidString)"
        while ContinuousClock.now < deadline {
            _ = try? client.publish(topic: probeTopic, payload: Array(marker.utf8), qos: 0)
            if await inbox.wait(timeout: 0.5, { $0.contains { $0.topic == probeTopic && $0.text == marker } }) {
                return true
            }
        }
        return false
    }

    /// Waits until the client is connected (enough to publish).
    func connected(timeout: Double = 15) async -> Bool {
        let inbox = self.inbox
        return await waitFor(timeout: timeout) { await inbox.connections > 0 }
    }

    func stop() {
        client.stop()
        task.cancel()
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 time as the unit writes it (`…T21:47:26.877Z`).
func millis(rfc3339 text: String) -> Int64? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
}

func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "vigie-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The folder of the built products (vigied sits beside the test bundle).
func productsFolder() -> URL {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent()
}

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

func waitForPort(_ port: Int, timeout: Double = 10) throws {
    let listening = Poll.blockingUntil(timeout: .seconds(timeout)) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        close(fd)
        return status == 0
    }
    guard listening else { throw POSIXError(.ETIMEDOUT) }
}

/// A unit configuration for the tests: synthetic camera, one mask, the given broker.
func unitConfiguration(
    folder: URL, broker: some TestBroker, deviceID: String, telemetry: Double = 1, uplink extra: String = ""
) throws -> URL {
    try unitConfiguration(
        folder: folder, brokerURL: "mqtt://127.0.0.1:\(broker.port)", deviceID: deviceID, telemetry: telemetry,
        uplink: extra)
}

/// A unit configuration for the tests with any broker URL; `extra` lines go at the end of `[uplink]`.
func unitConfiguration(
    folder: URL, brokerURL: String, deviceID: String, telemetry: Double = 1, uplink extra: String = ""
) throws -> URL {
    let text = """
        [device]
        id = "\(deviceID)"
        role = "pole"

        [source]
        uri = "synthetic:"

        [[mask]]
        name = "window"
        points = [[0.05, 0.05], [0.4, 0.05], [0.4, 0.45], [0.05, 0.45]]

        [storage]
        state_dir = "\(folder.path)/state"

        [uplink]
        brokers = ["\(brokerURL)"]
        telemetry_interval = \(telemetry)
        keepalive = 5
        \(extra)
        """
    let url = folder.appendingPathComponent("vigie.toml")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
}

/// Waits until `condition` holds, checking every 50 ms, for at most `timeout` seconds.
func waitFor(timeout: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}
