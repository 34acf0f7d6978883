import Testing
import VigieCore

@Suite("Commissioning picture")
struct CommissioningOverlayTests {
    /// The colour of pixel (`x`, `y`) as the frame holds it (luma only for GREY: chroma reads as neutral).
    static func colour(_ frame: Frame, _ x: Int, _ y: Int) -> OverlayColour {
        let geometry = frame.geometry
        let planes = geometry.planes
        let luma = frame.luma(x: x, y: y)
        switch geometry.format {
        case .grey:
            return OverlayColour(luma: luma, cb: 128, cr: 128)
        case .yuyv:
            let pair = planes[0].offset + y * planes[0].stride + (x / 2) * 4
            return OverlayColour(luma: luma, cb: frame.bytes[pair + 1], cr: frame.bytes[pair + 3])
        case .i420:
            return OverlayColour(
                luma: luma, cb: frame.bytes[planes[1].offset + (y / 2) * planes[1].stride + x / 2],
                cr: frame.bytes[planes[2].offset + (y / 2) * planes[2].stride + x / 2])
        case .nv12:
            let sample = planes[1].offset + (y / 2) * planes[1].stride + (x / 2) * 2
            return OverlayColour(luma: luma, cb: frame.bytes[sample], cr: frame.bytes[sample + 1])
        }
    }

    /// What a GREY frame can show of `colour`.
    static func seen(_ colour: OverlayColour, in format: PixelFormat) -> OverlayColour {
        format == .grey ? OverlayColour(luma: colour.luma, cb: 128, cr: 128) : colour
    }

    /// A frame of one flat grey, unlike every overlay colour.
    static func flat(_ geometry: FrameGeometry) -> Frame {
        let frame = Frame(geometry: geometry)
        frame.bytes.initializeMemory(as: UInt8.self, repeating: 0)
        let luma = geometry.planes[0]
        for y in 0..<geometry.height {
            for x in 0..<geometry.width {
                frame.bytes[luma.offset + y * luma.stride + x * geometry.lumaStep] = 90
            }
        }
        switch geometry.format {
        case .yuyv:
            for y in 0..<geometry.height {
                for pair in 0..<(geometry.width / 2) {
                    frame.bytes[luma.offset + y * luma.stride + pair * 4 + 1] = 128
                    frame.bytes[luma.offset + y * luma.stride + pair * 4 + 3] = 128
                }
            }
        case .i420, .nv12:
            for index in geometry.planes[1].offset..<geometry.byteCount { frame.bytes[index] = 128 }
        case .grey:
            break
        }
        return frame
    }

    static func render(
        _ geometry: FrameGeometry, masks: [MaskPolygon] = [], overlay: CommissioningOverlay,
        frame: Frame? = nil
    ) -> Frame {
        let picture = frame ?? flat(geometry)
        PrivacyMask(polygons: masks).raster(for: geometry).apply(to: picture, outlining: masks, overlay: overlay) {
            _ in
        }
        return picture
    }

    static let zones = [
        CommissioningOverlay.ZoneShape(name: "m", polygon: Fixtures.rectangle(0.05, 0.1, 0.4, 0.35), kind: .motion),
        CommissioningOverlay.ZoneShape(
            name: "i", polygon: [.init(x: 0.55, y: 0.1), .init(x: 0.95, y: 0.2), .init(x: 0.7, y: 0.45)],
            kind: .intrusion),
        CommissioningOverlay.ZoneShape(name: "d", polygon: Fixtures.rectangle(0.05, 0.55, 0.4, 0.4), kind: .density),
    ]
    static let line = CommissioningOverlay.LineShape(
        name: "l", from: .init(x: 0.55, y: 0.6), to: .init(x: 0.95, y: 0.9), direction: .any)

    @Test("each zone kind and the lines show in their colour along every edge", arguments: PixelFormat.allCases)
    func colourAlongEveryEdge(format: PixelFormat) throws {
        let geometry = try FrameGeometry(format: format, width: 640, height: 360)
        let frame = Self.render(
            geometry, overlay: CommissioningOverlay(zones: Self.zones, lines: [Self.line], legend: false))
        func pixel(_ p: NormalizedPoint) -> (Int, Int) { (Int(p.x * 640), Int(p.y * 360)) }
        func along(_ a: NormalizedPoint, _ b: NormalizedPoint, _ t: Double) -> (Int, Int) {
            pixel(NormalizedPoint(x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t))
        }
        for zone in Self.zones {
            for index in zone.polygon.indices {
                let a = zone.polygon[index]
                let b = zone.polygon[(index + 1) % zone.polygon.count]
                for t in [0.35, 0.5, 0.65] {
                    let (x, y) = along(a, b, t)
                    #expect(
                        Self.colour(frame, x, y) == Self.seen(OverlayPalette.zone(zone.kind), in: format),
                        "\(zone.kind) zone, edge \(index) at \(t): pixel (\(x), \(y))")
                }
            }
        }
        // Away from the arrow at the midpoint and the name at the start.
        for t in [0.3, 0.35, 0.65, 0.7, 0.9] {
            let (x, y) = along(Self.line.from, Self.line.to, t)
            #expect(Self.colour(frame, x, y) == Self.seen(OverlayPalette.line, in: format), "line at \(t)")
        }
        // Nothing far from every shape is touched.
        #expect(Self.colour(frame, 320, 20) == Self.seen(OverlayColour(luma: 90, cb: 128, cr: 128), in: format))
    }

    @Test("the colours are told apart: masks, each zone kind and lines differ clearly, and from the border")
    func coloursDiffer() {
        let colours =
            [OverlayPalette.mask, OverlayPalette.line, OverlayPalette.border]
            + Zone.Kind.allCases.map(OverlayPalette.zone)
        for (index, first) in colours.enumerated() {
            for second in colours[(index + 1)...] {
                let distance =
                    abs(Int(first.luma) - Int(second.luma)) + abs(Int(first.cb) - Int(second.cb))
                    + abs(Int(first.cr) - Int(second.cr))
                #expect(distance > 60, "\(first) and \(second) are too close")
            }
        }
        for colour in colours where colour != OverlayPalette.border {
            #expect(Int(colour.luma) - Int(OverlayPalette.border.luma) > 80, "\(colour) stands out of its border")
        }
    }

    @Test(
        "a line's arrow points its allowed way: the head at that end, none at the other (both for any)",
        arguments: LineDirection.allCases)
    func arrowHead(direction: LineDirection) throws {
        let geometry = try FrameGeometry(format: .i420, width: 1280, height: 720)
        // Across the direction it is crossed in, as a line is drawn on site.
        let line =
            switch direction {
            case .leftToRight, .rightToLeft:
                CommissioningOverlay.LineShape(
                    name: "", from: .init(x: 0.5, y: 0.1), to: .init(x: 0.5, y: 0.9), direction: direction)
            case .topToBottom, .bottomToTop, .any:
                CommissioningOverlay.LineShape(
                    name: "", from: .init(x: 0.1, y: 0.5), to: .init(x: 0.9, y: 0.5), direction: direction)
            }
        let frame = Self.render(geometry, overlay: CommissioningOverlay(lines: [line], legend: false))
        let metrics = CommissioningOverlay.Metrics(geometry: geometry)
        let way = CommissioningOverlay.arrowDirection(of: line, geometry: geometry)
        switch direction {
        case .leftToRight: #expect(way == (1, 0))
        case .rightToLeft: #expect(way == (-1, 0))
        case .topToBottom: #expect(way == (0, 1))
        case .bottomToTop: #expect(way == (0, -1))
        case .any: #expect(abs(way.x) < 1e-9 && abs(way.y) == 1, "across the horizontal line")
        }
        func isLine(_ along: Double, _ across: Double) -> Bool {
            let x = 640 + way.x * along - way.y * across
            let y = 360 + way.y * along + way.x * across
            return Self.colour(frame, Int(x.rounded(.down)), Int(y.rounded(.down))) == OverlayPalette.line
        }
        let inHead = metrics.arrowReach - metrics.headLength / 2
        let aside = metrics.headHalfWidth * 0.35
        // Inside the head, beside the shaft's axis.
        #expect(isLine(inHead, aside) && isLine(inHead, -aside), "the head is at the allowed end")
        #expect(isLine(metrics.arrowReach - 1.5, 0), "the tip reaches out")
        let tailHead = isLine(-inHead, aside) && isLine(-inHead, -aside)
        #expect(tailHead == (direction == .any), "a head at the other end only for any")
        #expect(isLine(-inHead, 0), "the shaft goes through to the other side")
    }

    @Test("each name is drawn beside its shape, in its colour on a dark ground", arguments: [PixelFormat.i420, .yuyv])
    func namesBesideTheirShapes(format: PixelFormat) throws {
        let geometry = try FrameGeometry(format: format, width: 640, height: 360)
        var named = CommissioningOverlay(zones: Self.zones, lines: [Self.line], legend: false)
        var unnamed = named
        for index in unnamed.zones.indices { unnamed.zones[index].name = "" }
        unnamed.lines[0].name = ""
        for index in named.zones.indices { named.zones[index].name = "zone-\(index)" }
        named.lines[0].name = "Door_1.a"
        let withNames = Self.render(geometry, overlay: named)
        let without = Self.render(geometry, overlay: unnamed)
        let metrics = CommissioningOverlay.Metrics(geometry: geometry)
        let reach = Double((1 + 8 * 6) * metrics.fontScale) + metrics.borderRadius + 2
        var shapes: [(points: [NormalizedPoint], colour: OverlayColour, coloured: Int)] =
            Self.zones.map { ($0.polygon, OverlayPalette.zone($0.kind), 0) }
        shapes.append(([Self.line.from, Self.line.to], OverlayPalette.line, 0))
        for y in 0..<360 {
            for x in 0..<640 {
                let after = Self.colour(withNames, x, y)
                guard after != Self.colour(without, x, y) else { continue }
                func beside(_ index: Int) -> Bool {
                    let points = shapes[index].points
                    let left = points.map { $0.x * 640 }.min()! - reach
                    let right = points.map { $0.x * 640 }.max()! + reach
                    let top = points.map { $0.y * 360 }.min()! - reach
                    let bottom = points.map { $0.y * 360 }.max()! + reach
                    return Double(x) >= left && Double(x) <= right && Double(y) >= top && Double(y) <= bottom
                }
                #expect(shapes.indices.contains(where: beside), "a name's pixel at (\(x), \(y)) is beside no shape")
                if let owner = shapes.indices.first(where: { shapes[$0].colour == after }) {
                    #expect(beside(owner), "a pixel of the name in \(after) at (\(x), \(y)) is far from its shape")
                    shapes[owner].coloured += 1
                }
            }
        }
        for shape in shapes {
            #expect(shape.coloured > 40, "the name of the shape in \(shape.colour) is drawn in its colour")
        }
    }

    @Test("names: lower case as capitals, characters the font lacks as the same box, each character drawn")
    func nameText() throws {
        let geometry = try FrameGeometry(format: .grey, width: 320, height: 240)
        func picture(_ name: String) -> [UInt8] {
            let zone = CommissioningOverlay.ZoneShape(
                name: name, polygon: Fixtures.rectangle(0.2, 0.2, 0.6, 0.6), kind: .motion)
            let frame = Self.render(geometry, overlay: CommissioningOverlay(zones: [zone], legend: false))
            return Array(frame.bytes)
        }
        #expect(picture("gate") == picture("GATE"))
        #expect(picture("é") == picture("#"), "both are boxes")
        #expect(picture("é") != picture("E"))
        #expect(picture("é") != picture(" "), "a box, not a blank")
        let letters = (UInt8(ascii: "A")...UInt8(ascii: "Z")).map { String(UnicodeScalar($0)) }
        let digits = (0...9).map(String.init)
        let all = letters + digits + ["-", "_", "."]
        let drawn = all.map(picture)
        #expect(Set(drawn).count == all.count, "every character looks different")
        #expect(!drawn.contains(picture("#")), "and none is the box")
    }

    @Test(
        "inside a mask only its outline is drawn: no zone, line, name or legend pixel", arguments: PixelFormat.allCases)
    func masksStayMasked(format: PixelFormat) throws {
        var random = SplitMix(seed: 18)
        for round in 0..<8 {
            let geometry = try FrameGeometry(format: format, width: 2 * (120 + round * 17), height: 160 + round * 23)
            let masks = try (0..<(1 + round % 3)).map { index in
                try MaskPolygon(name: "m\(index)", points: Fixtures.randomPolygon(&random))
            }
            // Shapes that run over the masks, and names whose every place is inside one.
            var zones = Self.zones
            zones.append(.init(name: "inside-mask", polygon: masks[0].points, kind: .intrusion))
            zones.append(.init(name: "whole", polygon: Fixtures.rectangle(0, 0, 1, 1), kind: .density))
            let lines = [
                CommissioningOverlay.LineShape(
                    name: "across", from: masks[0].points[0], to: masks[0].points[1], direction: .leftToRight),
                CommissioningOverlay.LineShape(
                    name: "diagonal", from: .init(x: 0, y: 0), to: .init(x: 1, y: 1), direction: .any),
            ]
            let frame = Frame(geometry: geometry)
            Fixtures.randomize(frame, &random)
            let plain = Frame(geometry: geometry)
            plain.copy(from: frame)
            let drawn = Self.render(
                geometry, masks: masks, overlay: CommissioningOverlay(zones: zones, lines: lines), frame: frame)
            let outlined = Self.render(geometry, masks: masks, overlay: .none, frame: plain)
            let raster = PrivacyMask(polygons: masks).raster(for: geometry)
            var inside = 0
            for y in 0..<geometry.height {
                for x in 0..<geometry.width where raster.luma.covers(x: x, y: y) {
                    inside += 1
                    let luma = drawn.luma(x: x, y: y)
                    #expect(luma == outlined.luma(x: x, y: y), "masked pixel (\(x), \(y)) changed by the overlay")
                    #expect(
                        [MaskFill.luma, OverlayPalette.mask.luma, OverlayPalette.border.luma].contains(luma),
                        "masked pixel (\(x), \(y)) is black or the mask's outline")
                }
            }
            #expect(inside > 0)
            for y in 0..<raster.chroma.height {
                for x in 0..<raster.chroma.width where raster.chroma.covers(x: x, y: y) {
                    let sample = Self.colour(drawn, format == .yuyv ? 2 * x : 2 * x, format == .yuyv ? y : 2 * y)
                    #expect(sample.cb == MaskFill.chroma && sample.cr == MaskFill.chroma, "chroma (\(x), \(y))")
                }
            }
        }
    }
}

extension CommissioningOverlayTests {
    @Test("the legend names each kind drawn, in the corner free of masks and shapes")
    func legend() throws {
        let geometry = try FrameGeometry(format: .i420, width: 640, height: 360)
        let masks = [try MaskPolygon(name: "window", points: Fixtures.rectangle(0, 0.7, 0.4, 0.3))]
        let zone = CommissioningOverlay.ZoneShape(
            name: "", polygon: Fixtures.rectangle(0.02, 0.02, 0.3, 0.3), kind: .intrusion)
        let line = CommissioningOverlay.LineShape(
            name: "", from: .init(x: 0.98, y: 0.6), to: .init(x: 0.6, y: 0.98), direction: .any)
        func picture(legend: Bool, lines: [CommissioningOverlay.LineShape]) -> Frame {
            Self.render(
                geometry, masks: masks, overlay: CommissioningOverlay(zones: [zone], lines: lines, legend: legend))
        }
        // Top left holds the zone, bottom left the mask, bottom right the line: the legend goes top right.
        let with = picture(legend: true, lines: [line])
        let without = picture(legend: false, lines: [line])
        var changed: [(Int, Int)] = []
        var colours: Set<OverlayColour> = []
        for y in 0..<360 {
            for x in 0..<640 where Self.colour(with, x, y) != Self.colour(without, x, y) {
                changed.append((x, y))
                colours.insert(Self.colour(with, x, y))
            }
        }
        #expect(!changed.isEmpty)
        #expect(changed.allSatisfy { $0.0 >= 320 && $0.1 < 180 }, "in the top right corner")
        #expect(colours.isSuperset(of: [OverlayPalette.mask, OverlayPalette.zone(.intrusion), OverlayPalette.line]))
        #expect(!colours.contains(OverlayPalette.zone(.motion)) && !colours.contains(OverlayPalette.zone(.density)))
        // Without the line, the bottom right is as free as the top right: the legend still avoids the rest.
        let noLine = picture(legend: true, lines: [])
        let noLineWithout = picture(legend: false, lines: [])
        for y in 0..<360 {
            for x in 0..<640 where Self.colour(noLine, x, y) != Self.colour(noLineWithout, x, y) {
                #expect(x >= 320, "(\(x), \(y)) is on the right")
            }
        }
    }
}
