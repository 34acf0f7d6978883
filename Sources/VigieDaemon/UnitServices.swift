import Logging
import ServiceLifecycle
import VigieCore
import VigieUplink

/// The unit's long-running parts as services of one `ServiceGroup` (see `UnitDaemon.run`). They start in the
/// order listed there and stop in reverse on a graceful shutdown: what talks to systemd and the technician first,
/// then the camera after its current frame, then the uplink, which delivers what waits and says `offline`.
enum UnitServices {
    /// Runs the uplink until the graceful shutdown, then stops it cleanly.
    struct Uplink: Service, CustomStringConvertible {
        let uplink: UplinkService
        var description: String { "uplink" }

        func run() async throws {
            let running = Task { await uplink.run() }
            try? await gracefulShutdown()  // a cancellation (the group's bound passed) ends the wait too
            await uplink.shutdown()
            running.cancel()
            await running.value
        }
    }

    /// Runs the camera's frame loop on a thread of its own. Returns when the source ends (`--frames`), which stops
    /// the unit; on a graceful shutdown, stops the camera after its current frame, or leaves it behind if it does
    /// not stop within `UnitDaemon.cameraStopBound` (a source blocked in the kernel cannot be woken).
    struct Camera: Service, CustomStringConvertible {
        let camera: CameraService
        let logger: Logger
        var description: String { "camera" }

        func run() async throws {
            enum Ending: Sendable {
                case camera(Result<CameraService.Report, any Error>)
                case hung
            }
            let (endings, ending) = AsyncStream<Ending>.makeStream()
            let camera = self.camera
            OSThread.detach("vigie-camera") { ending.yield(.camera(Result { try camera.run() })) }
            let end = await withGracefulShutdownHandler {
                var next = endings.makeAsyncIterator()
                return await next.next()
            } onGracefulShutdown: {
                camera.stop()
                Task {
                    try? await Task.sleep(for: UnitDaemon.cameraStopBound)
                    ending.yield(.hung)
                }
            }
            switch end {
            case .camera(let outcome)?:
                _ = try outcome.get()
            case .hung?:
                logger.error(
                    "the camera did not stop in time; stopping without it",
                    metadata: ["seconds": "\(UnitDaemon.cameraStopBound.components.seconds)"])
            case nil:
                break
            }
        }
    }

    /// Any part that works until the graceful shutdown: `body` runs, is cancelled at the shutdown, then `finish`
    /// runs (the control socket, the systemd supervision, the test events).
    struct Until: Service, CustomStringConvertible {
        let description: String
        let body: @Sendable () async -> Void
        var finish: @Sendable () async -> Void = {}

        func run() async throws {
            await cancelWhenGracefulShutdown { await body() }
            await finish()
        }
    }
}
