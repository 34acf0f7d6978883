import ArgumentParser
import VigieCapture
import VigieCore
import VigieImage

extension Vigie {
    struct Camera: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the cameras of this unit (V4L2).", subcommands: [List.self, Info.self, Snapshot.self])
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
