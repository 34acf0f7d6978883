import ArgumentParser
import VigieCore

extension Vigie {
    struct Analyze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find the moments with motion in a recording (Y4M file or standard input).",
            discussion: """
                Runs the same pipeline as the camera (privacy masks, then motion detection) as fast as it can.
                Any recording works through ffmpeg:

                  ffmpeg -i footage.mp4 -f yuv4mpegpipe -pix_fmt yuv420p - | vigie analyze - --events events.jsonl
                """
        )

        @Argument(help: "A .y4m file, or - for standard input.")
        var input: String

        @Option(help: "Configuration file (masks, zones, motion settings).")
        var config: String?

        @Option(help: "Write one JSON line per motion event and per change of the tamper state to this file.")
        var events: String?

        @Flag(help: "Print one JSON object with the figures of the run on standard output.")
        var summaryJson = false

        func run() throws {
            let configuration: Configuration
            do {
                configuration = try config.map { try Configuration.load(path: $0) } ?? Configuration()
            } catch {
                throw CLIError(String(describing: error))
            }
            let source: Y4MFileSource
            do {
                source = try Y4MFileSource(path: input, loop: false)
            } catch {
                throw CLIError(String(describing: error))
            }
            let output = try events.map { path throws(CLIError) in try OutputFile(path: path) }
            var progress = ProgressBar()
            let clock = ContinuousClock()
            let started = clock.now
            let summary: OfflineAnalyzer.Summary
            do {
                summary = try OfflineAnalyzer(configuration: configuration).run(
                    source: source,
                    onEvent: { event in output?.write(event.jsonLine + "\n") },
                    onTamper: { change in output?.write(change.jsonLine + "\n") },
                    onProgress: { frames in
                        let elapsed = clock.now - started
                        progress.update(
                            frames: frames,
                            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                        )
                    })
            } catch let error as Y4MError {
                progress.finish()
                throw CLIError(String(describing: error))
            }
            progress.finish()
            if summaryJson {
                print(summary.json)
            } else {
                print(
                    """
                    \(summary.frames) frames (\(summary.width)x\(summary.height)), \(summary.framesWithMotion) with motion, \
                    \(summary.events) events, \(summary.tamperChanges) tamper changes
                    pipeline: \(Int(summary.framesPerSecond)) frames/s, median \(summary.millisecondsPerFrameMedian) ms/frame
                    """)
            }
        }
    }
}
