#if canImport(Glibc)
    import Glibc
#endif

/// The local control socket between `vigied` and the technician's `vigie`: a Unix stream socket; one request per
/// connection, one line of JSON each way, at most `maximumRequest` bytes in and `maximumReply` out.
public enum ControlSocket {
    public static let maximumRequest = 4096
    public static let maximumReply = 1 << 20
    /// How long either side waits for the other's line.
    public static let timeout = 5.0

    /// A connected socket; closed on deinit.
    public final class Connection: @unchecked Sendable {
        public let descriptor: Int32

        public init(descriptor: Int32) { self.descriptor = descriptor }

        deinit { close(descriptor) }

        /// Reads one line (without its newline), at most `limit` bytes, all of it within `timeout` (a client that
        /// sends a byte now and then gains nothing); `nil` at end of stream before a newline.
        public func readLine(limit: Int, timeout: Duration = .seconds(ControlSocket.timeout)) throws(ControlError)
            -> [UInt8]?
        {
            let deadline = ContinuousClock.now + timeout
            var line: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { throw .timedOut }
                var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let milliseconds = Int32(
                    clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
                let ready: Int32
                do {
                    ready = try SystemCall.retrying("poll") { poll(&waiting, 1, milliseconds) }
                } catch {
                    throw .system(error)
                }
                if ready == 0 { throw .timedOut }
                let read = buffer.withUnsafeMutableBytes { bytes in
                    Result { () throws(SystemCallError) in try SystemCall.read(descriptor, into: bytes) }
                }
                let count: Int
                switch read {
                case .success(let value): count = value
                case .failure(let error): throw .system(error)
                }
                if count == 0 { return nil }
                if let newline = buffer[..<count].firstIndex(of: UInt8(ascii: "\n")) {
                    line += buffer[..<newline]
                    guard line.count <= limit else { throw .tooLarge(limit) }
                    return line
                }
                line += buffer[..<count]
                guard line.count <= limit else { throw .tooLarge(limit) }
            }
        }

        /// Writes `line` and a newline; a peer that has gone is an error, never a SIGPIPE.
        public func writeLine(_ line: String) throws(ControlError) {
            let bytes = Array((line + "\n").utf8)
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes { raw in
                    Result { () throws(SystemCallError) in
                        try SystemCall.retrying("send") {
                            send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                        }
                    }
                }
                switch sent {
                case .success(let count): offset += count
                case .failure(let error): throw .system(error)
                }
            }
        }
    }

    /// Connects to the daemon's socket at `path`.
    public static func connect(path: String) throws(ControlError) -> Connection {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .system(SystemCallError("socket", code: errno)) }
        let connection = Connection(descriptor: descriptor)
        var address = try self.address(path)
        do {
            try SystemCall.retrying("connect \(path)") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
        } catch {
            throw .system(error)
        }
        return connection
    }

    /// Listens at `path` (a stale socket file left by a crash is replaced), mode `mode`. Returns the descriptor.
    public static func listen(path: String, mode: mode_t = 0o660) throws(ControlError) -> Int32 {
        var address = try self.address(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .system(SystemCallError("socket", code: errno)) }
        var status = stat()
        if lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw .system(SystemCallError("bind \(path)", code: code))
        }
        guard chmod(path, mode) == 0, Glibc.listen(descriptor, 16) == 0 else {
            let code = errno
            close(descriptor)
            throw .system(SystemCallError("listen \(path)", code: code))
        }
        return descriptor
    }

    private static func address(_ path: String) throws(ControlError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .badPath(path)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return address
    }
}

/// Why a control request failed.
public enum ControlError: Error, Sendable, CustomStringConvertible {
    case system(SystemCallError)
    case timedOut
    case tooLarge(Int)
    case badPath(String)

    public var description: String {
        switch self {
        case .system(let error): "\(error)"
        case .timedOut: "no answer within \(Int(ControlSocket.timeout)) s"
        case .tooLarge(let limit): "a line longer than \(limit) bytes"
        case .badPath(let path): "\(path): not a usable socket path (1 to 107 bytes)"
        }
    }
}

/// What a client may ask: `{"request":"status"}`, `{"request":"doctor"}`, and the call point's button or the
/// centre's answer, simulated on the unit itself: `{"request":"callpoint","action":"press"}`.
public enum ControlRequest: Sendable, Hashable {
    case status
    case doctor
    case callPoint(CallPointSimulation)
    /// `vigie export` asks the daemon to record its audit record and send it to the centre before it writes
    /// anything: `{"request":"export","since":ms,"until":ms,"events":n,"snapshots":n,"reason":"…","output":"…"}`.
    case export(ExportClaim)

    /// What an export takes and why, as the technician's `vigie export` states it. The user is not the client's to
    /// say: the daemon sets it from the socket's peer credentials.
    public struct ExportClaim: Sendable, Hashable {
        public var since: Int64
        public var until: Int64
        public var events: Int
        public var snapshots: Int
        public var reason: String
        public var output: String
        /// The Unix user at the other end of the socket (set by the daemon, empty from the parser).
        public var user = ""

        public init(since: Int64, until: Int64, events: Int, snapshots: Int, reason: String, output: String) {
            self.since = since
            self.until = until
            self.events = events
            self.snapshots = snapshots
            self.reason = reason
            self.output = output
        }
    }

    /// What `vigie callpoint simulate` does.
    public enum CallPointSimulation: String, Sendable, Hashable, CaseIterable {
        /// The button pressed and released, as a caller would.
        case press
        /// The button pressed and held (a stuck button), until `release`.
        case hold
        case release
        /// The centre's `call_ack`, `call_end`.
        case ack
        case end
    }

    public static let names = ["status", "doctor", "callpoint", "export"]

    /// Parses one request line; the error is the reply's message.
    public static func parse(_ line: [UInt8]) -> Result<ControlRequest, ControlRequestError> {
        var limits = JSONLimits()
        limits.maximumBytes = ControlSocket.maximumRequest
        limits.maximumDepth = 2
        guard let value = try? JSON.parse(line, limits: limits), value.isObject else {
            return .failure(ControlRequestError("expected one JSON object, e.g. {\"request\":\"status\"}"))
        }
        switch value["request"]?.stringValue {
        case "status": return .success(.status)
        case "doctor": return .success(.doctor)
        case "callpoint":
            guard let name = value["action"]?.stringValue, let action = CallPointSimulation(rawValue: name) else {
                let known = CallPointSimulation.allCases.map(\.rawValue).joined(separator: ", ")
                return .failure(ControlRequestError("unknown call point action; known: \(known)"))
            }
            return .success(.callPoint(action))
        case "export":
            guard let since = value["since"]?.intValue, let until = value["until"]?.intValue, since < until else {
                return .failure(ControlRequestError("export: 'since' and 'until' must be times in ms, since first"))
            }
            guard let events = value["events"]?.intValue, let snapshots = value["snapshots"]?.intValue, events >= 0,
                snapshots >= 0, snapshots <= events
            else {
                return .failure(ControlRequestError("export: 'events' and 'snapshots' must be counts"))
            }
            guard let reason = value["reason"]?.stringValue, CommandRouter.isPlainText(reason, maximum: 500) else {
                return .failure(ControlRequestError("export: 'reason' must be a text of 1 to 500 characters"))
            }
            guard let output = value["output"]?.stringValue, CommandRouter.isPlainText(output, maximum: 1024) else {
                return .failure(ControlRequestError("export: 'output' must be the folder written"))
            }
            return .success(
                .export(
                    ExportClaim(
                        since: Int64(since), until: Int64(until), events: events, snapshots: snapshots, reason: reason,
                        output: output)))
        default:
            return .failure(ControlRequestError("unknown request; known: \(names.joined(separator: ", "))"))
        }
    }

    /// The request line a client sends.
    public var line: String {
        switch self {
        case .status: #"{"request":"status"}"#
        case .doctor: #"{"request":"doctor"}"#
        case .callPoint(let action): #"{"request":"callpoint","action":"\#(action.rawValue)"}"#
        case .export(let claim):
            {
                var json = JSONWriter()
                json.beginObject()
                json.string("request", "export")
                json.integer("since", Int(claim.since))
                json.integer("until", Int(claim.until))
                json.integer("events", claim.events)
                json.integer("snapshots", claim.snapshots)
                json.string("reason", claim.reason)
                json.string("output", claim.output)
                json.endObject()
                return json.text
            }()
        }
    }
}

public struct ControlRequestError: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
