import ArgumentParser
import VigieCore

extension Vigie {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic street scene as Y4M, with people walking through it.",
            discussion: """
                For trying the pipeline, the masks and the benchmarks without footage. The scene is the one the
                demo daemon uses: façades with windows, a pavement, sensor noise, and a walker every few seconds.
                """
        )

        @Option(help: "Frame size, WIDTHxHEIGHT.")
        var size = "640x480"

        @Option(help: "Number of frames.")
        var frames = 250

        @Option(help: "Frames per second.")
        var fps = 25

        @Option(name: .shortAndLong, help: "Output file, or - for standard output.")
        var output: String

        func validate() throws {
            guard parsedSize != nil else { throw ValidationError("--size must be WIDTHxHEIGHT, e.g. 1920x1080") }
            guard frames > 0 else { throw ValidationError("--frames must be at least 1") }
            guard (1...240).contains(fps) else { throw ValidationError("--fps must be 1 to 240") }
        }

        var parsedSize: (Int, Int)? {
            let parts = size.split(separator: "x")
            guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width > 0, height > 0,
                width % 2 == 0, height % 2 == 0
            else { return nil }
            return (width, height)
        }

        func run() throws {
            let (width, height) = parsedSize!
            do {
                let geometry = try FrameGeometry(format: .i420, width: width, height: height)
                let scene = SyntheticScene.street(geometry: geometry, framesPerSecond: Double(fps))
                let writer = try Y4MWriter(
                    path: output,
                    header: Y4MHeader(geometry: geometry, frameRateNumerator: fps, frameRateDenominator: 1))
                let frame = Frame(geometry: geometry)
                for index in 0..<frames {
                    scene.render(frame: index, into: frame)
                    try writer.write(frame)
                }
            } catch {
                throw CLIError(String(describing: error))
            }
        }
    }
}
