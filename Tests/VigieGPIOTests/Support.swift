import Foundation
import Synchronization
import VigieCore

/// The built `vigie`, run as a technician would, its output collected while it runs.
final class CLIProcess: Sendable {
    private let process: Process
    private let output = Mutex("")
    private let errors = Mutex("")

    init(_ arguments: [String]) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process = Process()
        process.executableURL = executable.deletingLastPathComponent().appendingPathComponent("vigie")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        Self.collect(out.fileHandleForReading) { [self] text in output.withLock { $0 += text } }
        Self.collect(err.fileHandleForReading) { [self] text in errors.withLock { $0 += text } }
    }

    private static func collect(_ handle: FileHandle, _ append: @escaping @Sendable (String) -> Void) {
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                append(String(decoding: data, as: UTF8.self))
            }
        }
    }

    var standardOutput: String { output.withLock { $0 } }
    var standardError: String { errors.withLock { $0 } }

    /// Waits up to `seconds` for `condition`; whether it came.
    func wait(seconds: Double, until condition: (CLIProcess) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(self) { return true }
            usleep(20_000)
        }
        return condition(self)
    }

    /// The exit status once it ended (up to `seconds`), `nil` if it is still running (then it is killed).
    func status(within seconds: Double) -> Int32? {
        let ended = wait(seconds: seconds) { !$0.process.isRunning }
        guard ended else {
            process.terminate()
            return nil
        }
        process.waitUntilExit()
        // What the pipes still held when it ended.
        usleep(100_000)
        return process.terminationStatus
    }

    /// Sends SIGINT, as Ctrl-C would.
    func interrupt() { process.interrupt() }

    /// Runs to the end (at most `seconds`).
    static func run(_ arguments: String..., seconds: Double = 30) throws -> (
        status: Int32?, output: String, errors: String
    ) {
        let process = try CLIProcess(arguments)
        let status = process.status(within: seconds)
        return (status, process.standardOutput, process.standardError)
    }
}
