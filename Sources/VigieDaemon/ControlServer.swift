import CLinux
import Logging
import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's side of the local control socket (`ControlSocket`): one request per connection. Each connection is
/// served on a thread of its own (never on the concurrency pool, which the uplink and the watchdog need), with a
/// deadline for the whole request; at most `maximumClients` at once, the others refused at once. A client that
/// connects and sends nothing, or a byte now and then, costs one thread for `requestTimeout` at most.
final class ControlServer: Sendable {
    typealias Handler = @Sendable (ControlRequest) async -> String

    static let maximumClients = 4
    static let requestTimeout = Duration.seconds(2)
    /// The most a reply may take to make (the uplink's actor may be busy).
    static let replyTimeout = Duration.seconds(5)

    let path: String
    private let descriptor: Int32
    private let logger: Logger
    private let clients = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    /// Listens at `path`, mode 0660 (the technicians' group, `vigie` under systemd, may ask; nobody else).
    init(path: String, logger: Logger) throws(ControlError) {
        self.path = path
        self.logger = logger
        descriptor = try ControlSocket.listen(path: path, mode: 0o660)
    }

    /// Accepts connections until `stop()`.
    func start(_ handler: @escaping Handler) {
        OSThread.detach("vigie-control") { [self] in
            while !stopping.load(ordering: .acquiring) {
                let client: Int32
                do throws(SystemCallError) {
                    client = try SystemCall.retrying("accept") { accept(descriptor, nil, nil) }
                } catch {
                    if stopping.load(ordering: .acquiring) { return }
                    // Out of descriptors, a connection aborted, a buffer shortage: say so, wait, go on (the unit must
                    // not lose its socket for good).
                    logger.warning("control socket: accept failed", metadata: ["error": "\(error)"])
                    SystemCall.sleep(.milliseconds(error.code == ECONNABORTED ? 0 : 500))
                    continue
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                let connection = ControlSocket.Connection(descriptor: client)
                guard clients.add(1, ordering: .acquiringAndReleasing).newValue <= Self.maximumClients else {
                    clients.subtract(1, ordering: .acquiringAndReleasing)
                    try? connection.writeLine(Self.errorReply("busy: \(Self.maximumClients) requests in progress"))
                    continue
                }
                OSThread.detach("vigie-ctl-client") { [self] in
                    defer { clients.subtract(1, ordering: .acquiringAndReleasing) }
                    serve(connection, handler)
                }
            }
        }
    }

    /// Stops accepting, closes the socket and removes its file.
    func stop() {
        stopping.store(true, ordering: .releasing)
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        unlink(path)
    }

    /// Reads the request (within `requestTimeout`), has the daemon answer it (within `replyTimeout`), replies.
    private func serve(_ connection: ControlSocket.Connection, _ handler: @escaping Handler) {
        let reply: String
        do {
            guard let line = try connection.readLine(limit: ControlSocket.maximumRequest, timeout: Self.requestTimeout)
            else { return }
            switch ControlRequest.parse(line) {
            case .success(var request):
                // Who exports is what the kernel says of the peer, never what the request says.
                if case .export(var claim) = request {
                    claim.user = Self.peerUser(connection.descriptor)
                    request = .export(claim)
                }
                reply = Self.answer(request, handler) ?? Self.errorReply("no answer in time")
            case .failure(let error): reply = Self.errorReply(error.message)
            }
        } catch {
            reply = Self.errorReply("\(error)")
        }
        do {
            try connection.writeLine(reply)
        } catch {
            logger.debug("control socket: the client left before the reply", metadata: ["error": "\(error)"])
        }
    }

    /// Runs `handler` on the concurrency pool (it awaits, never blocks) and waits for it on this thread.
    private static func answer(_ request: ControlRequest, _ handler: @escaping Handler) -> String? {
        final class Box: Sendable {
            let reply = Mutex<String?>(nil)
            let done = WakeSignal()
        }
        let box = Box()
        Task {
            let text = await handler(request)
            box.reply.withLock { $0 = text }
            box.done.post()
        }
        box.done.wait(for: replyTimeout)
        return box.reply.withLock { $0 }
    }

    /// The name of the Unix user at the other end of `descriptor` (`uid <n>` if it has none, `unknown` if the
    /// kernel does not say).
    static func peerUser(_ descriptor: Int32) -> String {
        var uid: UInt32 = 0
        guard clinux_peer_uid(descriptor, &uid) == 0 else { return "unknown" }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name
        else { return "uid \(uid)" }
        return String(cString: name)
    }

    static func errorReply(_ message: String) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.bool("ok", false)
        json.string("error", message)
        json.endObject()
        return json.text
    }
}
