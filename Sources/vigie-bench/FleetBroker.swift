import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The mosquitto broker of the fleet benchmark: started, stopped with SIGTERM (as systemd stops it) and started
/// again with the same configuration, on 127.0.0.1 only. Its process id is kept in `pidFile` while it runs, so
/// that the script that started the benchmark can end that one process if the benchmark dies first.
final class FleetBroker {
    let executable: String
    let configuration: String
    let port: Int
    let pidFile: String
    let output: String
    private(set) var process: ChildProcess?

    init(executable: String, configuration: String, port: Int, folder: String) {
        self.executable = executable
        self.configuration = configuration
        self.port = port
        pidFile = folder + "/broker.pid"
        output = folder + "/broker.out"
    }

    var url: BrokerURL { BrokerURL("mqtt://127.0.0.1:\(port)")! }

    /// Starts the broker and returns once it accepts connections (within 10 s).
    func start() async throws(FleetError) {
        guard process == nil else { return }
        let output = output
        let child = try ChildProcess(executable, ["-c", configuration]) { actions in
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        process = child
        writePidFile("\(child.pid)\n")
        let port = port
        let listening = await Poll.until(timeout: .seconds(10), every: .milliseconds(10)) {
            child.exited() == nil && Self.accepts(port: port)
        }
        guard listening else { throw .broker("mosquitto is not listening on 127.0.0.1:\(port) (see \(output))") }
    }

    /// Sends SIGTERM and waits for the broker to exit (it saves its persistent state first); SIGKILL after 20 s.
    func stop() async {
        guard let process else { return }
        await process.stop()
        self.process = nil
        writePidFile("")
    }

    /// Whether a TCP connection to the port on 127.0.0.1 is accepted.
    private static func accepts(port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private func writePidFile(_ text: String) {
        let file = open(pidFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard file >= 0 else { return }
        _ = text.utf8CString.withUnsafeBufferPointer { write(file, $0.baseAddress, $0.count - 1) }
        close(file)
    }

    /// The clients the broker accepted per second of its log from `since` on (seconds since the epoch): mosquitto
    /// logs `<epoch seconds>: New client connected from … as <client id> …` at the notice level.
    static func acceptedPerSecond(log path: String, clientPrefix: String, since: Int) -> [Int: Int] {
        guard let text = ProcessFigures.read(path) else { return [:] }
        var perSecond: [Int: Int] = [:]
        for line in text.split(separator: "\n") {
            guard line.contains("New client connected"), line.contains(" as \(clientPrefix)"),
                let colon = line.firstIndex(of: ":"), let second = Int(line[..<colon]), second >= since
            else { continue }
            perSecond[second, default: 0] += 1
        }
        return perSecond
    }
}

/// Why the fleet benchmark could not run or finish.
enum FleetError: Error, CustomStringConvertible {
    case usage(String)
    case broker(String)
    case process(String)
    case timeout(String)

    var description: String {
        switch self {
        case .usage(let text): "usage: \(text)"
        case .broker(let text): "broker: \(text)"
        case .process(let text): "process: \(text)"
        case .timeout(let text): "timed out: \(text)"
        }
    }
}
