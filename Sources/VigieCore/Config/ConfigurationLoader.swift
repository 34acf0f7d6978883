#if canImport(Glibc)
    import Glibc
#endif

extension Configuration {
    /// Largest configuration file read (a unit's file is a few kilobytes).
    public static let maximumFileSize = 1 << 20

    /// Reads and validates the file at `path`. Relative file paths inside are taken from its folder.
    ///
    /// The board profile it selects (`[device] board`) is read from its `[device] board_dir`, else from
    /// `boardDirectory` (see `BoardProfiles`).
    public static func load(
        path: String, boardDirectory: String = BoardProfiles.installedDirectory
    ) throws(ConfigurationError) -> Configuration {
        let text: String
        do {
            text = try TextFile.read(path: path, limit: maximumFileSize)
        } catch {
            throw ConfigurationError(issues: [
                ConfigurationIssue(file: path, line: 0, key: "", message: error.description)
            ])
        }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        return try parse(text, file: path, baseDirectory: folder, boardDirectory: boardDirectory)
    }

    /// Parses and validates configuration text. `file` names it in errors.
    ///
    /// When it selects a board (`[device] board`), the profile is read from its `[device] board_dir` (relative to
    /// `baseDirectory`), else from `boardDirectory`; each key the text does not set is taken from the profile, and
    /// a problem with such a key names the profile's file and line.
    public static func parse(
        _ text: String, file: String, baseDirectory: String = ".",
        boardDirectory: String = BoardProfiles.installedDirectory
    ) throws(ConfigurationError) -> Configuration {
        let root: TOMLTable
        do {
            root = try TOML.parse(text)
        } catch {
            throw ConfigurationError(issues: [
                ConfigurationIssue(file: file, line: error.line, key: "", message: "TOML syntax: \(error.message)")
            ])
        }
        var reader = ConfigurationReader(file: file)
        let board = reader.applyBoard(root, baseDirectory: baseDirectory, boardDirectory: boardDirectory)
        var configuration = reader.read(board.root, baseDirectory: baseDirectory)
        configuration.board = board.name
        configuration.boardFile = board.file
        guard reader.issues.isEmpty else { throw ConfigurationError(issues: reader.issues) }
        return configuration
    }
}

/// Walks the TOML tree into a `Configuration`, collecting every issue rather than stopping at the first.
struct ConfigurationReader {
    let file: String
    var issues: [ConfigurationIssue] = []
    /// The board profile's file, and the dotted keys (or whole sections) taken from it: problems with them name it.
    var profileFile: String?
    var profileKeys: Set<String> = []
    /// The zones' and lines' warnings read so far, where they were written: checked once the speaker is known.
    var warnings: [(warning: RuleWarning, line: Int, key: String)] = []

    init(file: String) { self.file = file }

    mutating func read(_ root: TOMLTable, baseDirectory: String) -> Configuration {
        var configuration = Configuration()
        checkKeys(
            root, path: "",
            allowed: [
                "device", "source", "motion", "mask", "zone", "snapshot", "uplink", "storage", "gpio", "audio",
                "speaker", "callpoint", "tamper", "crowd", "line", "abandoned",
            ])

        if let device = table(root, "device", path: "") {
            checkKeys(device, path: "device", allowed: ["id", "role", "board", "board_dir"])
            if let id = string(device, "id", path: "device") {
                if id.value.isEmpty || id.value.count > 64
                    || !id.value.unicodeScalars.allSatisfy({ Self.isIdentifierScalar($0) })
                {
                    issue(id.line, "device.id", "'\(id.value)' must be 1 to 64 letters, digits, '-' or '_'")
                } else {
                    configuration.deviceID = id.value
                }
            }
            if let role = string(device, "role", path: "device") {
                if let value = Configuration.Role(rawValue: role.value) {
                    configuration.role = value
                } else {
                    let roles = Configuration.Role.allCases.map(\.rawValue).joined(separator: ", ")
                    issue(role.line, "device.role", "'\(role.value)' is not a role (\(roles))")
                }
            }
        }

        if let source = table(root, "source", path: "") {
            checkKeys(source, path: "source", allowed: Self.sourceKeys)
            if let width = integer(source, "width", path: "source", in: 16...FrameGeometry.maximumSide) {
                configuration.captureWidth = width
            }
            if let height = integer(source, "height", path: "source", in: 16...FrameGeometry.maximumSide) {
                configuration.captureHeight = height
            }
            if let rate = number(source, "fps", path: "source", in: 1...240) { configuration.captureRate = rate }
            if let uri = string(source, "uri", path: "source") {
                if let parsed = Self.source(uri.value, baseDirectory: baseDirectory) {
                    configuration.source = parsed
                } else {
                    issue(uri.line, "source.uri", "'\(uri.value)' is not synthetic:, y4m:<file> or v4l2:<device>")
                }
            }
            if let loop = bool(source, "loop", path: "source") { configuration.loop = loop }
        }

        if let motion = table(root, "motion", path: "") {
            checkKeys(
                motion, path: "motion",
                allowed: ["sensitivity", "min_area", "min_frames", "end_frames", "grid_columns", "light_change"])
            var settings = MotionSettings()
            if let value = number(motion, "sensitivity", path: "motion", in: 0...1) { settings.sensitivity = value }
            if let value = number(motion, "min_area", path: "motion", in: 0.00001...1) { settings.minimumArea = value }
            if let value = integer(motion, "min_frames", path: "motion", in: 1...100) { settings.minimumFrames = value }
            if let value = integer(motion, "end_frames", path: "motion", in: 1...10_000) { settings.endFrames = value }
            if let value = integer(motion, "grid_columns", path: "motion", in: 16...640) {
                settings.gridColumns = value
            }
            if let value = number(motion, "light_change", path: "motion", in: 0.05...1) {
                settings.globalChangeFraction = value
            }
            configuration.motion = settings
        }

        if let tamper = table(root, "tamper", path: "") { configuration.tamper = readTamper(tamper) }
        configuration.lines = readLines(tables(root, "line"))
        if let abandoned = table(root, "abandoned", path: "") { configuration.abandoned = readAbandoned(abandoned) }

        var polygons: [MaskPolygon] = []
        for (index, mask) in tables(root, "mask").enumerated() {
            let path = "mask[\(index + 1)]"
            checkKeys(mask, path: path, allowed: ["name", "points"])
            let name = string(mask, "name", path: path)?.value ?? "mask \(index + 1)"
            if let polygon = polygon(mask, path: path, name: name, required: true) { polygons.append(polygon) }
        }
        configuration.mask = PrivacyMask(polygons: polygons)

        var names: Set<String> = []
        for (index, zone) in tables(root, "zone").enumerated() {
            configuration.zones.append(readZone(zone, index: index, motion: configuration.motion, names: &names))
        }
        if let crowd = table(root, "crowd", path: "") { configuration.crowd = readCrowd(crowd) }
        checkRulesAreWatched(
            zones: configuration.zones, zoneTables: tables(root, "zone"), lines: configuration.lines,
            lineTables: tables(root, "line"))

        if let snapshot = table(root, "snapshot", path: "") {
            checkKeys(snapshot, path: "snapshot", allowed: ["quality"])
            if let quality = integer(snapshot, "quality", path: "snapshot", in: 1...100) {
                configuration.snapshotQuality = quality
            }
        }
        if let storage = table(root, "storage", path: "") {
            checkKeys(storage, path: "storage", allowed: ["state_dir", "retention_days", "max_mb"])
            if let folder = string(storage, "state_dir", path: "storage") {
                configuration.stateDirectory =
                    folder.value.hasPrefix("/") ? folder.value : baseDirectory + "/" + folder.value
            }
            let legal = StorageSettings.maximumRetentionDays
            if let value = storage["retention_days"], case .integer(let days) = value.kind, days > legal {
                issue(
                    value.line, "storage.retention_days",
                    "\(days) days is more than the law allows: images are kept \(legal) days at most")
            } else if let days = integer(storage, "retention_days", path: "storage", in: 1...legal) {
                configuration.storage.retentionDays = days
            }
            if let megabytes = integer(storage, "max_mb", path: "storage", in: 16...1_048_576) {
                configuration.storage.maximumMB = megabytes
            }
        }

        if let gpio = table(root, "gpio", path: "") { configuration.gpio = readGPIO(gpio) }
        if let audio = table(root, "audio", path: "") {
            configuration.audio = readAudio(audio, baseDirectory: baseDirectory)
        }
        let speaker = table(root, "speaker", path: "")
        configuration.speaker = readSpeaker(speaker, audio: configuration.audio, baseDirectory: baseDirectory)

        checkWarnings(speaker: configuration.speaker)

        let callPoint = table(root, "callpoint", path: "")
        if let callPoint { configuration.callPoint = readCallPoint(callPoint) }
        if configuration.gpio?.button != nil {
            checkCallPointMessages(callPoint, speaker: configuration.speaker, callPoint: configuration.callPoint)
        }

        if let uplink = table(root, "uplink", path: "") {
            configuration.uplink = readUplink(uplink, baseDirectory: baseDirectory)
        }
        return configuration
    }

    private mutating func readUplink(_ uplink: TOMLTable, baseDirectory: String) -> UplinkSettings {
        checkKeys(
            uplink, path: "uplink",
            allowed: [
                "brokers", "ca_file", "cert_file", "key_file", "username", "password", "verify_hostname",
                "allow_plaintext", "telemetry_interval", "keepalive", "outbox_max_items", "outbox_max_mb",
                "reply_prefix", "command_burst", "commands_per_minute", "command_queue", "historical_after",
                "protocol",
            ])
        var settings = UplinkSettings()
        // Where each parsed broker sits in the file (its index in the list, 1-based, and its line).
        var brokerPlaces: [(index: Int, line: Int)] = []
        if let value = uplink["brokers"] {
            if case .array(let items) = value.kind, !items.isEmpty {
                for (index, item) in items.enumerated() {
                    if case .string(let text) = item.kind, let url = BrokerURL(text) {
                        settings.brokers.append(url)
                        brokerPlaces.append((index + 1, item.line))
                    } else {
                        issue(
                            item.line, "uplink.brokers[\(index + 1)]",
                            "expected \"mqtt://host:port\" or \"mqtts://host:port\"")
                    }
                }
            } else {
                issue(
                    value.line, "uplink.brokers",
                    "expected a list of broker URLs, e.g. [\"mqtts://csu.example.fr:8883\"]")
            }
        } else {
            issue(uplink.line, "uplink.brokers", "missing: at least one broker URL")
        }
        func path(_ key: String) -> String? {
            guard let value = string(uplink, key, path: "uplink")?.value else { return nil }
            return value.hasPrefix("/") ? value : baseDirectory + "/" + value
        }
        settings.caFile = path("ca_file")
        settings.certFile = path("cert_file")
        settings.keyFile = path("key_file")
        let username = string(uplink, "username", path: "uplink")
        let password = string(uplink, "password", path: "uplink")
        settings.username = username?.value
        settings.password = password?.value
        if let verify = bool(uplink, "verify_hostname", path: "uplink") { settings.verifyHostname = verify }
        if let text = string(uplink, "protocol", path: "uplink") {
            if let choice = MQTTProtocolChoice(text.value) {
                settings.mqttProtocol = choice
            } else {
                issue(text.line, "uplink.protocol", "expected \"auto\", \"5\" or \"3.1.1\"")
            }
        }
        if let allow = bool(uplink, "allow_plaintext", path: "uplink") { settings.allowPlaintext = allow }
        for problem in settings.plaintextProblems {
            switch problem {
            case .remoteBroker(let index, _):
                let place = brokerPlaces[index]
                issue(place.line, "uplink.brokers[\(place.index)]", problem.description)
            case .credentials(let key, _):
                issue(
                    (key == "username" ? username : password)?.line ?? uplink.line, "uplink.\(key)", problem.description
                )
            }
        }
        if let interval = number(uplink, "telemetry_interval", path: "uplink", in: 1...86_400) {
            settings.telemetryInterval = interval
        }
        if let keepalive = integer(uplink, "keepalive", path: "uplink", in: 5...3600) { settings.keepalive = keepalive }
        if let late = number(uplink, "historical_after", path: "uplink", in: 0.1...86_400) {
            settings.historicalAfter = late
        }
        if let items = integer(uplink, "outbox_max_items", path: "uplink", in: 100...10_000_000) {
            settings.outboxMaximumItems = items
        }
        if let megabytes = integer(uplink, "outbox_max_mb", path: "uplink", in: 1...100_000) {
            settings.outboxMaximumBytes = megabytes << 20
        }
        if let prefix = string(uplink, "reply_prefix", path: "uplink") {
            if CommandRouter.isValidReplyPrefix(prefix.value) {
                settings.replyPrefix = prefix.value
            } else {
                issue(
                    prefix.line, "uplink.reply_prefix",
                    "'\(prefix.value.prefix(64))' must be a topic path ending in '/', e.g. \"csu/replies/\" (no '+', "
                        + "'#', leading '/' or '$')")
            }
        }
        if let burst = integer(uplink, "command_burst", path: "uplink", in: 1...1000) { settings.commandBurst = burst }
        if let rate = number(uplink, "commands_per_minute", path: "uplink", in: 0.1...6000) {
            settings.commandsPerMinute = rate
        }
        if let queue = integer(uplink, "command_queue", path: "uplink", in: 1...1024) { settings.commandQueue = queue }
        if (settings.certFile == nil) != (settings.keyFile == nil) {
            issue(uplink.line, "uplink", "cert_file and key_file go together")
        }
        if settings.brokers.contains(where: \.tls) && settings.caFile == nil {
            issue(
                uplink.line, "uplink.ca_file",
                "required for mqtts:// brokers (the CA that signed the broker's certificate)")
        }
        return settings
    }

    // MARK: - Sources

    static func source(_ uri: String, baseDirectory: String) -> Configuration.Source? {
        if uri == "synthetic:" || uri == "synthetic" { return .synthetic }
        if uri.hasPrefix("y4m:") {
            let path = String(uri.dropFirst(4))
            guard !path.isEmpty else { return nil }
            return .y4m(path: path.hasPrefix("/") ? path : baseDirectory + "/" + path)
        }
        if uri.hasPrefix("v4l2:") {
            let device = String(uri.dropFirst(5))
            guard device.hasPrefix("/dev/") else { return nil }
            return .v4l2(device: device)
        }
        return nil
    }

    static func isIdentifierScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_": true
        default: false
        }
    }

    // MARK: - Typed access with located errors

    /// Records a problem, in the board profile's file when the key came from it.
    mutating func issue(_ line: Int, _ key: String, _ message: String) {
        let place = isFromProfile(key) ? profileFile ?? file : file
        issues.append(ConfigurationIssue(file: place, line: line, key: key, message: message))
    }

    /// Whether the value of `key` (dotted) came from the board profile.
    func isFromProfile(_ key: String) -> Bool {
        let section = String(key.prefix(while: { $0 != "." && $0 != "[" }))
        return profileKeys.contains(key) || profileKeys.contains(section)
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func checkKeys(_ table: TOMLTable, path: String, allowed: Set<String>) {
        for entry in table.entries where !allowed.contains(entry.key) {
            let known = allowed.sorted().joined(separator: ", ")
            issue(entry.keyLine, join(path, entry.key), "unknown key (known here: \(known))")
        }
    }

    mutating func table(_ parent: TOMLTable, _ key: String, path: String) -> TOMLTable? {
        guard let value = parent[key] else { return nil }
        guard case .table(let table) = value.kind else {
            issue(value.line, join(path, key), "expected a table ([\(key)])")
            return nil
        }
        return table
    }

    /// `[[key]]` entries; a single `[key]` table is accepted as one entry.
    mutating func tables(_ parent: TOMLTable, _ key: String) -> [TOMLTable] {
        guard let value = parent[key] else { return [] }
        switch value.kind {
        case .table(let table): return [table]
        case .array(let items):
            var result: [TOMLTable] = []
            for (index, item) in items.enumerated() {
                if case .table(let table) = item.kind {
                    result.append(table)
                } else {
                    issue(item.line, "\(key)[\(index + 1)]", "expected a table ([[\(key)]])")
                }
            }
            return result
        default:
            issue(value.line, key, "expected [[\(key)]] tables")
            return []
        }
    }

    mutating func string(_ parent: TOMLTable, _ key: String, path: String) -> (value: String, line: Int)? {
        guard let value = parent[key] else { return nil }
        guard case .string(let text) = value.kind else {
            issue(value.line, join(path, key), "expected a string in quotes")
            return nil
        }
        return (text, value.line)
    }

    mutating func bool(_ parent: TOMLTable, _ key: String, path: String) -> Bool? {
        guard let value = parent[key] else { return nil }
        guard case .boolean(let flag) = value.kind else {
            issue(value.line, join(path, key), "expected true or false")
            return nil
        }
        return flag
    }

    mutating func number(
        _ parent: TOMLTable, _ key: String, path: String, in range: ClosedRange<Double>
    ) -> Double? {
        guard let value = parent[key] else { return nil }
        let number: Double
        switch value.kind {
        case .float(let float): number = float
        case .integer(let integer): number = Double(integer)
        default:
            issue(value.line, join(path, key), "expected a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        guard number.isFinite, range.contains(number) else {
            issue(value.line, join(path, key), "\(number) is out of range (\(range.lowerBound) to \(range.upperBound))")
            return nil
        }
        return number
    }

    mutating func integer(_ parent: TOMLTable, _ key: String, path: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = parent[key] else { return nil }
        guard case .integer(let integer) = value.kind else {
            issue(
                value.line, join(path, key), "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        guard let number = Int(exactly: integer), range.contains(number) else {
            issue(
                value.line, join(path, key), "\(integer) is out of range (\(range.lowerBound) to \(range.upperBound))")
            return nil
        }
        return number
    }

    mutating func polygon(_ parent: TOMLTable, path: String, name: String, required: Bool) -> MaskPolygon? {
        let key = join(path, "points")
        guard let value = parent["points"] else {
            if required { issue(parent.line, key, "missing: a list of [x, y] points, fractions of the image") }
            return nil
        }
        guard case .array(let items) = value.kind else {
            issue(value.line, key, "expected a list of [x, y] points, e.g. [[0.1, 0.2], [0.4, 0.2], [0.4, 0.5]]")
            return nil
        }
        var points: [NormalizedPoint] = []
        for (index, item) in items.enumerated() {
            guard case .array(let pair) = item.kind, pair.count == 2, let x = Self.double(pair[0]),
                let y = Self.double(pair[1])
            else {
                issue(item.line, "\(key)[\(index + 1)]", "expected a pair of numbers [x, y]")
                return nil
            }
            points.append(NormalizedPoint(x: x, y: y))
        }
        do {
            return try MaskPolygon(name: name, points: points)
        } catch {
            let line: Int
            switch error {
            case .notFinite(let index), .outOfRange(let index, _, _): line = items[index].line
            case .selfIntersecting(let edge, _): line = items[edge].line
            default: line = value.line
            }
            issue(line, key, error.description)
            return nil
        }
    }

    static func double(_ value: TOMLValue) -> Double? {
        switch value.kind {
        case .float(let float): float
        case .integer(let integer): Double(integer)
        default: nil
        }
    }
}
