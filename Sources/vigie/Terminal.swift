import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Small output helpers: standard error, files, and whether a stream is a terminal.
enum Terminal {
    static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    /// Colour only on a terminal that has it, and not when the user asked for none (`NO_COLOR`).
    static var standardOutputWantsColour: Bool {
        isatty(1) == 1 && getenv("NO_COLOR") == nil && getenv("TERM").map { String(cString: $0) != "dumb" } ?? false
    }

    static func error(_ text: String) {
        var line = text
        if !line.hasSuffix("\n") { line += "\n" }
        write(fd: 2, line)
    }

    static func write(fd: Int32, _ text: String) { write(fd: fd, Array(text.utf8)) }

    /// Writes all of `bytes`, retrying after interruptions and short writes.
    static func write(fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = try? SystemCall.writeAll($0, to: fd) }
    }
}

/// A file opened for writing, created or truncated.
final class OutputFile {
    let path: String
    private let fd: Int32

    init(path: String) throws(CLIError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError("\(path): cannot create (\(String(cString: strerror(errno))))") }
    }

    deinit { close(fd) }

    func write(_ text: String) { Terminal.write(fd: fd, text) }

    func write(_ bytes: [UInt8]) { Terminal.write(fd: fd, bytes) }
}

/// A failure to report to the technician as one plain line, with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A one-line progress bar on standard error, drawn only on a terminal.
struct ProgressBar {
    let enabled = Terminal.standardErrorIsTerminal
    var lastDrawn = 0

    mutating func update(frames: Int, seconds: Double) {
        guard enabled, frames - lastDrawn >= 64 else { return }
        lastDrawn = frames
        let rate = seconds > 0 ? Int(Double(frames) / seconds) : 0
        Terminal.write(fd: 2, "\r\u{1B}[2K  analysing: \(frames) frames, \(rate) frames/s")
    }

    func finish() { if enabled { Terminal.write(fd: 2, "\r\u{1B}[2K") } }
}
