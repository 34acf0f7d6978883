import ArgumentParser
import Dispatch
import Logging
import VigieCore
import VigieDaemon

#if canImport(Glibc)
import Glibc
#endif

/// The Vigie daemon: runs a camera unit from its configuration.
@main
struct Vigied: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigied",
        abstract: "Run a Vigie camera unit.",
        discussion: """
            Loads and validates the whole configuration first: a unit with an invalid mask refuses to start rather
            than stream unmasked. SIGTERM and SIGINT stop it cleanly after the current frame.
            """
    )

    @Option(help: "Configuration file.")
    var config: String?

    @Flag(help: "Run the built-in demo configuration: synthetic camera, no hardware.")
    var demo = false

    @Flag(help: "Print the demo configuration and exit (a starting point for a real one).")
    var printDemoConfig = false

    @Option(help: "Stop after this many frames (tests, bounded demos).")
    var frames: Int?

    @Option(help: "Write each event's masked snapshot (JPEG) into this folder.")
    var snapshotDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        if printDemoConfig { return }
        guard demo != (config != nil) else { throw ValidationError("give either --config FILE or --demo") }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() throws {
        if printDemoConfig {
            print(DemoConfiguration.text)
            return
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vigied")
        let configuration: Configuration
        do {
            configuration =
                try demo
                ? Configuration.parse(DemoConfiguration.text, file: "<demo>") : Configuration.load(path: config!)
        } catch {
            logger.critical("configuration refused, not starting", metadata: ["errors": "\(error.issues.count)"])
            Self.printError(error.description)
            throw ExitCode(78)  // EX_CONFIG: systemd will not restart-loop on a bad file.
        }
        if let snapshotDir, access(snapshotDir, W_OK) != 0 {
            Self.printError("\(snapshotDir): snapshot folder is not writable (\(SystemError.describe(errno)))")
            throw ExitCode(73)  // EX_CANTCREAT
        }
        let service = CameraService(
            configuration: configuration, logger: logger, frameLimit: frames, snapshotDirectory: snapshotDir)
        let signals = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.notice("stopping", metadata: ["signal": "\(number)"])
                service.stop()
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        logger.notice(
            "vigied starting",
            metadata: ["device": "\(configuration.deviceID)", "role": "\(configuration.role.rawValue)"])
        do {
            _ = try service.run()
        } catch {
            logger.critical("camera failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }

    static func printError(_ text: String) {
        var line = text + "\n"
        _ = line.withUTF8 { write(2, $0.baseAddress, $0.count) }
    }
}
