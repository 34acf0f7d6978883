import Foundation
import Logging
import Synchronization
import Testing
import VigieCore
import VigieStore
import VigieUplink

/// What a log handler received, for tests of what the unit tells its technician.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
    }

    let records = Mutex<[Record]>([])

    var logger: Logger { Logger(label: "test") { _ in Handler(recorder: self) } }

    func count(_ level: Logger.Level, containing text: String) -> Int {
        records.withLock { $0.filter { $0.level == level && $0.message.contains(text) }.count }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.records.withLock { $0.append(Record(level: event.level, message: event.message.description)) }
        }
    }
}

/// The uplink service in this process, with a real SQLite outbox (and a real broker where one is needed).
@Suite("Uplink service")
struct UplinkServiceTests {
    static let identity = UplinkService.Identity(
        deviceID: "unit-svc", role: "pole", board: "test", firmware: "test", capabilities: [])

    static func service(_ settings: UplinkSettings, folder: URL, logger: Logger) throws -> UplinkService {
        try UplinkService(
            identity: identity, settings: settings, outbox: SQLiteOutbox(directory: folder.path), logger: logger)
    }

    /// `verify_hostname = false` is a warning at every start, and nothing is said when it is on.
    @Test func hostnameCheckTurnedOffIsAWarningAtEveryStart() async throws {
        let folder = try temporaryFolder("verify")
        let recorder = LogRecorder()
        var settings = UplinkSettings()
        settings.brokers = [BrokerURL("mqtt://127.0.0.1:1")!]
        for (start, verify) in [(1, false), (2, false), (3, true)] {
            settings.verifyHostname = verify
            let uplink = try Self.service(settings, folder: folder, logger: recorder.logger)
            let running = Task { await uplink.run() }
            // The service tries to connect only after the warning: a connection failure shows it has started.
            #expect(
                await waitFor(timeout: 10) { recorder.count(.warning, containing: "uplink cannot connect") >= start })
            running.cancel()
            await uplink.shutdown(drain: 0)
        }
        #expect(recorder.count(.warning, containing: "verify_hostname = false") == 2)
    }
}
