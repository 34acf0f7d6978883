import ArgumentParser
import VigieCore

extension Vigie {
    struct Analyze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Find the moments with motion, the rules' alerts and tampering in a recording (Y4M file or stdin).",
            discussion: """
                Runs the same pipeline as the camera (privacy masks, motion detection, the zone and crowd rules, \
                tamper detection) with the same configuration as the unit (--config), as fast as it can. Any \
                recording works through ffmpeg:

                  ffmpeg -i footage.mp4 -f yuv4mpegpipe -pix_fmt yuv420p - \\
                    | vigie analyze - --events events.jsonl

                --events gets one JSON line per situation, from its first frame to its last (start_frame, \
                end_frame, both included), written once the recording is read, in order of end_frame (then \
                start_frame): each motion event; each alert of the rules (kind, rule, zone/line/direction where \
                they apply, confidence, boxes, alert_frame where the unit raised it): an intrusion or density_high \
                from the start of its dwell to the last frame its condition held, a crowd_movement from the start \
                of the rise to the last frame the moving area was still up, an abandoned_object from its first \
                still frame to the frame it was cleared, a line_crossing or wrong_way on its crossing frame; and \
                each tampering (tamper_covered, tamper_defocus, tamper_moved) from where it began (before [tamper] \
                hold confirmed it) to its clearing. "cleared" says how it ended (quiet or stopped for a zone or the \
                crowd, gone for an object, the tamper clearing's reason: view, accepted, ...); "became" names the \
                tampering that followed without a clearing. A situation still in progress at the end has \
                "ongoing": true and end_frame the last frame read.

                --boxes gets one JSON line per frame: {"frame": i, "boxes": [[x1, y1, x2, y2], ...]} in pixels of \
                that frame (x2, y2 exclusive).

                Zone schedules need the local time of the recording: --start gives that of frame 0 (frame i is \
                then i / fps seconds later). Without it every zone is armed all along.
                """
        )

        @Argument(help: "A .y4m file, or - for standard input.")
        var input: String

        @Option(help: "Configuration file (masks, zones, motion settings).")
        var config: String?

        @Option(
            help: "Write one JSON line per situation (motion, alert, tampering) with its start and end to this file.")
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
                    onSituation: { situation in output?.write(situation.jsonLine + "\n") },
                    onBoxes: boxesOutput.map { file in
                        { frame, boxes in
                            file.write(
                                MotionBox.jsonLine(frame: frame, boxes: boxes, width: width, height: height) + "\n")
                        }
                    },
                    onProgress: { frames in
                        let elapsed = clock.now - started
                        progress.update(frames: frames, seconds: elapsed.inSeconds)
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
