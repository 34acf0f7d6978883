/// One region followed from frame to frame by `RegionTracker`.
public struct TrackedRegion: Sendable, Hashable {
    /// Stable for the track's life, never reused (counts up from 1).
    public var id: Int
    /// The region's box in the last frame it was seen, normalised.
    public var rect: NormalizedRect
    /// Frame and time the track was born.
    public var firstFrame: Int
    public var firstTime: Double
    /// Frame the region was last matched in.
    public var lastFrame: Int
    /// Frames the region was matched in, in all.
    public var hits: Int
    /// Frames in a row the region has not been matched (0 when it was seen in the last frame).
    public var missed: Int
    /// Velocity of the box's centre, normalised units per frame, smoothed over a few frames.
    public var velocityX: Double
    public var velocityY: Double

    /// Bottom centre of the box: where the thing stands on the ground.
    public var foot: NormalizedPoint { NormalizedPoint(x: rect.x + rect.width / 2, y: rect.y + rect.height) }

    /// The box moved on by the velocity for `frames` frames: where the region is expected next.
    func predicted(frames: Int) -> NormalizedRect {
        NormalizedRect(
            x: rect.x + velocityX * Double(frames), y: rect.y + velocityY * Double(frames), width: rect.width,
            height: rect.height)
    }
}

/// Follows the motion detector's regions from frame to frame, by overlap and distance only: no appearance, nothing
/// about what or who a region is.
///
/// Each frame, every live track is moved on by its velocity and scored against every region: the overlap (IoU) of
/// the predicted box with the region, or failing any overlap a closeness of their centres measured in the track's
/// own size (a region more than one box size away never matches). Pairs are then taken greedily, best score first,
/// each track and region at most once. What is left is handled so that one walking person stays one track:
/// - a region left over that lies mostly (half its area) inside a matched track's predicted box, grown by a quarter,
///   is a fragment of it (the detector split a body into two regions): it is merged into that track's box;
/// - when the predictions of two confirmed tracks lie mostly inside one region (two people walking past each
///   other), the region is given to neither: each is carried on its own prediction, for up to `maximumHidden`
///   frames, and picks its own region up again when they part;
/// - a track that matches nothing keeps its last box and is dropped after `maximumMissed` frames in a row, so a
///   region missing for a frame or two (a person crossing a low-contrast patch) keeps its id;
/// - a region matching nothing starts a new track, reported as `confirmed` only after `confirmation` hits, so a
///   one-frame blip never makes a track the rules would see.
///
/// Every buffer is allocated at `init` for `capacity` tracks and regions; `update` allocates nothing.
public final class RegionTracker {
    /// Live tracks, in no particular order; a slot's index is stable while its track lives (see `slot(of:)`).
    public private(set) var tracks: [TrackedRegion] = []
    /// Frames a track may go unmatched before it is dropped.
    public let maximumMissed: Int
    /// Frames a track may go unmatched while its prediction lies inside another track's region (two people walking
    /// past each other make one region for a moment).
    public let maximumHidden: Int
    /// Hits a track needs before it counts (`isConfirmed`).
    public let confirmation: Int
    /// Most tracks followed at once, and most regions considered per frame (the largest first).
    public let capacity: Int
    /// Foot points kept per track (the most recent).
    public let historyLength: Int

    private var nextID = 1
    private var scores: [Double]
    private var trackTaken: [Bool]
    /// Per live track, this frame: inside a region shared with another track.
    private var hidden: [Bool]
    /// Per live track, this frame: where it was expected, and the region it took (with its fragments).
    private var predictions: [NormalizedRect]
    private var matched: [NormalizedRect]
    private var regionTaken: [Bool]
    /// Foot points per slot, a ring of `historyLength` (x, y) pairs, with the ring's start and count per slot.
    private var history: [Double]
    private var historyStart: [Int]
    private var historyCount: [Int]
    /// Per slot, the track id living there (0 when free): the history rings and the rules' per-track state are per
    /// slot.
    public private(set) var slotIDs: [Int]
    /// Per live track (index in `tracks`), its slot.
    private var slotOfTrack: [Int]

    public init(
        maximumMissed: Int = 3, maximumHidden: Int = 25, confirmation: Int = 3, capacity: Int = 64,
        historyLength: Int = 32
    ) {
        precondition(capacity > 0 && historyLength > 0 && maximumMissed >= 0 && confirmation >= 1)
        self.maximumMissed = maximumMissed
        self.maximumHidden = max(maximumMissed, maximumHidden)
        self.confirmation = confirmation
        self.capacity = capacity
        self.historyLength = historyLength
        scores = [Double](repeating: 0, count: capacity * capacity)
        trackTaken = [Bool](repeating: false, count: capacity)
        hidden = trackTaken
        predictions = [NormalizedRect](repeating: NormalizedRect(x: 0, y: 0, width: 0, height: 0), count: capacity)
        matched = predictions
        regionTaken = [Bool](repeating: false, count: capacity)
        history = [Double](repeating: 0, count: capacity * historyLength * 2)
        historyStart = [Int](repeating: 0, count: capacity)
        historyCount = [Int](repeating: 0, count: capacity)
        slotIDs = [Int](repeating: 0, count: capacity)
        slotOfTrack = []
        slotOfTrack.reserveCapacity(capacity)
        tracks.reserveCapacity(capacity)
    }

    /// Forgets every track (ids keep counting up, so an id is never given twice).
    public func reset() {
        tracks.removeAll(keepingCapacity: true)
        slotOfTrack.removeAll(keepingCapacity: true)
        for slot in 0..<capacity { slotIDs[slot] = 0 }
    }

    /// Whether the track has been seen often enough to count.
    public func isConfirmed(_ track: TrackedRegion) -> Bool { track.hits >= confirmation }

    /// The slot of the track at `index` in `tracks`: stable for the track's life, reused after it.
    public func slot(ofTrackAt index: Int) -> Int { slotOfTrack[index] }

    /// The foot points of the track at `index` in `tracks`, oldest first (at most `historyLength`; one per frame it
    /// was seen). Allocates: for review and tests, not for the per-frame path.
    public func history(ofTrackAt index: Int) -> [NormalizedPoint] {
        let slot = slotOfTrack[index]
        return (0..<historyCount[slot]).map { k in
            let at = (slot * historyLength + (historyStart[slot] + k) % historyLength) * 2
            return NormalizedPoint(x: history[at], y: history[at + 1])
        }
    }

    /// Associates this frame's regions (the detector's boxes, largest first) with the tracks.
    public func update(boxes: [MotionBox], frame: Int, time: Double) {
        let regionCount = min(boxes.count, capacity)
        let trackCount = tracks.count
        for r in 0..<regionCount { regionTaken[r] = false }
        for t in 0..<trackCount {
            trackTaken[t] = false
            hidden[t] = false
        }
        // Scores: IoU in (0, 1] when the prediction overlaps, else up to 0 for centres within one box size; pairs
        // further apart are never matched (-1).
        for t in 0..<trackCount {
            let track = tracks[t]
            let predicted = track.predicted(frames: track.missed + 1)
            predictions[t] = predicted
            let size = max(predicted.width, predicted.height)
            for r in 0..<regionCount {
                let rect = boxes[r].rect
                let iou = predicted.iou(rect)
                var score = -1.0
                if iou > 0 {
                    score = iou
                } else {
                    let dx = (rect.x + rect.width / 2) - (predicted.x + predicted.width / 2)
                    let dy = (rect.y + rect.height / 2) - (predicted.y + predicted.height / 2)
                    let distance = (dx * dx + dy * dy).squareRoot()
                    if distance < size { score = -distance / size * 0.999 }
                }
                scores[t * capacity + r] = score
            }
        }
        // Two confirmed tracks expected mostly inside one region: two things met (people walking past each other).
        // The region is nobody's; each track goes on along its own prediction until they part.
        for r in 0..<regionCount {
            let rect = boxes[r].rect
            var inside = 0
            for t in 0..<trackCount where isConfirmed(tracks[t]) && Self.isMostly(predictions[t], inside: rect) {
                inside += 1
            }
            guard inside >= 2 else { continue }
            regionTaken[r] = true
            for t in 0..<trackCount where isConfirmed(tracks[t]) && Self.isMostly(predictions[t], inside: rect) {
                trackTaken[t] = true
                hidden[t] = true
            }
        }
        // Greedy matching, best first.
        while true {
            var best = -1.0
            var bestTrack = -1
            var bestRegion = -1
            for t in 0..<trackCount where !trackTaken[t] {
                for r in 0..<regionCount where !regionTaken[r] {
                    let score = scores[t * capacity + r]
                    if score > best {
                        best = score
                        bestTrack = t
                        bestRegion = r
                    }
                }
            }
            guard bestTrack >= 0 else { break }
            trackTaken[bestTrack] = true
            regionTaken[bestRegion] = true
            matched[bestTrack] = boxes[bestRegion].rect
        }
        // Fragments of a matched track join its region: a region left over lying mostly inside its prediction.
        for r in 0..<regionCount where !regionTaken[r] {
            let rect = boxes[r].rect
            for t in 0..<trackCount where trackTaken[t] && !hidden[t] {
                let grown = Self.grow(predictions[t], by: 0.25)
                guard let overlap = grown.intersection(rect), overlap.area >= rect.area / 2 else { continue }
                matched[t] = Self.union(matched[t], rect)
                regionTaken[r] = true
                break
            }
        }
        for t in 0..<trackCount where trackTaken[t] && !hidden[t] { match(trackAt: t, with: matched[t], frame: frame) }
        // Unmatched tracks age, and go after `maximumMissed` frames.
        var t = 0
        while t < tracks.count {
            if t < trackCount && (!trackTaken[t] || hidden[t]) {
                tracks[t].missed += 1
                if tracks[t].missed > (hidden[t] ? maximumHidden : maximumMissed) {
                    slotIDs[slotOfTrack[t]] = 0
                    tracks.swapAt(t, tracks.count - 1)
                    slotOfTrack.swapAt(t, slotOfTrack.count - 1)
                    trackTaken.swapAt(t, tracks.count - 1)
                    hidden.swapAt(t, tracks.count - 1)
                    tracks.removeLast()
                    slotOfTrack.removeLast()
                    continue
                }
            }
            t += 1
        }
        // New regions start tracks.
        for r in 0..<regionCount where !regionTaken[r] && tracks.count < capacity {
            guard let slot = slotIDs.firstIndex(of: 0) else { break }
            let id = nextID
            nextID += 1
            slotIDs[slot] = id
            historyStart[slot] = 0
            historyCount[slot] = 0
            tracks.append(
                TrackedRegion(
                    id: id, rect: boxes[r].rect, firstFrame: frame, firstTime: time, lastFrame: frame, hits: 1,
                    missed: 0, velocityX: 0, velocityY: 0))
            slotOfTrack.append(slot)
            recordFoot(ofTrackAt: tracks.count - 1)
        }
    }

    /// Whether at least half of `rect` lies inside `region`.
    static func isMostly(_ rect: NormalizedRect, inside region: NormalizedRect) -> Bool {
        guard let overlap = rect.intersection(region) else { return false }
        return overlap.area >= rect.area / 2
    }

    private func match(trackAt t: Int, with rect: NormalizedRect, frame: Int) {
        var track = tracks[t]
        let frames = Double(max(1, frame - track.lastFrame))
        let vx = ((rect.x + rect.width / 2) - (track.rect.x + track.rect.width / 2)) / frames
        let vy = ((rect.y + rect.height / 2) - (track.rect.y + track.rect.height / 2)) / frames
        // Smoothed, so a box that jumps by a cell on the grid does not throw the prediction off.
        let rate = track.hits == 1 ? 1 : 0.4
        track.velocityX += (vx - track.velocityX) * rate
        track.velocityY += (vy - track.velocityY) * rate
        track.rect = rect
        track.lastFrame = frame
        track.hits += 1
        track.missed = 0
        tracks[t] = track
        recordFoot(ofTrackAt: t)
    }

    private func recordFoot(ofTrackAt t: Int) {
        let slot = slotOfTrack[t]
        let foot = tracks[t].foot
        if historyCount[slot] == historyLength {
            historyStart[slot] = (historyStart[slot] + 1) % historyLength
            historyCount[slot] -= 1
        }
        let at = (slot * historyLength + (historyStart[slot] + historyCount[slot]) % historyLength) * 2
        history[at] = foot.x
        history[at + 1] = foot.y
        historyCount[slot] += 1
    }

    static func grow(_ rect: NormalizedRect, by fraction: Double) -> NormalizedRect {
        let dx = rect.width * fraction / 2
        let dy = rect.height * fraction / 2
        return NormalizedRect(
            x: rect.x - dx, y: rect.y - dy, width: rect.width + 2 * dx, height: rect.height + 2 * dy)
    }

    static func union(_ a: NormalizedRect, _ b: NormalizedRect) -> NormalizedRect {
        let left = min(a.x, b.x)
        let top = min(a.y, b.y)
        let right = max(a.x + a.width, b.x + b.width)
        let bottom = max(a.y + a.height, b.y + b.height)
        return NormalizedRect(x: left, y: top, width: right - left, height: bottom - top)
    }
}
