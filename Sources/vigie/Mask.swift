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
            abstract:
                "Write one frame as the centre will see it, masked, with the masks, zones and lines drawn and named.",
            discussion: """
                Check on site that every window, garden and doorway is covered, and that every zone lies where it \
                should, before the unit streams. Masks are outlined in white on their edge (inside a mask nothing \
                else is drawn); zones by kind (motion yellow, intrusion red, density magenta) and lines in cyan with an \
                arrow the way they may be crossed (two heads: any way), each with its name; a legend in the corner \
                least covered by masks. Names are drawn in capitals; a character outside ASCII letters, \
                digits, '-', '_', '.' and space shows as a box.
                """
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
                let overlay = Self.overlay(configuration)
                try configuration.mask.raster(for: picture.geometry).apply(
                    to: picture, outlining: configuration.mask.polygons, overlay: overlay
                ) { masked in jpeg = try encoder.encode(masked, quality: configuration.snapshotQuality) }
                try OutputFile(path: output).write(jpeg)
                print(
                    "\(output): frame \(frame), \(configuration.mask.polygons.count) masks, "
                        + "\(overlay.zones.count) zones, \(overlay.lines.count) lines, \(jpeg.count) bytes")
                if !configuration.mask.polygons.isEmpty { print("  white: masks (outline on the mask's edge)") }
                for zone in overlay.zones { print("  \(Self.colourName(zone.kind)): \(zone.kind) zone '\(zone.name)'") }
                for line in overlay.lines { print("  cyan: line '\(line.name)', crossed \(line.direction.rawValue)") }
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError(String(describing: error))
            }
        }

        static func colourName(_ kind: Zone.Kind) -> String {
            switch kind {
            case .motion: "yellow"
            case .intrusion: "red"
            case .density: "magenta"
            }
        }

        /// What the picture draws besides the masks: the zones, by kind (a zone without an outline covers the whole
        /// image and is drawn along its border), and the lines.
        static func overlay(_ configuration: Configuration) -> CommissioningOverlay {
            let wholeImage = [
                NormalizedPoint(x: 0, y: 0), NormalizedPoint(x: 1, y: 0), NormalizedPoint(x: 1, y: 1),
                NormalizedPoint(x: 0, y: 1),
            ]
            return CommissioningOverlay(
                zones: configuration.zones.map { zone in
                    CommissioningOverlay.ZoneShape(
                        name: zone.name, polygon: zone.polygon?.points ?? wholeImage, kind: zone.kind)
                },
                lines: configuration.lines.map { line in
                    CommissioningOverlay.LineShape(
                        name: line.name, from: line.from, to: line.to, direction: line.direction)
                })
        }
    }
}
