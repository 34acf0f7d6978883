import ArgumentParser
import VigieCapture
import VigieCore
import VigieImage

extension Vigie {
    struct Camera: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the cameras of this unit (V4L2).",
            subcommands: [List.self, Info.self, Snapshot.self, Check.self])
    }
}

extension Vigie.Camera {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List video devices with their driver and card.")

        func run() throws {
            let devices = V4L2Camera.devices()
            if devices.isEmpty {
                print("no video device (/dev/video*): is the camera plugged in and its driver loaded?")
                return
            }
            for path in devices {
                do {
                    let info = try V4L2Camera.info(path: path)
                    let formats = info.formats.map { $0.emulated ? "(\($0.fourcc))" : $0.fourcc }.joined(separator: " ")
                    print(
                        "\(path)  \(info.card)  driver \(info.driver)  bus \(info.bus)  formats \(formats.isEmpty ? "-" : formats)"
                    )
                } catch {
                    print("\(path)  \(error)")
                }
            }
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a device's driver, card, bus, formats and sizes.",
            discussion:
                "Formats in parentheses are converted by libv4lconvert (e.g. from MJPEG), not given by the camera.")

        @Argument(help: "The device, e.g. /dev/video0 or /dev/v4l/by-id/….")
        var device: String

        func run() throws {
            let info: CameraInfo
            do {
                info = try V4L2Camera.info(path: device)
            } catch {
                throw CLIError(error.description)
            }
            print("\(info.path)\n  card:   \(info.card)\n  driver: \(info.driver)\n  bus:    \(info.bus)")
            if let serial = info.serial { print("  serial: \(serial)") }
            for format in info.formats {
                let name = format.emulated ? "(\(format.fourcc)) converted" : format.fourcc
                print("  \(name): \(format.description); sizes \(format.sizes.prefix(12).joined(separator: " "))")
            }
        }
    }

    struct Snapshot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture one frame to a JPEG, with the configuration's privacy masks applied.",
            discussion:
                "Without --config nothing is masked: use it only where no home is in view, or to set the masks up.")

        @Argument(help: "The device.")
        var device: String

        @Option(help: "Configuration with the [[mask]] polygons (and the capture size).")
        var config: String?

        @Option(help: "Where to write the JPEG.")
        var output: String

        @Option(help: "Frames to skip first (auto exposure settles).")
        var skip = 10

        @Flag(help: "Write the picture without privacy masks (only to draw the masks on site).")
        var unmasked = false

        func validate() throws {
            guard config != nil || unmasked else {
                throw ValidationError("give --config with the unit's masks, or --unmasked to set the masks up")
            }
        }

        func run() throws {
            do {
                let configuration = try config.map { try Configuration.load(path: $0) } ?? Configuration()
                let camera = try V4L2Camera(
                    path: device, width: configuration.captureWidth, height: configuration.captureHeight,
                    framesPerSecond: configuration.captureRate)
                defer { camera.close() }
                if config != nil,
                    configuration.framing.check(width: camera.geometry.width, height: camera.geometry.height)
                        == .mismatch
                {
                    throw CLIError(
                        "\(device) gives \(camera.geometry.width)x\(camera.geometry.height), another aspect ratio than the "
                            + "\(configuration.framing) the masks were drawn for: the masks would cover the wrong places"
                    )
                }
                for _ in 0..<max(0, skip) { _ = try camera.withNextFrame { _ in } }
                let raster = configuration.mask.raster(for: camera.geometry)
                let encoder = try JPEGEncoder()
                var jpeg: [UInt8] = []
                try camera.withNextFrame { frame in
                    try raster.apply(to: frame) { masked in
                        jpeg = try encoder.encode(masked, quality: configuration.snapshotQuality)
                    }
                }
                try OutputFile(path: output).write(jpeg)
                print(
                    "\(output): \(camera.geometry) \(camera.fourcc), \(configuration.mask.polygons.count) masks, \(jpeg.count) bytes"
                )
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError(String(describing: error))
            }
        }
    }
}

extension Vigie.Camera {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stream a camera through the unit's pipeline and check that no frame is lost.",
            discussion: """
                Captures --frames frames at the configuration's size and rate, masks and analyses each as the \
                unit does, and reports the frames per second achieved, the frames the driver had to skip and the \
                longest gap between two frames. Exit status 1 if a frame was lost, the camera stalled, or its \
                aspect ratio is not the one the masks were drawn for.
                """)

        @Argument(help: "The device, e.g. /dev/video0 or /dev/v4l/by-id/….")
        var device: String

        @Option(help: "Configuration with the capture size and rate, and the masks (default: 640x480 at 15, none).")
        var config: String?

        @Option(help: "How many frames to capture.")
        var frames = 150

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func validate() throws {
            guard (1...1_000_000).contains(frames) else { throw ValidationError("--frames must be 1 to 1000000") }
        }

        func run() throws {
            let configuration: Configuration
            let camera: V4L2Camera
            do {
                configuration = try config.map { try Configuration.load(path: $0) } ?? Configuration()
                camera = try V4L2Camera(
                    path: device, width: configuration.captureWidth, height: configuration.captureHeight,
                    framesPerSecond: configuration.captureRate)
            } catch {
                throw CLIError(String(describing: error))
            }
            defer { camera.close() }
            let geometry = camera.geometry
            guard configuration.framing.check(width: geometry.width, height: geometry.height) != .mismatch else {
                throw CLIError(
                    "\(device) gives \(geometry.width)x\(geometry.height), another aspect ratio than the "
                        + "\(configuration.framing) the masks were drawn for")
            }
            let pipeline = FramePipeline(configuration: configuration, geometry: geometry)
            let clock = ContinuousClock()
            var previous: ContinuousClock.Instant?
            var longestGap = Duration.zero
            var events = 0
            var start = clock.now
            for index in 0..<frames {
                do {
                    try camera.withNextFrame { frame in
                        for case .started in pipeline.process(frame) { events += 1 }
                    }
                } catch {
                    throw CLIError("after \(index) frames: \(error)")
                }
                let now = clock.now
                if let previous { longestGap = max(longestGap, now - previous) } else { start = now }
                previous = now
            }
            let seconds = ((previous ?? start) - start).inSeconds
            let rate = frames > 1 && seconds > 0 ? Double(frames - 1) / seconds : 0
            let lost = camera.droppedFrames
            if json {
                var writer = JSONWriter()
                writer.beginObject()
                writer.string("device", device)
                writer.string("format", camera.fourcc)
                writer.bool("converted", camera.converted)
                writer.bool("copied", camera.copies)
                writer.string("resolution", "\(geometry.width)x\(geometry.height)")
                writer.integer("frames", frames)
                writer.integer("dropped_frames", lost)
                writer.number("seconds", seconds, decimals: 3)
                writer.number("fps", rate, decimals: 2)
                writer.number("camera_fps", camera.framesPerSecond, decimals: 2)
                writer.number("longest_gap_ms", longestGap.inSeconds * 1000, decimals: 1)
                writer.integer("motion_events", events)
                writer.endObject()
                print(writer.text)
            } else {
                print(
                    "\(device): \(camera.fourcc) \(geometry.width)x\(geometry.height)\(camera.copies ? " (copied)" : ""), "
                        + "\(frames) frames in \(String(format3: seconds)) s (\(String(format3: rate)) fps, camera "
                        + "\(String(format3: camera.framesPerSecond))), \(lost) dropped, longest gap "
                        + "\(String(format3: longestGap.inSeconds * 1000)) ms, \(events) motion events")
            }
            if lost > 0 { throw ExitCode(1) }
        }
    }
}

extension String {
    /// A number with at most three decimals.
    fileprivate init(format3 value: Double) { self = String((value * 1000).rounded() / 1000) }
}
