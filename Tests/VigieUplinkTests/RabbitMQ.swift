import Foundation
import Testing
import VigieCore

/// A real RabbitMQ with its MQTT plugin, from Debian 12's `rabbitmq-server` (3.10): it speaks MQTT 3.1.1 only
/// and closes the connection on an MQTT 5 CONNECT, like a centre's clustered broker may.
///
/// Started by the tests, never the Debian service: its own node name, free loopback ports (MQTT, Erlang
/// distribution, and an epmd of its own, run in the foreground and stopped with it), its own folder for the
/// database, logs, configuration and Erlang cookie (`HOME`). Erlang takes about 10 s to boot, so a suite starts
/// one for all its tests (`.rabbitMQ`).
final class RabbitMQ: TestBroker, @unchecked Sendable {
    static let server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
    let port: Int
    let folder: URL
    let node = "vigie-test-\(UUID().uuidString.prefix(8))@localhost"
    private let distributionPort: Int
    private let epmdPort: Int
    private var epmd: ChildProcess?
    private var process: ChildProcess?
    /// The Erlang VM's own pid: the start script forwards SIGTERM to it, but must not leave it behind.
    private var beam: pid_t?

    /// The broker of the suite in progress (see `RabbitMQScope`).
    @TaskLocal static var current: RabbitMQ?

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.server) else {
            throw Unavailable(reason: "\(Self.server) is missing: install rabbitmq-server (tools/setup does)")
        }
        folder = try temporaryFolder("rabbitmq")
        port = try freePort()
        distributionPort = try freePort()
        epmdPort = try freePort()
        let configuration = """
            listeners.tcp = none
            mqtt.listeners.tcp.default = 127.0.0.1:\(port)
            mqtt.allow_anonymous = true
            mqtt.default_user = guest
            mqtt.default_pass = guest
            mqtt.vhost = /
            mqtt.exchange = amq.topic
            """
        try configuration.write(to: folder.appendingPathComponent("rabbitmq.conf"), atomically: true, encoding: .utf8)
        try "[rabbitmq_mqtt].\n".write(
            to: folder.appendingPathComponent("enabled_plugins"), atomically: true, encoding: .utf8)
        try "".write(to: folder.appendingPathComponent("rabbitmq-env.conf"), atomically: true, encoding: .utf8)
    }

    /// Starts the node (and epmd, the first time) and waits until the MQTT port accepts connections. Returns
    /// how long the boot took.
    @discardableResult
    func start() throws -> Duration {
        let clock = ContinuousClock()
        let started = clock.now
        if epmd == nil {
            epmd = try ChildProcess(
                path: "/usr/bin/epmd", arguments: ["-port", "\(epmdPort)", "-address", "127.0.0.1"],
                output: folder.appendingPathComponent("epmd.log"))
            try waitForPort(epmdPort)
        }
        let path = folder.path
        process = try ChildProcess(
            path: Self.server, arguments: [], output: folder.appendingPathComponent("stdout.log"),
            environment: [
                "HOME": path,
                "RABBITMQ_CONF_ENV_FILE": "\(path)/rabbitmq-env.conf",
                "RABBITMQ_CONFIG_FILE": "\(path)/rabbitmq.conf",
                "RABBITMQ_ADVANCED_CONFIG_FILE": "\(path)/advanced.config",
                "RABBITMQ_ENABLED_PLUGINS_FILE": "\(path)/enabled_plugins",
                "RABBITMQ_NODENAME": node,
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_DIST_PORT": "\(distributionPort)",
                "ERL_EPMD_PORT": "\(epmdPort)",
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
                "RABBITMQ_MNESIA_BASE": "\(path)/mnesia",
                "RABBITMQ_LOG_BASE": "\(path)/log",
                "RABBITMQ_PID_FILE": "\(path)/rabbitmq.pid",
            ])
        do {
            try waitForPort(port, timeout: 90)
        } catch {
            stop()
            throw Unavailable(reason: "RabbitMQ did not open its MQTT port within 90 s; see \(path)/log")
        }
        beam = (try? String(contentsOfFile: "\(path)/rabbitmq.pid", encoding: .utf8))
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return clock.now - started
    }

    /// Stops the node the way systemd would (SIGTERM: it writes its queues to disk) and waits for its exit.
    func stop() {
        guard let process else { return }
        process.stop(signal: SIGTERM)
        self.process = nil
        if let beam, !Poll.blockingUntil(timeout: .seconds(20), { kill(beam, 0) != 0 }) { kill(beam, SIGKILL) }
        beam = nil
    }

    /// Stops the node and its epmd.
    func shutdown() {
        stop()
        epmd?.stop(signal: SIGTERM)
        epmd = nil
    }

    deinit { shutdown() }

    struct Unavailable: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }
}

/// One RabbitMQ for a whole suite: `@Suite(.rabbitMQ)`; its tests find it in `RabbitMQ.current`.
struct RabbitMQScope: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let broker = try RabbitMQ()
        defer { broker.shutdown() }
        let boot = try broker.start()
        print("RabbitMQ \(broker.node) up on 127.0.0.1:\(broker.port) after \(boot)")
        try await RabbitMQ.$current.withValue(broker) { try await function() }
    }
}

extension Trait where Self == RabbitMQScope {
    static var rabbitMQ: Self { Self() }
}
