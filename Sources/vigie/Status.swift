import ArgumentParser
import CLinux
import VigieCore
import VigieGPIO

#if canImport(Glibc)
    import Glibc
#endif

/// Where the daemon's control socket is, for `status` and `doctor`.
struct ControlSocketOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The daemon's control socket.",
            discussion: "Default: $VIGIE_CONTROL_SOCKET, else /run/vigie/control.sock (the packaged unit's)."))
    var socket: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    var path: String {
        socket ?? getenv("VIGIE_CONTROL_SOCKET").map { String(cString: $0) } ?? "/run/vigie/control.sock"
    }

    /// Sends `request` and returns the reply, or why the daemon could not be asked.
    func ask(_ request: ControlRequest) -> Result<(reply: JSONValue, line: String), CLIError> {
        do throws(ControlError) {
            let connection = try ControlSocket.connect(path: path)
            try connection.writeLine(request.line)
            guard let line = try connection.readLine(limit: ControlSocket.maximumReply) else {
                return .failure(CLIError("\(path): the daemon closed the connection without a reply"))
            }
            var limits = JSONLimits()
            limits.maximumBytes = ControlSocket.maximumReply
            guard let reply = try? JSON.parse(line, limits: limits), reply.isObject else {
                return .failure(CLIError("\(path): the reply is not JSON"))
            }
            guard reply["ok"]?.boolValue == true else {
                return .failure(CLIError("\(path): \(reply["error"]?.stringValue ?? "the daemon refused the request")"))
            }
            return .success((reply, String(decoding: line, as: UTF8.self)))
        } catch {
            return .failure(CLIError("cannot reach vigied at \(path): \(error)"))
        }
    }
}

extension Vigie {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what the running unit is doing: camera, uplink, outbox, last events.",
            discussion: "Asks vigied over its control socket (the vigie group may). Exit status 1 if it cannot.")

        @OptionGroup var control: ControlSocketOption

        func run() throws {
            let (reply, line) = try control.ask(.status).get()
            if control.json {
                print(line)
                return
            }
            let camera = reply["camera"]
            let uplink = reply["uplink"]
            var lines: [(String, String)] = [
                ("unit", "\(text(reply["device"])) (\(text(reply["role"])), board \(text(reply["board"])))"),
                (
                    "firmware",
                    "\(text(reply["firmware"])), up \(Duration.seconds(reply["uptime_s"]?.intValue ?? 0).readable)"
                ),
                (
                    "camera",
                    "\(text(camera?["state"])), \(text(camera?["fps"])) fps, \(text(camera?["frames"])) frames, "
                        + "\(text(camera?["masks"])) masks, \(camera?["armed"]?.boolValue == false ? "disarmed" : "armed") "
                        + "(\(text(camera?["source"])))"
                ),
            ]
            if uplink?["state"]?.stringValue == "none" {
                lines.append(("uplink", "none configured"))
            } else {
                lines.append(
                    (
                        "uplink",
                        "\(text(uplink?["state"])) (\(text(uplink?["brokers"]))), outbox \(text(uplink?["outbox"]))"
                            + ", quarantined \(text(uplink?["quarantined"]))"
                    ))
            }
            if let speaker = reply["speaker"] {
                let state = speaker["fault"].map { "fault: \(text($0))" } ?? text(speaker["state"])
                lines.append(("speaker", "\(state) (\(text(speaker["output"]))), \(text(speaker["clips"])) clips"))
            }
            if let callPoint = reply["callpoint"] { lines.append(("callpoint", CallPoint.describe(callPoint))) }
            let events = reply["last_events"]?.arrayValue ?? []
            lines.append(("events", events.isEmpty ? "none since start" : ""))
            for (key, value) in lines where !(key == "events" && value.isEmpty) {
                print(key.padded(to: 10) + value)
            }
            for event in events {
                print("  \(text(event["time"]))  \(text(event["kind"])) (priority \(text(event["priority"])))")
            }
        }

        private func text(_ value: JSONValue?) -> String { value.map(JSONText.plain) ?? "?" }
    }

    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the unit: configuration, daemon, camera, uplink, clock, disk. One verdict a line.",
            discussion: """
                Works with the daemon down too (it then checks what it can itself). Each failed line says how to \
                fix it. Exit status 1 if any check fails.
                """)

        @OptionGroup var control: ControlSocketOption

        @Option(help: "The unit's configuration file.")
        var config = "/etc/vigie/vigied.toml"

        func run() throws {
            var checks: [DoctorCheck] = []
            var configuration: Configuration?
            do {
                configuration = try Configuration.load(path: config)
                checks.append(DoctorCheck(name: "config", ok: true, detail: "\(config) is valid", hint: ""))
            } catch {
                checks.append(
                    DoctorCheck(
                        name: "config", ok: false, detail: error.issues.first.map { "\($0)" } ?? "\(error)",
                        hint: "vigie config validate \(config) lists every problem"))
            }
            switch control.ask(.doctor) {
            case .success(let (reply, _)):
                checks.append(DoctorCheck(name: "daemon", ok: true, detail: "running (\(control.path))", hint: ""))
                checks += (reply["checks"]?.arrayValue ?? []).compactMap(DoctorCheck.init)
            case .failure(let error):
                checks.append(
                    DoctorCheck(
                        name: "daemon", ok: false, detail: error.description,
                        hint: "systemctl status vigied; journalctl -u vigied -p err"))
                if let configuration {
                    checks += LocalChecks.withoutDaemon(configuration)
                    checks.append(DoctorCheck.disk(configuration.stateDirectory))
                }
            }
            if let gpio = configuration?.gpio { checks.append(LocalChecks.gpio(gpio)) }
            checks.append(LocalChecks.clock())
            if control.json {
                var json = JSONWriter()
                json.beginObject()
                json.bool("ok", checks.allSatisfy(\.ok))
                json.beginArray("checks")
                for check in checks { check.write(to: &json) }
                json.endArray()
                json.endObject()
                print(json.text)
            } else {
                let colour = Terminal.standardOutputWantsColour
                for check in checks {
                    let verdict =
                        check.ok
                        ? (colour ? "\u{1B}[32mok\u{1B}[0m  " : "ok  ") : (colour ? "\u{1B}[31mFAIL\u{1B}[0m" : "FAIL")
                    print("\(verdict)  \(check.name.padded(to: 8))\(check.detail)")
                    if !check.ok { print("        \(String(repeating: " ", count: 8))→ \(check.hint)") }
                }
            }
            if !checks.allSatisfy(\.ok) { throw ExitCode.failure }
        }
    }
}

/// What `vigie doctor` checks on the machine itself.
enum LocalChecks {
    /// With the daemon down: is the camera there, is the broker reachable.
    static func withoutDaemon(_ configuration: Configuration) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        if case .v4l2(let device) = configuration.source {
            let present = access(device, F_OK) == 0
            checks.append(
                DoctorCheck(
                    name: "camera", ok: false,
                    detail: present
                        ? "\(device) is present; nothing streams while the daemon is down" : "\(device) is absent",
                    hint: present ? "start the daemon" : "check the cable; ls /dev/video*; vigie camera list"))
        }
        if let broker = configuration.uplink?.brokers.first {
            let failure = TCPProbe.connect(host: broker.host, port: broker.port, timeout: 3)
            checks.append(
                DoctorCheck(
                    name: "uplink", ok: false,
                    detail: failure.map { "\(broker) unreachable: \($0)" }
                        ?? "\(broker) reachable; the daemon is down, so nothing is delivered",
                    hint: failure == nil ? "start the daemon" : "check the network, DNS and firewall"))
        }
        return checks
    }

    /// The GPIO chip of `[gpio]` (by path or by label) and whether it has every configured line.
    static func gpio(_ settings: GPIOSettings, devices: String = "/dev") -> DoctorCheck {
        let hint = "gpiodetect and gpioinfo list the chips; check [gpio] chip and the lines in the board profile"
        let chips = (SystemCall.names(inFolder: devices) ?? []).filter { $0.hasPrefix("gpiochip") }.sorted()
        var found: (path: String, label: String, lines: Int)?
        for name in chips {
            let path = "\(devices)/\(name)"
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var label = [CChar](repeating: 0, count: 32)
            var lines: UInt32 = 0
            guard clinux_gpiochip_info(descriptor, &label, &lines) == 0 else { continue }
            let text = String(decoding: label.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let matches: Bool
            switch settings.chip {
            case .path(let wanted): matches = wanted == path
            case .label(let wanted): matches = wanted == text
            case .simulated: matches = false
            }
            if matches {
                found = (path, text, Int(lines))
                break
            }
        }
        switch settings.chip {
        case .simulated:
            return DoctorCheck(name: "gpio", ok: true, detail: "simulated (no hardware)", hint: hint)
        case .path, .label:
            guard let found else {
                return DoctorCheck(name: "gpio", ok: false, detail: "no GPIO chip \(settings.chip)", hint: hint)
            }
            // Names need the chip's line info: libgpiod reads it (nothing is requested, a running daemon keeps its
            // lines).
            let names = settings.lines.map(\.line).filter { $0.offset == nil }
            let resolved = (try? GPIOChipInfo(.path(found.path), lines: names).offsets) ?? names.map { _ in nil }
            let named = Dictionary(zip(names, resolved), uniquingKeysWith: { first, _ in first })
            let missing = settings.lines.filter { entry in
                if let offset = entry.line.offset { return offset >= found.lines }
                return (named[entry.line] ?? nil) == nil
            }
            return DoctorCheck(
                name: "gpio", ok: missing.isEmpty,
                detail: missing.isEmpty
                    ? "\(found.path) (\(found.label)), \(found.lines) lines; lines "
                        + settings.lines.map { "\($0.key) \($0.line)" }.joined(separator: ", ")
                    : "\(found.path) has \(found.lines) lines: "
                        + missing.map { "\($0.key) \($0.line)" }.joined(separator: ", ") + " out of range or not found",
                hint: hint)
        }
    }

    /// The kernel's clock discipline: unsynchronised means event times may be wrong.
    static func clock() -> DoctorCheck {
        let synchronised = clinux_clock_synchronised() == 1
        return DoctorCheck(
            name: "clock", ok: synchronised,
            detail: synchronised ? "synchronised" : "not synchronised: event times may be wrong",
            hint: "timedatectl status; check NTP (systemd-timesyncd) and its access to the network")
    }

}

/// Whether a TCP connection can be made, within a timeout.
enum TCPProbe {
    /// `nil` when a connection was made, else why not.
    static func connect(host: String, port: Int, timeout: Double) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            return "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))"
        }
        defer { freeaddrinfo(list) }
        var failure = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            let descriptor = socket(
                address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), 0)
            if descriptor >= 0 {
                defer { close(descriptor) }
                if Glibc.connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return nil }
                if errno == EINPROGRESS {
                    var waiting = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    if poll(&waiting, 1, Int32(timeout * 1000)) == 1 {
                        var error: Int32 = 0
                        var length = socklen_t(MemoryLayout<Int32>.size)
                        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
                        if error == 0 { return nil }
                        failure = SystemError.describe(error)
                    } else {
                        failure = "no answer within \(Int(timeout)) s"
                    }
                } else {
                    failure = SystemError.describe(errno)
                }
            }
            entry = address.pointee.ai_next
        }
        return failure
    }
}

/// JSON values as text, for the human-readable output.
enum JSONText {
    /// A scalar as it reads: strings without quotes, whole numbers without a decimal point.
    static func plain(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .number(let number):
            number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .bool(let flag): String(flag)
        case .null: "null"
        case .array, .object: "…"
        }
    }
}

extension Duration {
    /// "3 d 4 h", "2 h 5 min", "42 s".
    var readable: String {
        let seconds = Int(components.seconds)
        if seconds >= 86_400 { return "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h" }
        if seconds >= 3600 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min" }
        if seconds >= 60 { return "\(seconds / 60) min \(seconds % 60) s" }
        return "\(seconds) s"
    }
}

extension String {
    /// The text followed by spaces up to `width` characters.
    func padded(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
