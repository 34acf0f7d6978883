import ArgumentParser
import VigieCore
import VigieImage

extension Vigie {
    struct Mask: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Privacy masks.", subcommands: [Preview.self])
    }
}

extension Vigie.Mask {
    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one frame as the centre will see it: masked, with the mask outlines drawn.",
            discussion: "Check on site that every window, garden and doorway is covered before the unit streams."
        )

        @Option(help: "Configuration file with the [[mask]] polygons.")
        var config: String

        @Option(help: "A .y4m recording from the camera.")
        var input: String

        @Option(help: "Which frame to use, from 0.")
        var frame: Int = 0

        @Option(help: "Where to write the JPEG.")
        var output: String

        func validate() throws {
            guard frame >= 0 else { throw ValidationError("--frame must be 0 or more") }
        }

        func run() throws {
            do {
                let configuration = try Configuration.load(path: config)
                let reader = try Y4MReader(path: input)
                let picture = Frame(geometry: reader.header.geometry)
                for index in 0...frame {
                    guard try reader.read(into: picture) else {
                        throw CLIError("\(input): has \(index) frames, no frame \(frame)")
                    }
                }
                let encoder = try JPEGEncoder()
                var jpeg: [UInt8] = []
                try configuration.mask.raster(for: picture.geometry).apply(
                    to: picture, outlining: configuration.mask.polygons
                ) { masked in jpeg = try encoder.encode(masked, quality: configuration.snapshotQuality) }
                try OutputFile(path: output).write(jpeg)
                print("\(output): frame \(frame), \(configuration.mask.polygons.count) masks, \(jpeg.count) bytes")
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError(String(describing: error))
            }
        }
    }
}
