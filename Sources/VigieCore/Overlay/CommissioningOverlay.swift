/// The zones and lines drawn on the commissioning picture (`vigie mask preview`), each named, over the masked
/// frame, so a technician checks the whole set-up on one picture. A plain description, independent of how zones
/// and lines are configured: the caller says what each one is.
///
/// Drawn by `MaskRaster.apply(to:outlining:overlay:_:)` after the mask has blanked the frame, and clipped to the
/// pixels the mask left: inside a mask only the mask's own outline is drawn; every other pixel and chroma sample
/// there stays as the mask left it (black, no colour).
public struct CommissioningOverlay: Sendable, Hashable {
    /// A named zone outline.
    public struct ZoneShape: Sendable, Hashable {
        public var name: String
        /// Outline, normalised; drawn closed.
        public var polygon: [NormalizedPoint]
        public var kind: Zone.Kind

        public init(name: String, polygon: [NormalizedPoint], kind: Zone.Kind) {
            self.name = name
            self.polygon = polygon
            self.kind = kind
        }
    }

    /// A named line, with the direction it may be crossed in.
    public struct LineShape: Sendable, Hashable {
        public var name: String
        public var from: NormalizedPoint
        public var to: NormalizedPoint
        public var direction: LineDirection

        public init(name: String, from: NormalizedPoint, to: NormalizedPoint, direction: LineDirection) {
            self.name = name
            self.from = from
            self.to = to
            self.direction = direction
        }
    }

    public var zones: [ZoneShape]
    public var lines: [LineShape]
    /// Whether a legend (a colour swatch and the word for each kind drawn) goes in the corner least covered by
    /// masks.
    public var legend: Bool

    public init(zones: [ZoneShape] = [], lines: [LineShape] = [], legend: Bool = true) {
        self.zones = zones
        self.lines = lines
        self.legend = legend
    }

    /// Nothing but the masks' outlines.
    public static let none = CommissioningOverlay(legend: false)

    /// Names longer than this are cut: a label should not cross the picture.
    public static let maximumLabelLength = 32

    /// The sizes the picture is drawn at, in pixels, for a frame of `geometry`: strokes and text grow with the
    /// resolution so they read the same on a 480p and a 1080p picture.
    public struct Metrics: Sendable, Hashable {
        /// Half the width of a coloured stroke.
        public var strokeRadius: Double
        /// Half the width of a stroke with its dark border.
        public var borderRadius: Double
        /// Pixels per font dot.
        public var fontScale: Int
        /// From a line's midpoint to the tip of its arrow.
        public var arrowReach: Double
        /// Length and half-width of an arrow head.
        public var headLength: Double
        public var headHalfWidth: Double

        public init(geometry: FrameGeometry) {
            let unit = Double(max(1, geometry.height / 360))
            strokeRadius = unit
            borderRadius = unit + max(1, (unit * 0.67).rounded())
            fontScale = max(2, geometry.height / 300)
            arrowReach = 12 * unit + 8
            headLength = 5 * unit + 5
            headHalfWidth = 4 * unit + 3
        }
    }

    /// The unit vector (image coordinates, y down) the arrow of a line points along; for `.any`, the line's normal
    /// (the arrow then has a head at both ends).
    public static func arrowDirection(of line: LineShape, geometry: FrameGeometry) -> (x: Double, y: Double) {
        switch line.direction {
        case .leftToRight: return (1, 0)
        case .rightToLeft: return (-1, 0)
        case .topToBottom: return (0, 1)
        case .bottomToTop: return (0, -1)
        case .any:
            let dx = (line.to.x - line.from.x) * Double(geometry.width)
            let dy = (line.to.y - line.from.y) * Double(geometry.height)
            let length = (dx * dx + dy * dy).squareRoot()
            return length > 0 ? (-dy / length, dx / length) : (0, 1)
        }
    }

    /// The text drawn for `name`: cut to `maximumLabelLength`.
    static func label(_ name: String) -> String { String(name.prefix(maximumLabelLength)) }

    /// Draws the zones, then the lines with their arrows, then `masks`' outlines (on the mask's edge, the one mark
    /// allowed inside a mask), then the names and the legend, on `frame`, which `raster` has just blanked.
    func draw(on frame: Frame, raster: MaskRaster, masks: [MaskPolygon]) {
        let metrics = Metrics(geometry: frame.geometry)
        var canvas = OverlayCanvas(frame: frame, raster: raster)
        let width = Double(frame.geometry.width)
        let height = Double(frame.geometry.height)
        func pixel(_ point: NormalizedPoint) -> OverlayPoint {
            // Kept a stroke's width inside the picture, so a shape along the border still shows whole.
            let margin = metrics.borderRadius
            return OverlayPoint(
                x: min(max(point.x * width, margin), width - margin),
                y: min(max(point.y * height, margin), height - margin))
        }
        func outline(_ points: [OverlayPoint], closed: Bool, _ colour: OverlayColour) {
            let count = closed ? points.count : points.count - 1
            for radius in [metrics.borderRadius, metrics.strokeRadius] {
                for index in 0..<count {
                    canvas.stroke(
                        points[index], points[(index + 1) % points.count], radius: radius,
                        radius == metrics.strokeRadius ? colour : OverlayPalette.border)
                }
            }
        }

        for zone in zones where zone.polygon.count >= 2 {
            outline(zone.polygon.map(pixel), closed: true, OverlayPalette.zone(zone.kind))
        }
        for line in lines {
            outline([pixel(line.from), pixel(line.to)], closed: false, OverlayPalette.line)
            drawArrow(line, canvas: canvas, metrics: metrics, centre: pixel(line.midpoint))
        }
        canvas.clipsToMask = false
        for mask in masks { outline(mask.points.map(pixel), closed: true, OverlayPalette.mask) }
        canvas.clipsToMask = true

        let gap = Int(metrics.borderRadius.rounded(.up)) + 1
        for zone in zones where !zone.name.isEmpty && !zone.polygon.isEmpty {
            // Beside a corner, the topmost first: inside most outlines, and always next to the shape.
            let corners = zone.polygon.map(pixel).sorted { ($0.y, $0.x) < ($1.y, $1.x) }
            drawLabel(
                Self.label(zone.name), near: corners, gap: gap, canvas: canvas, metrics: metrics,
                OverlayPalette.zone(zone.kind))
        }
        for line in lines where !line.name.isEmpty {
            drawLabel(
                Self.label(line.name), near: [pixel(line.from), pixel(line.to)], gap: gap, canvas: canvas,
                metrics: metrics, OverlayPalette.line)
        }
        if legend {
            var strokes: [(OverlayPoint, OverlayPoint)] = []
            for zone in zones {
                let points = zone.polygon.map(pixel)
                for index in points.indices { strokes.append((points[index], points[(index + 1) % points.count])) }
            }
            for line in lines { strokes.append((pixel(line.from), pixel(line.to))) }
            drawLegend(canvas: canvas, metrics: metrics, masks: !masks.isEmpty, avoiding: strokes)
        }
    }

    private func drawArrow(_ line: LineShape, canvas: OverlayCanvas, metrics: Metrics, centre: OverlayPoint) {
        let direction = Self.arrowDirection(of: line, geometry: canvas.frame.geometry)
        let normal = (x: -direction.y, y: direction.x)
        func at(_ along: Double, _ across: Double) -> OverlayPoint {
            OverlayPoint(
                x: centre.x + direction.x * along + normal.x * across,
                y: centre.y + direction.y * along + normal.y * across)
        }
        let reach = metrics.arrowReach
        let shaftEnd = reach - metrics.headLength
        // A one-way arrow starts on the side it comes from; `.any` has a head at each end.
        let signs: [Double] = line.direction == .any ? [1, -1] : [1]
        let shaftStart = line.direction == .any ? -shaftEnd : -reach
        let heads = signs.map { sign in
            [
                at(sign * reach, 0), at(sign * shaftEnd, metrics.headHalfWidth),
                at(sign * shaftEnd, -metrics.headHalfWidth),
            ]
        }
        let headBorder = metrics.borderRadius - metrics.strokeRadius
        canvas.stroke(at(shaftStart, 0), at(shaftEnd, 0), radius: metrics.borderRadius, OverlayPalette.border)
        for head in heads {
            for index in 0..<3 {
                canvas.stroke(head[index], head[(index + 1) % 3], radius: headBorder, OverlayPalette.border)
            }
        }
        canvas.stroke(at(shaftStart, 0), at(shaftEnd, 0), radius: metrics.strokeRadius, OverlayPalette.line)
        for head in heads { canvas.triangle(head[0], head[1], head[2], OverlayPalette.line) }
    }

    /// Draws `text` beside the first of `points` where no mask hides any of it (a name drawn over a mask would be
    /// clipped away), or where the mask hides least.
    private func drawLabel(
        _ text: String, near points: [OverlayPoint], gap: Int, canvas: OverlayCanvas, metrics: Metrics,
        _ colour: OverlayColour
    ) {
        let size = OverlayCanvas.textSize(text, scale: metrics.fontScale)
        var best: (x: Int, y: Int, masked: Int)?
        search: for point in points {
            let x = Int(point.x)
            let y = Int(point.y)
            for (left, top) in [
                (x + gap, y + gap), (x + gap, y - gap - size.height), (x - gap - size.width, y + gap),
                (x - gap - size.width, y - gap - size.height),
            ] {
                let left = min(max(0, left), max(0, canvas.width - size.width))
                let top = min(max(0, top), max(0, canvas.height - size.height))
                let masked = canvas.maskedPixels(x: left, y: top, width: size.width, height: size.height)
                if best == nil || masked < best!.masked { best = (left, top, masked) }
                if masked == 0 { break search }
            }
        }
        guard let best else { return }
        canvas.text(text, x: best.x, y: best.y, scale: metrics.fontScale, colour, ground: OverlayPalette.border)
    }

    /// One row per kind drawn: a swatch in its colour and its name, in the corner where it hides least: the fewest
    /// masked pixels (which would clip it), then the least of the `strokes` (pixel segments) drawn.
    private func drawLegend(
        canvas: OverlayCanvas, metrics: Metrics, masks: Bool, avoiding strokes: [(OverlayPoint, OverlayPoint)]
    ) {
        var entries: [(String, OverlayColour)] = []
        if masks { entries.append(("MASK", OverlayPalette.mask)) }
        for kind in Zone.Kind.allCases where zones.contains(where: { $0.kind == kind }) {
            entries.append(("\(kind.rawValue.uppercased()) ZONE", OverlayPalette.zone(kind)))
        }
        if !lines.isEmpty { entries.append(("LINE", OverlayPalette.line)) }
        guard !entries.isEmpty else { return }
        let scale = metrics.fontScale
        let rowHeight = (BitmapFont.rows + 2) * scale
        let longest = entries.map { OverlayCanvas.textSize($0.0, scale: scale).width }.max()!
        let boxWidth = rowHeight + longest
        let boxHeight = rowHeight * entries.count
        let margin = scale * 2
        let corners = [
            (margin, margin), (canvas.width - boxWidth - margin, margin),
            (margin, canvas.height - boxHeight - margin),
            (canvas.width - boxWidth - margin, canvas.height - boxHeight - margin),
        ]
        func hidden(_ corner: (Int, Int)) -> (Int, Int) {
            let masked = canvas.maskedPixels(x: corner.0, y: corner.1, width: boxWidth, height: boxHeight)
            let reach = metrics.borderRadius
            let left = Double(corner.0) - reach
            let right = Double(corner.0 + boxWidth) + reach
            let top = Double(corner.1) - reach
            let bottom = Double(corner.1 + boxHeight) + reach
            var covered = 0
            for (a, b) in strokes {
                let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
                let steps = max(1, Int(length))
                for step in 0...steps {
                    let t = Double(step) / Double(steps)
                    let x = a.x + (b.x - a.x) * t
                    let y = a.y + (b.y - a.y) * t
                    if x >= left && x <= right && y >= top && y <= bottom { covered += 1 }
                }
            }
            return (masked, covered)
        }
        let origin = corners.map { ($0, hidden($0)) }.min { $0.1 < $1.1 }!.0
        for (index, entry) in entries.enumerated() {
            let y = origin.1 + index * rowHeight
            canvas.rectangle(x: origin.0, y: y, width: rowHeight, height: rowHeight, OverlayPalette.border)
            canvas.rectangle(
                x: origin.0 + scale, y: y + scale, width: rowHeight - 2 * scale, height: rowHeight - 2 * scale,
                entry.1)
            canvas.text(entry.0, x: origin.0 + rowHeight, y: y, scale: scale, entry.1, ground: OverlayPalette.border)
        }
    }
}

extension CommissioningOverlay.LineShape {
    /// The middle of the segment, where the arrow is drawn.
    var midpoint: NormalizedPoint { NormalizedPoint(x: (from.x + to.x) / 2, y: (from.y + to.y) / 2) }
}
