import ArgumentParser
import CLinux
import VigieCore
import VigieGPIO

#if canImport(Glibc)
    import Glibc
#endif

extension Vigie {
    struct Button: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the call point's button (or any input line).", subcommands: [Watch.self])
    }

    struct LED: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "led", abstract: "Check the call point's LEDs.", subcommands: [Test.self])
    }
}

extension Vigie.Button {
    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each edge of an input line as it comes, for a technician pressing the button.",
            discussion: """
                One line per edge: the local time (ms), the line, and the physical edge (rising: the line went \
                high; falling: it went low). A button to ground with a pull-up falls when pressed. The line is \
                requested, so stop vigied first (a line the daemon holds is busy). Ends after --count edges, after \
                --timeout seconds without an edge, or on Ctrl-C.
                """)

        @Option(help: "The chip: /dev/gpiochipN, N, or label:NAME (gpiodetect lists them).")
        var chip: String

        @Option(help: "The line: an offset (17) or a line name (GPIO17), as gpioinfo shows.")
        var line: String

        @Flag(help: "The line reads low when active (a button to ground).")
        var activeLow = false

        @Option(help: "The line's bias: pull-up, pull-down, disabled or as-is.")
        var bias = "as-is"

        @Option(help: "Stop after this many edges (0: never).")
        var count = 0

        @Option(help: "Stop after this many seconds without an edge (0: never).")
        var timeout: Double = 0

        func validate() throws {
            guard GPIOSettings.Chip(commandLine: chip) != nil else {
                throw ValidationError("--chip \(chip): not /dev/gpiochipN, a chip number or label:NAME")
            }
            guard GPIOSettings.Line(commandLine: line) != nil else {
                throw ValidationError("--line \(line): not a line offset or a line name")
            }
            guard GPIOSettings.Bias(rawValue: bias) != nil else {
                throw ValidationError("--bias \(bias): pull-up, pull-down, disabled or as-is")
            }
            guard count >= 0 else { throw ValidationError("--count: 0 or more") }
            guard timeout >= 0 && timeout <= 86400 else { throw ValidationError("--timeout: 0 to 86400 s") }
        }

        func run() throws {
            guard let chip = GPIOSettings.Chip(commandLine: chip), let line = GPIOSettings.Line(commandLine: line),
                let bias = GPIOSettings.Bias(rawValue: bias)
            else { throw ExitCode.validationFailure }
            let lines: LibgpiodLines
            do {
                lines = try LibgpiodLines(
                    GPIOSettings(chip: chip, button: .init(line: line, activeLow: activeLow, bias: bias)),
                    consumer: "vigie")
            } catch {
                throw CLIError(error.description)
            }
            defer { lines.close() }
            let offset = lines.offsets[GPIOInput.button.rawValue] ?? 0
            let name = line.offset == nil ? "\(line) (\(offset))" : "\(offset)"
            Terminal.error("watching line \(name) of \(lines.chipPath) (\(lines.chipLabel)); Ctrl-C stops")
            var seen = 0
            var lastEdge = MonotonicClock.nanoseconds()
            while count == 0 || seen < count {
                let edge: GPIOEdge?
                do {
                    edge = try lines.nextEdge(timeout: .milliseconds(200))
                } catch {
                    throw CLIError(error.description)
                }
                guard let edge else {
                    if timeout > 0 && Double(MonotonicClock.nanoseconds() - lastEdge) / 1e9 >= timeout {
                        Terminal.error("no edge for \(timeout) s")
                        throw ExitCode.failure
                    }
                    continue
                }
                lastEdge = MonotonicClock.nanoseconds()
                seen += 1
                // The edge's logical level, turned back into what the wire did.
                let high = edge.active != activeLow
                // Unbuffered: whoever reads it (a person, a pipe) sees each edge as it comes.
                Terminal.write(
                    fd: 1,
                    "\(EdgeTime.local(monotonic: edge.nanoseconds))  line \(name)  \(high ? "rising" : "falling")\n")
            }
        }
    }
}

/// Wall-clock time of a kernel edge timestamp (`CLOCK_MONOTONIC`), as local `HH:MM:SS.mmm`.
enum EdgeTime {
    static func local(monotonic: UInt64) -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let ago = Int64(MonotonicClock.nanoseconds()) - Int64(monotonic)
        let wall = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) - max(0, ago)
        var seconds = time_t(wall / 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let milliseconds = Int(wall % 1_000_000_000 / 1_000_000)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis =
            milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis)"
    }
}

extension Vigie.LED {
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Light each LED of the unit in turn (call, answered, fault), then all off.",
            discussion: """
                The lines come from the unit's [gpio] (--config) or a board profile alone (--board). The lines \
                are requested, so stop vigied first. Ctrl-C turns the LEDs off before it stops.
                """)

        @Option(help: "The unit's configuration file.")
        var config: String?

        @Option(help: "A board profile (rpi4, rpi5…) instead of a configuration file.")
        var board: String?

        @Option(help: "Where board profiles are when the file has no [device] board_dir.")
        var boardDir = BoardProfiles.installedDirectory

        @Option(help: "How long each LED stays lit, in seconds.")
        var seconds: Double = 2

        func validate() throws {
            guard (config == nil) != (board == nil) else { throw ValidationError("give --config or --board") }
            guard seconds > 0 && seconds <= 60 else { throw ValidationError("--seconds: more than 0, at most 60") }
        }

        func run() throws {
            let configuration: Configuration
            do {
                if let config {
                    configuration = try Configuration.load(path: config, boardDirectory: boardDir)
                } else {
                    configuration = try Configuration.parse(
                        "[device]\nboard = \"\(board ?? "")\"\n", file: "--board", boardDirectory: boardDir)
                }
            } catch {
                throw CLIError(error.description)
            }
            guard let settings = configuration.gpio, settings.chip != .simulated else {
                throw CLIError("\(config ?? board ?? ""): no GPIO chip ([gpio] chip) to test")
            }
            let lines: LibgpiodLines
            do {
                lines = try LibgpiodLines(
                    GPIOSettings(
                        chip: settings.chip, callLED: settings.callLED, answeredLED: settings.answeredLED,
                        faultLED: settings.faultLED),
                    consumer: "vigie")
            } catch {
                throw CLIError(error.description)
            }
            defer { lines.close() }
            let interrupt = Interrupt.install()
            let order = GPIOOutput.allCases.filter { lines.outputs.contains($0) }
            guard !order.isEmpty else { throw CLIError("no LED line in [gpio]") }
            for output in order {
                let line = settings.line(of: output).map { "\($0)" } ?? "?"
                Terminal.write(fd: 1, "\(output.rawValue) lit (line \(line) of \(lines.chipPath))\n")
                do {
                    try lines.set(output, lit: true)
                } catch {
                    throw CLIError(error.description)
                }
                let stopped = interrupt.wait(seconds: seconds)
                try? lines.set(output, lit: false)
                if stopped {
                    Terminal.write(fd: 1, "interrupted: all off\n")
                    throw ExitCode(130)
                }
            }
            Terminal.write(fd: 1, "all off\n")
        }
    }
}

/// SIGINT as a pipe the command can wait on (the handler only writes a byte; `close()` of the lines then runs
/// in the normal flow, which turns the LEDs off).
struct Interrupt {
    let readEnd: Int32

    static func install() -> Interrupt {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0, clinux_forward_signal(SIGINT, ends[1]) == 0 else { return Interrupt(readEnd: -1) }
        return Interrupt(readEnd: ends[0])
    }

    /// Waits `seconds`; true when SIGINT came meanwhile.
    func wait(seconds: Double) -> Bool {
        guard readEnd >= 0 else {
            usleep(UInt32(seconds * 1_000_000))
            return false
        }
        let deadline = MonotonicClock.nanoseconds() + UInt64(seconds * 1e9)
        while true {
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { return false }
            var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            // The signal itself interrupts poll (EINTR): look again, the byte is in the pipe by then.
            if poll(&descriptor, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 { return true }
        }
    }
}
