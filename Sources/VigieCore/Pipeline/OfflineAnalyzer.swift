/// Runs the camera pipeline over a recording as fast as it can: the "relecture" of stored footage.
public struct OfflineAnalyzer {
    /// What a run found and how fast it went.
    public struct Summary: Sendable, Equatable {
        public var frames = 0
        /// Seconds spent in the per-frame pipeline (mask + motion + events), reading excluded.
        public var seconds = 0.0
        /// Seconds from start to end, reading included.
        public var wallSeconds = 0.0
        public var framesPerSecond: Double { seconds > 0 ? Double(frames) / seconds : 0 }
        public var millisecondsPerFrameMedian = 0.0
        public var framesWithMotion = 0
        public var width = 0
        public var height = 0
        public var events = 0
        /// Changes of the tamper state (each raised tampering and each clearing).
        public var tamperChanges = 0
        /// Alerts the rules raised.
        public var alerts = 0
        /// Situations given to `onSituation` (motion events, alerts with their ends, tamperings).
        public var situations = 0

        /// The object printed by `vigie analyze --summary-json`.
        public var json: String {
            var json = JSONWriter()
            json.beginObject()
            json.integer("frames", frames)
            json.number("seconds", seconds, decimals: 6)
            json.number("wall_seconds", wallSeconds, decimals: 6)
            json.number("fps", framesPerSecond, decimals: 1)
            json.number("ms_per_frame_median", millisecondsPerFrameMedian, decimals: 4)
            json.integer("frames_with_motion", framesWithMotion)
            json.string("resolution", "\(width)x\(height)")
            json.integer("events", events)
            json.integer("tamper_changes", tamperChanges)
            json.integer("alerts", alerts)
            json.integer("situations", situations)
            json.endObject()
            return json.text
        }
    }

    public let configuration: Configuration
    /// The local wall-clock time of the first frame, for the zones' schedules; `nil` arms every zone all along.
    public let start: LocalTime?

    public init(configuration: Configuration, start: LocalTime? = nil) {
        self.configuration = configuration
        self.start = start
    }

    /// Reads every frame of `source`, calling `onEvent` for each finished event, `onTamper` for each change of the
    /// tamper state, `onAlert` for each alert of the rules, `onBoxes` with every frame's number and regions (for
    /// `--boxes`), and `onProgress` with the number of frames done (every 16 frames). Once the recording is read,
    /// `onSituation` gets every situation with its start and end (`SituationLog`: what `--events` writes), in order
    /// of its end.
    public func run(
        source: FillingFrameSource, onEvent: (MotionEvent) throws -> Void = { _ in },
        onTamper: (TamperChange) throws -> Void = { _ in }, onAlert: (RuleAlert) throws -> Void = { _ in },
        onSituation: (Situation) throws -> Void = { _ in },
        onBoxes: ((Int, [MotionBox]) throws -> Void)? = nil, onProgress: (Int) -> Void = { _ in }
    ) throws -> Summary {
        let clock = ContinuousClock()
        let started = clock.now
        let pipeline = FramePipeline(configuration: configuration, geometry: source.geometry)
        let frame = Frame(geometry: source.geometry)
        var summary = Summary()
        summary.width = source.geometry.width
        summary.height = source.geometry.height
        var durations: [Double] = []
        var pipelineTime = Duration.zero
        var log = SituationLog()
        var last: (frame: Int, time: Double) = (0, 0)
        func handle(_ updates: [MotionEventTracker.Update], atEnd: Bool = false) throws {
            for case .ended(let event) in updates {
                summary.events += 1
                log.add(event, ongoing: atEnd)
                try onEvent(event)
            }
        }
        while try source.next(into: frame) {
            let before = clock.now
            let updates = pipeline.process(frame, localTime: start?.advanced(by: frame.timestamp))
            let spent = clock.now - before
            pipelineTime += spent
            durations.append(spent.inSeconds)
            if !pipeline.detector.boxes.isEmpty { summary.framesWithMotion += 1 }
            try handle(updates)
            try onBoxes?(frame.sequence, pipeline.detector.boxes)
            for alert in pipeline.ruleAlerts {
                summary.alerts += 1
                log.add(alert)
                try onAlert(alert)
            }
            for end in pipeline.ruleEnds { log.add(end) }
            if let change = pipeline.tamperChange {
                summary.tamperChanges += 1
                log.add(change)
                try onTamper(change)
            }
            last = (frame.sequence, frame.timestamp)
            summary.frames += 1
            if summary.frames % 16 == 0 { onProgress(summary.frames) }
        }
        try handle(pipeline.finish(), atEnd: true)
        for situation in log.finish(frame: last.frame, time: last.time) {
            summary.situations += 1
            try onSituation(situation)
        }
        summary.seconds = pipelineTime.inSeconds
        summary.wallSeconds = (clock.now - started).inSeconds
        if !durations.isEmpty {
            durations.sort()
            summary.millisecondsPerFrameMedian = durations[durations.count / 2] * 1000
        }
        return summary
    }
}
