import ArgumentParser
import VigieCore

extension Vigie {
    struct Analyze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Find the moments with motion, the rules' alerts and tampering in a recording (Y4M file or stdin).",
            discussion: """
                Runs the same pipeline as the camera (privacy masks, motion detection, the zone and crowd rules,
                tamper detection) with the same configuration as the unit (--config), as fast as it can. Any
                recording works through ffmpeg:

                  ffmpeg -i footage.mp4 -f yuv4mpegpipe -pix_fmt yuv420p - | vigie analyze - --events events.jsonl

                --events gets one JSON line per motion event, per alert (kind, start_frame, end_frame, zone/line/
                direction where they apply, boxes) and per change of the tamper state. --boxes gets one JSON line
                per frame: {"frame": i, "boxes": [[x1, y1, x2, y2], ...]} in pixels of that frame (x2, y2
                exclusive).

                Zone schedules need the local time of the recording: --start gives that of frame 0 (frame i is
                then i / fps seconds later). Without it every zone is armed all along.
                """
        )

        @Argument(help: "A .y4m file, or - for standard input.")
        var input: String

        @Option(help: "Configuration file (masks, zones, motion settings).")
        var config: String?

        @Option(help: "Write one JSON line per motion event and per change of the tamper state to this file.")
        var events: String?

        @Option(help: "Write one JSON line per frame with its motion boxes in pixels to this file.")
        var boxes: String?

        @Option(
            help: ArgumentHelp(
                "Local time of the first frame, for zone schedules.", valueName: "YYYY-MM-DDTHH:MM[:SS]"))
        var start: String?

        @Flag(help: "Print one JSON object with the figures of the run on standard output.")
        var summaryJson = false

        func validate() throws {
            if let start, LocalTime(parsing: start) == nil {
                throw ValidationError("--start '\(start)' is not a local time YYYY-MM-DDTHH:MM[:SS]")
            }
        }

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
            let boxesOutput = try boxes.map { path throws(CLIError) in try OutputFile(path: path) }
            let width = source.geometry.width
            let height = source.geometry.height
            var progress = ProgressBar()
            let clock = ContinuousClock()
            let started = clock.now
            let summary: OfflineAnalyzer.Summary
            do {
                summary = try OfflineAnalyzer(
                    configuration: configuration, start: start.flatMap(LocalTime.init(parsing:))
                )
                .run(
                    source: source,
                    onEvent: { event in output?.write(event.jsonLine + "\n") },
                    onTamper: { change in output?.write(change.jsonLine + "\n") },
                    onAlert: { alert in output?.write(alert.jsonLine + "\n") },
                    onBoxes: boxesOutput.map { file in
                        { frame, boxes in
                            file.write(
                                MotionBox.jsonLine(frame: frame, boxes: boxes, width: width, height: height) + "\n")
                        }
                    },
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
                    \(summary.events) events, \(summary.alerts) alerts, \(summary.tamperChanges) tamper changes
                    pipeline: \(Int(summary.framesPerSecond)) frames/s, median \(summary.millisecondsPerFrameMedian) ms/frame
                    """)
            }
        }
    }
}
