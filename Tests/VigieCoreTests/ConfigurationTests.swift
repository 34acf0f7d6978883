import Testing
import VigieCore

@Suite("Configuration")
struct ConfigurationTests {
    static let valid = """
        # A school entrance.
        [device]
        id = "ecole-jaures-01"
        role = "school"
        board = "rpi4"

        [source]
        uri = "y4m:clips/entrance.y4m"
        loop = false

        [motion]
        sensitivity = 0.6
        min_area = 0.002
        min_frames = 3
        end_frames = 25

        [[mask]]
        name = "window 12"
        points = [[0.1, 0.1], [0.3, 0.1], [0.3, 0.4], [0.1, 0.4]]

        [[zone]]
        name = "gate"
        points = [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]]
        sensitivity = 0.8

        [snapshot]
        quality = 70
        """

    @Test func validFileLoads() throws {
        let configuration = try Configuration.parse(
            Self.valid, file: "unit.toml", baseDirectory: "/etc/vigie", boardDirectory: repositoryBoards)
        #expect(configuration.deviceID == "ecole-jaures-01")
        #expect(configuration.role == .school)
        #expect(configuration.board == "rpi4")
        #expect(configuration.gpio?.chip == .label("pinctrl-bcm2711"))
        #expect(configuration.source == .y4m(path: "/etc/vigie/clips/entrance.y4m"))
        #expect(configuration.loop == false)
        #expect(configuration.motion.minimumFrames == 3)
        #expect(configuration.motion.sensitivity == 0.6)
        #expect(configuration.mask.polygons.map(\.name) == ["window 12"])
        #expect(configuration.zones.map(\.name) == ["gate"])
        #expect(configuration.zones.first?.sensitivity == 0.8)
        #expect(configuration.zones.first?.minimumArea == 0.002)
        #expect(configuration.snapshotQuality == 70)
    }

    @Test func emptyFileGivesDefaults() throws {
        let configuration = try Configuration.parse("", file: "empty.toml")
        #expect(configuration.source == .synthetic)
        #expect(configuration.mask.polygons.isEmpty)
    }

    @Test func storageRetentionDefaultsToTheLegalMaximumAndMayBeShorter() throws {
        #expect(try Configuration.parse("", file: "empty.toml").storage.retentionDays == 30)
        let storage = try Configuration.parse("[storage]\nretention_days = 7\nmax_mb = 64\n", file: "u.toml").storage
        #expect(storage.retentionDays == 7 && storage.retentionMillis == 7 * 86_400_000)
        #expect(storage.maximumBytes == 64 << 20)
    }

    @Test(
        "errors name file, line and key",
        arguments: [
            ("[motion]\nsensitivity = 1.5\n", 2, "motion.sensitivity", "out of range"),
            ("[motion]\nsensitivity = nan\n", 2, "motion.sensitivity", "out of range"),
            ("[motion]\nmin_frames = 2.5\n", 2, "motion.min_frames", "whole number"),
            ("[motion]\nsensitivty = 0.5\n", 2, "motion.sensitivty", "unknown key"),
            ("[device]\nid = \"a/b\"\n", 2, "device.id", "letters, digits"),
            ("[device]\nrole = \"tower\"\n", 2, "device.role", "not a role"),
            ("[source]\nuri = \"rtsp://cam\"\n", 2, "source.uri", "not synthetic:"),
            ("[[mask]]\nname = \"x\"\n", 1, "mask[1].points", "missing"),
            (
                "[[mask]]\npoints = [[0.1, 0.1],\n  [1.2, 0.1],\n  [0.5, 0.5]]\n", 3, "mask[1].points",
                "outside the image"
            ),
            (
                "[[mask]]\npoints = [[0.1, 0.1], [0.5, 0.5], [0.5, 0.1], [0.1, 0.5]]\n", 2, "mask[1].points",
                "crosses itself"
            ),
            ("[[mask]]\npoints = [[0.1, 0.1], [0.5], [0.5, 0.1]]\n", 2, "mask[1].points[2]", "pair of numbers"),
            ("[[mask]]\npoints = [[0.1, 0.1], [inf, 0.5], [0.5, 0.1]]\n", 2, "mask[1].points", "not a finite number"),
            ("[[mask]]\npoints = \"all\"\n", 2, "mask[1].points", "list of [x, y] points"),
            ("[[zone]]\nname = \"a\"\n[[zone]]\nname = \"a\"\n", 4, "zone[2].name", "defined twice"),
            ("[snapshot]\nquality = 0\n", 2, "snapshot.quality", "out of range"),
            ("[motion]\nsensitivity = \n", 2, "", "TOML syntax"),
            ("motion = 3\n", 1, "motion", "expected a table"),
            ("[storage]\nretention_days = 31\n", 2, "storage.retention_days", "more than the law allows"),
            ("[storage]\nretention_days = 0\n", 2, "storage.retention_days", "out of range"),
            ("[storage]\nmax_mb = 1\n", 2, "storage.max_mb", "out of range"),
        ])
    func errorsAreLocated(text: String, line: Int, key: String, message: String) {
        Self.expectOneError(in: text, line: line, key: key, message: message)
    }

    /// A reload applies masks and zones; what only a restart applies keeps its running value and is named.
    @Test func reloadKeepsWhatOnlyARestartApplies() {
        var running = Configuration()
        running.deviceID = "pole-1"
        running.stateDirectory = "/var/lib/vigie"
        var next = running
        next.deviceID = "pole-2"
        next.stateDirectory = "/tmp/elsewhere"
        next.zones = [Zone(name: "gate", polygon: nil, sensitivity: 0.5, minimumArea: 0.01)]
        let (applicable, restartNeeded) = next.applicable(over: running)
        #expect(restartNeeded == ["device.id", "storage.state_dir"])
        #expect(applicable.deviceID == "pole-1" && applicable.stateDirectory == "/var/lib/vigie")
        #expect(applicable.zones == next.zones, "applied live")
        #expect(running.applicable(over: running).restartNeeded.isEmpty)
    }

    /// `text` (as `unit.toml`) is refused with one error, at `line` and `key`, whose message contains `message`.
    static func expectOneError(in text: String, line: Int, key: String, message: String) {
        do {
            _ = try Configuration.parse(text, file: "unit.toml")
            Issue.record("accepted: \(text)")
        } catch {
            let issue = error.issues.first
            #expect(error.issues.count == 1, "\(error)")
            #expect(issue?.file == "unit.toml")
            #expect(issue?.line == line, "\(error)")
            #expect(issue?.key == key, "\(error)")
            #expect(issue?.message.contains(message) == true, "\(error)")
            #expect(error.description.hasPrefix("unit.toml:\(line): "))
        }
    }

    @Test func everyErrorIsReportedAtOnce() {
        let text = "[motion]\nsensitivity = 3\nmin_frames = 0\n[snapshot]\nquality = 500\n"
        #expect(throws: ConfigurationError.self) { try Configuration.parse(text, file: "u.toml") }
        do {
            _ = try Configuration.parse(text, file: "u.toml")
        } catch {
            #expect(error.issues.map(\.line) == [2, 3, 5])
        }
    }

    @Test func missingFileIsReported() {
        do {
            _ = try Configuration.load(path: "/nonexistent/vigie.toml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/vigie.toml: cannot open"))
        }
    }

    @Test func randomGarbageNeverCrashes() {
        var random = SplitMix(seed: 5)
        let source = Array(Self.valid.utf8)
        for _ in 0..<2000 {
            var bytes = source
            for _ in 0..<(1 + Int(random.next() % 6)) {
                let index = Int(random.next() % UInt64(bytes.count))
                bytes[index] = UInt8(32 + random.next() % 95)
            }
            _ = try? Configuration.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.toml")
        }
    }
}

@Suite("Uplink configuration")
struct UplinkConfigurationTests {
    static func uplink(_ lines: String) -> String { "[device]\nid = \"u1\"\n\n[uplink]\n" + lines }

    @Test(
        "plain MQTT to another machine, and credentials over it, are refused with file, line and key",
        arguments: [
            ("brokers = [\"mqtt://csu.example.fr:1883\"]\n", 5, "uplink.brokers[1]", "allow_plaintext = true"),
            ("brokers = [\"mqtt://10.0.0.4\"]\n", 5, "uplink.brokers[1]", "not on this machine"),
            ("brokers = [\"mqtt://128.0.0.1\"]\n", 5, "uplink.brokers[1]", "not on this machine"),
            ("brokers = [\"mqtt://[::2]:1883\"]\n", 5, "uplink.brokers[1]", "not on this machine"),
            ("brokers = [\"mqtt://localhost.example.fr\"]\n", 5, "uplink.brokers[1]", "not on this machine"),
            (
                "brokers = [\n  \"mqtt://127.0.0.1\",\n  \"mqtt://csu-2.example.fr\",\n]\n", 7, "uplink.brokers[2]",
                "mqtt://csu-2.example.fr:1883"
            ),
            (
                "brokers = [\"mqtt://csu.example.fr\"]\nallow_plaintext = true\nusername = \"u1\"\n", 7,
                "uplink.username", "sent in clear"
            ),
            (
                "brokers = [\"mqtt://csu.example.fr\"]\nallow_plaintext = true\npassword = \"secret\"\n", 7,
                "uplink.password", "even with allow_plaintext"
            ),
            (
                "brokers = [\"mqtt://127.0.0.1\"]\nallow_plaintext = \"yes\"\n", 6, "uplink.allow_plaintext",
                "true or false"
            ),
        ])
    func plaintextIsRefused(text: String, line: Int, key: String, message: String) {
        do {
            _ = try Configuration.parse(Self.uplink(text), file: "unit.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.issues.count == 1, "\(error)")
            let issue = error.issues.first
            #expect(issue?.line == line, "\(error)")
            #expect(issue?.key == key, "\(error)")
            #expect(issue?.message.contains(message) == true, "\(error)")
            #expect(error.description.hasPrefix("unit.toml:\(line): \(key): "), "\(error)")
        }
    }

    @Test func usernameAndPasswordOverPlaintextAreBothReported() {
        let text = Self.uplink("brokers = [\"mqtt://csu.example.fr\"]\nusername = \"u1\"\npassword = \"p\"\n")
        #expect(throws: ConfigurationError.self) { try Configuration.parse(text, file: "unit.toml") }
        do {
            _ = try Configuration.parse(text, file: "unit.toml")
        } catch {
            #expect(error.issues.map(\.key) == ["uplink.brokers[1]", "uplink.username", "uplink.password"])
            #expect(error.issues.map(\.line) == [5, 6, 7])
        }
    }

    @Test(
        "TLS, this machine, or plaintext allowed on purpose are accepted",
        arguments: [
            ("brokers = [\"mqtt://127.0.0.1:1883\"]\n", false),
            ("brokers = [\"mqtt://127.255.3.4\"]\nusername = \"u1\"\npassword = \"p\"\n", false),
            ("brokers = [\"mqtt://localhost\"]\n", false),
            ("brokers = [\"mqtt://LocalHost:1884\"]\n", false),
            ("brokers = [\"mqtt://[::1]:1883\"]\n", false),
            ("brokers = [\"mqtt://[0:0:0:0:0:0:0:1]\"]\n", false),
            ("brokers = [\"mqtt://[::ffff:127.0.0.1]\"]\n", false),
            ("brokers = [\"mqtts://csu.example.fr\"]\nca_file = \"/etc/vigie/ca.pem\"\nusername = \"u1\"\n", false),
            ("brokers = [\"mqtt://csu.example.fr\"]\nallow_plaintext = true\n", true),
        ])
    func acceptedBrokers(text: String, allowPlaintext: Bool) throws {
        let configuration = try Configuration.parse(Self.uplink(text), file: "unit.toml")
        let uplink = try #require(configuration.uplink)
        #expect(uplink.allowPlaintext == allowPlaintext)
        #expect(uplink.plaintextProblems.isEmpty)
    }

    @Test func commandLineBrokersGetTheSameRule() {
        var settings = UplinkSettings()
        settings.brokers = [BrokerURL("mqtt://127.0.0.1")!, BrokerURL("mqtt://192.0.2.7:1884")!]
        #expect(settings.plaintextProblems == [.remoteBroker(index: 1, BrokerURL("mqtt://192.0.2.7:1884")!)])
        settings.allowPlaintext = true
        #expect(settings.plaintextProblems.isEmpty)
        settings.password = "p"
        #expect(
            settings.plaintextProblems == [.credentials(key: "password", broker: BrokerURL("mqtt://192.0.2.7:1884")!)])
        settings.brokers = [BrokerURL("mqtts://192.0.2.7")!]
        #expect(settings.plaintextProblems.isEmpty)
    }
}

extension UplinkConfigurationTests {
    @Test func commandSettingsAreRead() throws {
        let text = Self.uplink(
            """
            brokers = ["mqtt://127.0.0.1"]
            reply_prefix = "csu/replies/"
            command_burst = 3
            commands_per_minute = 12.5
            command_queue = 8
            historical_after = 1.5
            """)
        let uplink = try #require(try Configuration.parse(text, file: "unit.toml").uplink)
        #expect(uplink.replyPrefix == "csu/replies/")
        #expect(uplink.commandBurst == 3 && uplink.commandsPerMinute == 12.5 && uplink.commandQueue == 8)
        #expect(uplink.historicalAfter == 1.5)
        let defaults = try #require(
            try Configuration.parse(Self.uplink("brokers = [\"mqtt://[::1]\"]\n"), file: "u").uplink)
        #expect(defaults.replyPrefix == nil)
        #expect(defaults.commandBurst == 5 && defaults.commandsPerMinute == 30 && defaults.commandQueue == 32)
        #expect(defaults.historicalAfter == 5)
    }

    @Test(
        "command settings out of range are located",
        arguments: [
            ("reply_prefix = \"csu/replies\"\n", "uplink.reply_prefix", "ending in '/'"),
            ("reply_prefix = \"csu/#/\"\n", "uplink.reply_prefix", "ending in '/'"),
            ("reply_prefix = \"$SYS/\"\n", "uplink.reply_prefix", "ending in '/'"),
            ("reply_prefix = \"/\"\n", "uplink.reply_prefix", "ending in '/'"),
            ("command_burst = 0\n", "uplink.command_burst", "out of range"),
            ("commands_per_minute = 0\n", "uplink.commands_per_minute", "out of range"),
            ("command_queue = 5000\n", "uplink.command_queue", "out of range"),
            ("historical_after = 0\n", "uplink.historical_after", "out of range"),
        ])
    func commandSettingsAreChecked(line: String, key: String, message: String) {
        do {
            _ = try Configuration.parse(Self.uplink("brokers = [\"mqtt://127.0.0.1\"]\n" + line), file: "unit.toml")
            Issue.record("accepted: \(line)")
        } catch {
            #expect(error.issues.map(\.key) == [key], "\(error)")
            #expect(error.issues.first?.line == 6)
            #expect(error.issues.first?.message.contains(message) == true, "\(error)")
        }
    }
}
