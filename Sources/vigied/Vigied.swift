import ArgumentParser
import Logging
import VigieCore
import VigieDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// The Vigie daemon: runs a camera unit from its configuration.
@main
struct Vigied: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigied",
        abstract: "Run a Vigie camera unit.",
        discussion: """
            Loads and validates the whole configuration first: a unit with an invalid mask refuses to start rather
            than stream unmasked (exit status 78). SIGTERM and SIGINT stop it cleanly: the camera after the
            current frame, then the uplink, which publishes the retained 'offline' status. SIGHUP reloads the
            configuration (a file with errors is refused and the running one kept). Under systemd (Type=notify)
            it reports READY=1, a STATUS= line, and WATCHDOG=1 only while frames are processed.
            """,
        version: UnitDaemon.firmware
    )

    @Option(help: "Configuration file.")
    var config: String?

    @Flag(help: "Run the built-in demo configuration: synthetic camera, no hardware.")
    var demo = false

    @Flag(help: "Print the demo configuration and exit (a starting point for a real one).")
    var printDemoConfig = false

    @Option(
        help:
            "The centre's broker, mqtt://host:port or mqtts://host:port; repeat to try several in turn. Overrides [uplink] brokers."
    )
    var broker: [String] = []

    @Option(help: "This unit's id (letters, digits, - and _). Overrides [device] id.")
    var deviceId: String?

    @Option(help: "Folder for the outbox and counters. Overrides [storage] state_dir.")
    var stateDir: String?

    @Option(help: "Stop after this many frames (tests, bounded demos).")
    var frames: Int?

    @Option(help: "Write each alert's masked snapshot (JPEG) into this folder.")
    var snapshotDir: String?

    @Option(help: "Keep at most this many megabytes of snapshots in --snapshot-dir (the oldest go first).")
    var snapshotMaxMb = 256

    @Option(help: "Keep snapshots in --snapshot-dir at most this many days.")
    var snapshotMaxDays = 7.0

    @Option(
        help: ArgumentHelp(
            "Raise this many 'test' events (every tenth an emergency) to check store-and-forward end to end.",
            discussion: "Prints 'raised n=<index> id=<event id>' on standard output once each raise has returned."
        ))
    var testEvents = 0

    @Option(help: "Milliseconds between test events.")
    var testEventInterval = 10

    @Option(
        help: ArgumentHelp(
            "The local control socket for `vigie status` and `vigie doctor`.",
            discussion:
                "Default: $RUNTIME_DIRECTORY/control.sock under systemd (/run/vigie/control.sock), <state folder>/control.sock for --demo, none otherwise."
        ))
    var controlSocket: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        if printDemoConfig { return }
        guard demo != (config != nil) else { throw ValidationError("give either --config FILE or --demo") }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        for url in broker where BrokerURL(url) == nil {
            throw ValidationError("--broker \(url): expected mqtt://host:port or mqtts://host:port")
        }
        if let deviceId, !Configuration.isValidDeviceID(deviceId) {
            throw ValidationError("--device-id must be 1 to 64 letters, digits, '-' or '_'")
        }
        guard (1...1_000_000).contains(snapshotMaxMb), snapshotMaxDays > 0, snapshotMaxDays <= 3650 else {
            throw ValidationError(
                "--snapshot-max-mb must be 1 to 1000000, --snapshot-max-days above 0 and at most 3650")
        }
        guard (0...1_000_000).contains(testEvents), (0...60_000).contains(testEventInterval) else {
            throw ValidationError("--test-events or --test-event-interval out of range")
        }
    }

    func run() async throws {
        if printDemoConfig {
            print(DemoConfiguration.text)
            return
        }
        // First: from here on a signal is kept for the daemon (none is lost while it starts), SIGPIPE ignored.
        let signals = SignalWatcher.start()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let environment = ProcessEnvironment.current
        let journal = JournalLogHandler.standardErrorIsJournal(environment: environment)
        LoggingSystem.bootstrap { label in
            if journal {
                var handler = JournalLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vigied")
        for problem in ProcessHardening.apply() {
            logger.warning("cannot harden the process", metadata: ["error": "\(problem)"])
        }
        var configuration: Configuration
        do {
            configuration =
                try demo
                ? Configuration.parse(DemoConfiguration.text, file: "<demo>") : Configuration.load(path: config!)
        } catch {
            logger.critical("configuration refused, not starting", metadata: ["errors": "\(error.issues.count)"])
            Self.printError(error.description)
            throw ExitCode(78)  // EX_CONFIG: systemd will not restart-loop on a bad file.
        }
        var overrides = UnitDaemon.Overrides()
        overrides.deviceID = deviceId
        overrides.stateDirectory = stateDir ?? (demo ? "demo-state" : nil)
        overrides.brokers = broker.compactMap(BrokerURL.init)
        overrides.apply(to: &configuration)
        if !broker.isEmpty, let settings = configuration.uplink {
            if settings.brokers.contains(where: \.tls) && settings.caFile == nil {
                Self.printError("--broker mqtts://…: the configuration's [uplink] ca_file is required for TLS")
                throw ExitCode(78)
            }
            // The file was checked with its own brokers; the ones given here must pass the same rule.
            let problems = settings.plaintextProblems
            if !problems.isEmpty {
                Self.printError(
                    problems.map { problem in
                        switch problem {
                        case .remoteBroker: "--broker: \(problem)"
                        case .credentials(let key, _): "\(config ?? "<demo>"): uplink.\(key): \(problem)"
                        }
                    }.joined(separator: "\n"))
                throw ExitCode(78)
            }
        }
        if let snapshotDir, access(snapshotDir, W_OK) != 0 {
            Self.printError("\(snapshotDir): snapshot folder is not writable (\(SystemError.describe(errno)))")
            throw ExitCode(73)  // EX_CANTCREAT
        }
        for exposed in ProcessHardening.exposedSecrets(configurationPath: config, configuration: configuration) {
            logger.warning("a secret is readable by others than its owner: chmod 600", metadata: ["file": "\(exposed)"])
        }
        var launch = UnitDaemon.Launch(configuration: configuration)
        launch.overrides = overrides
        launch.systemd = SystemdNotifier(environment: environment)
        launch.controlSocket =
            controlSocket ?? environment["RUNTIME_DIRECTORY"].map { "\($0)/control.sock" }
            ?? (demo ? "\(configuration.stateDirectory)/control.sock" : nil)
        launch.configurationPath = demo ? nil : config
        launch.frameLimit = frames
        launch.snapshotDirectory = snapshotDir
        launch.snapshotLimits.bytes = Int64(snapshotMaxMb) << 20
        launch.snapshotLimits.age = snapshotMaxDays * 86_400
        launch.testEvents = testEvents
        launch.testEventInterval = Double(testEventInterval) / 1000
        let daemon: UnitDaemon
        do {
            daemon = try UnitDaemon(launch: launch, logger: logger)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        let signalTask = Task {
            for await number in signals {
                if number == SIGHUP {
                    logger.notice("reloading the configuration", metadata: ["signal": "SIGHUP"])
                    _ = daemon.reload()
                } else {
                    logger.notice("stopping", metadata: ["signal": "\(number == SIGTERM ? "SIGTERM" : "SIGINT")"])
                    daemon.stop()
                }
            }
        }
        defer { signalTask.cancel() }
        logger.notice(
            "vigied starting",
            metadata: [
                "device": "\(configuration.deviceID)", "role": "\(configuration.role.rawValue)",
                "uplink":
                    "\(configuration.uplink.map { $0.brokers.map(\.description).joined(separator: ",") } ?? "none")",
            ])
        do {
            try await daemon.run()
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
