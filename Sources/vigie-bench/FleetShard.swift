import Logging
import Synchronization
import VigieCore
import VigieStore
import VigieUplink

#if canImport(Glibc)
    import Glibc
#endif

/// One process of the fleet (`vigie-bench fleet-shard`, started by `vigie-bench fleet`): a share of the units,
/// each the real uplink of a unit, driven by commands on standard input, one a line, each answered by one line
/// on standard output:
///
/// | command | answer |
/// |---|---|
/// | (at start) | `ready` once every unit exists, or `error <why>` |
/// | `start` | `started`: every unit's `UplinkService.run()` has been started, all at once |
/// | `raise` | `raised <failures>`: every unit has raised one event; failures: outboxes that did not commit it in 10 s |
/// | `depth` | `depth <n>`: items left in all the outboxes |
/// | `connected` | `connected <n>`: units whose link is up |
/// | `quit` | none: the process exits (so it does at end of input) |
///
/// Between answers come the units' link events, as `FleetLog` reads them: `up <unit> <monotonic ns> <version>`,
/// `failed <unit> <reason>`, `down <unit>`, `problem <unit> <level>: <message>`.
enum FleetShard {
    static func run(_ arguments: [String]) async throws {
        var firstArgument = 0
        var countArgument = 0
        var brokerArgument: BrokerURL?
        var folderArgument = ""
        var rest = arguments[...]
        while let name = rest.popFirst(), let value = rest.popFirst() {
            switch name {
            case "--first": firstArgument = Int(value) ?? -1
            case "--count": countArgument = Int(value) ?? 0
            case "--broker": brokerArgument = BrokerURL(value)
            case "--folder": folderArgument = value
            default: break
            }
        }
        let output = Output()
        let (first, count, folder) = (firstArgument, countArgument, folderArgument)
        guard first >= 0, count > 0, let broker = brokerArgument, broker.isLoopback, !folder.isEmpty else {
            output.line("error usage: fleet-shard --first N --count N --broker mqtt://127.0.0.1:PORT --folder DIR")
            exit(2)
        }

        let created = Mutex<[UplinkService?]>(Array(repeating: nil, count: count))
        let failures = Mutex<[String]>([])
        await Workers.run(count, threads: 2) { index in
            do {
                let uplink = try makeUnit(first + index, broker: broker, folder: folder, output: output)
                created.withLock { $0[index] = uplink }
            } catch {
                failures.withLock { $0.append("unit \(first + index): \(error)") }
            }
        }
        if let failure = failures.withLock({ $0.first }) {
            output.line("error \(failure)")
            exit(1)
        }
        let units = created.withLock { $0.compactMap { $0 } }
        output.line("ready")

        let (commands, input) = AsyncStream<String>.makeStream()
        LineReader.start(0, line: { input.yield($0) }, end: { input.finish() })
        for await command in commands {
            switch command {
            case "start":
                for uplink in units { Task { await uplink.run() } }
                output.line("started")
            case "raise":
                await Workers.run(count, threads: 2) { index in units[index].raise(FleetBenchmark.event) }
                // Committed to every outbox before the shard says so (the broker may be down meanwhile).
                var failed = 0
                for uplink in units where !(await uplink.flush()) { failed += 1 }
                output.line("raised \(failed)")
            case "depth":
                output.line("depth \(units.reduce(0) { $0 + $1.outboxDepth() })")
            case "connected":
                var connected = 0
                for uplink in units where await uplink.isConnected { connected += 1 }
                output.line("connected \(connected)")
            case "quit":
                exit(0)
            default:
                output.line("error unknown command \(command)")
            }
        }
        exit(0)
    }

    static func makeUnit(_ unit: Int, broker: BrokerURL, folder: String, output: Output) throws -> UplinkService {
        let id = FleetBenchmark.deviceID(unit)
        let directory = folder + "/" + id
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw FleetError.process("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        var settings = UplinkSettings()
        settings.brokers = [broker]
        return try UplinkService(
            identity: .init(deviceID: id, role: "pole", board: "fleet", firmware: "bench", capabilities: []),
            settings: settings, outbox: SQLiteOutbox(directory: directory),
            logger: Logger(label: "fleet") { _ in LineLogHandler(unit: unit, output: output) })
    }

    /// Lines on standard output, whole, from any thread.
    final class Output: Sendable {
        private let lock = Mutex(())

        func line(_ text: String) {
            let bytes = Array((text.replacing("\n", with: " ") + "\n").utf8)
            lock.withLock { _ in
                bytes.withUnsafeBytes { _ = try? SystemCall.writeAll($0, to: 1) }
            }
        }
    }

    /// Passes a unit's link events on to the coordinator as lines.
    struct LineLogHandler: LogHandler {
        let unit: Int
        let output: Output
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .notice

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let now = Monotonic.now()
            let message = event.message.description
            switch message {
            case "uplink connected":
                output.line("up \(unit) \(now) \(event.metadata?["protocol"].map { "\($0)" } ?? "?")")
            case "uplink cannot connect":
                output.line("failed \(unit) \(event.metadata?["reason"].map { "\($0)" } ?? "?")")
            case "uplink disconnected":
                output.line("down \(unit)")
            default:
                if event.level >= .warning { output.line("problem \(unit) \(event.level): \(message)") }
            }
        }
    }
}
