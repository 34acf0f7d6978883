import Logging
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's side of the local control socket (`ControlSocket`): accepts on a thread of its own, answers each
/// request in a task (a slow answer never holds up the next connection), one request per connection.
final class ControlServer: Sendable {
    typealias Handler = @Sendable (ControlRequest) async -> String

    let path: String
    private let descriptor: Int32
    private let logger: Logger

    /// Listens at `path`, mode 0660 (the technicians' group, `vigie` under systemd, may ask; nobody else).
    init(path: String, logger: Logger) throws(ControlError) {
        self.path = path
        self.logger = logger
        descriptor = try ControlSocket.listen(path: path, mode: 0o660)
    }

    /// Accepts connections until `stop()`.
    func start(_ handler: @escaping Handler) {
        let descriptor = self.descriptor
        let logger = self.logger
        OSThread.detach("vigie-control") {
            while true {
                let client: Int32
                do throws(SystemCallError) {
                    client = try SystemCall.retrying("accept") { accept(descriptor, nil, nil) }
                } catch {
                    if error.code == ECONNABORTED { continue }
                    if error.code == EMFILE || error.code == ENFILE {
                        // Out of descriptors: say so, wait, go on (the unit must not lose its socket for good).
                        logger.error("control socket: out of file descriptors")
                        SystemCall.sleep(.seconds(1))
                        continue
                    }
                    return  // closed by stop()
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                let connection = ControlSocket.Connection(descriptor: client)
                Task { await Self.serve(connection, handler, logger: logger) }
            }
        }
    }

    /// Closes the socket and removes its file.
    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        unlink(path)
    }

    private static func serve(_ connection: ControlSocket.Connection, _ handler: Handler, logger: Logger) async {
        let reply: String
        do {
            guard let line = try connection.readLine(limit: ControlSocket.maximumRequest) else { return }
            switch ControlRequest.parse(line) {
            case .success(let request): reply = await handler(request)
            case .failure(let error): reply = errorReply(error.message)
            }
        } catch {
            reply = errorReply("\(error)")
        }
        do {
            try connection.writeLine(reply)
        } catch {
            logger.debug("control socket: the client left before the reply", metadata: ["error": "\(error)"])
        }
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
