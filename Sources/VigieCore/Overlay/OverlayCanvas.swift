/// Draws strokes, triangles, rectangles and text on a frame that has just been masked, in every plane its format
/// has. With `clipsToMask`, no pixel or chroma sample under the mask is touched: an overlay can never reveal or
/// even mark what the mask hid. Internal: only `MaskRaster.apply(to:outlining:overlay:_:)` draws, before it lends
/// the frame as a `MaskedFrame`.
struct OverlayCanvas {
    let frame: Frame
    let raster: MaskRaster
    /// When true, pixels (and chroma samples) the mask covers are left as the mask left them.
    var clipsToMask = true

    var width: Int { frame.geometry.width }
    var height: Int { frame.geometry.height }

    /// Sets pixel (`x`, `y`) to `colour`; the chroma sample it shares with its neighbours takes the colour too.
    func plot(_ x: Int, _ y: Int, _ colour: OverlayColour) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        if clipsToMask && raster.luma.covers(x: x, y: y) { return }
        let geometry = frame.geometry
        let base = frame.bytes.baseAddress!
        let planes = geometry.planes
        base.storeBytes(
            of: colour.luma, toByteOffset: planes[0].offset + y * planes[0].stride + x * geometry.lumaStep,
            as: UInt8.self)
        let (cx, cy) =
            switch geometry.format {
            case .grey: (-1, -1)
            case .yuyv: (x / 2, y)
            case .i420, .nv12: (x / 2, y / 2)
            }
        guard cx >= 0, !(clipsToMask && raster.chroma.covers(x: cx, y: cy)) else { return }
        switch geometry.format {
        case .grey:
            return
        case .yuyv:
            let pair = planes[0].offset + y * planes[0].stride + cx * 4
            base.storeBytes(of: colour.cb, toByteOffset: pair + 1, as: UInt8.self)
            base.storeBytes(of: colour.cr, toByteOffset: pair + 3, as: UInt8.self)
        case .i420:
            base.storeBytes(of: colour.cb, toByteOffset: planes[1].offset + cy * planes[1].stride + cx, as: UInt8.self)
            base.storeBytes(of: colour.cr, toByteOffset: planes[2].offset + cy * planes[2].stride + cx, as: UInt8.self)
        case .nv12:
            let sample = planes[1].offset + cy * planes[1].stride + cx * 2
            base.storeBytes(of: colour.cb, toByteOffset: sample, as: UInt8.self)
            base.storeBytes(of: colour.cr, toByteOffset: sample + 1, as: UInt8.self)
        }
    }

    /// Every pixel whose centre lies within `radius` of (`x`, `y`).
    func disc(_ x: Double, _ y: Double, radius: Double, _ colour: OverlayColour) {
        let reach = Int(radius.rounded(.up)) + 1
        let cx = Int(x.rounded(.down))
        let cy = Int(y.rounded(.down))
        for py in (cy - reach)...(cy + reach) {
            for px in (cx - reach)...(cx + reach) {
                let dx = Double(px) + 0.5 - x
                let dy = Double(py) + 0.5 - y
                if dx * dx + dy * dy <= radius * radius { plot(px, py, colour) }
            }
        }
    }

    /// A round-capped stroke from `a` to `b` (pixel coordinates), `radius` pixels either side.
    func stroke(_ a: OverlayPoint, _ b: OverlayPoint, radius: Double, _ colour: OverlayColour) {
        let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
        let steps = max(1, Int((length * 2).rounded(.up)))
        for step in 0...steps {
            let t = Double(step) / Double(steps)
            disc(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, radius: radius, colour)
        }
    }

    /// Every pixel whose centre lies inside the triangle `a`, `b`, `c`.
    func triangle(_ a: OverlayPoint, _ b: OverlayPoint, _ c: OverlayPoint, _ colour: OverlayColour) {
        func side(_ p: OverlayPoint, _ q: OverlayPoint, _ x: Double, _ y: Double) -> Double {
            (q.x - p.x) * (y - p.y) - (q.y - p.y) * (x - p.x)
        }
        let left = Int(min(a.x, b.x, c.x).rounded(.down))
        let right = Int(max(a.x, b.x, c.x).rounded(.up))
        let top = Int(min(a.y, b.y, c.y).rounded(.down))
        let bottom = Int(max(a.y, b.y, c.y).rounded(.up))
        for py in top...bottom {
            for px in left...right {
                let x = Double(px) + 0.5
                let y = Double(py) + 0.5
                let s1 = side(a, b, x, y)
                let s2 = side(b, c, x, y)
                let s3 = side(c, a, x, y)
                if (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0) { plot(px, py, colour) }
            }
        }
    }

    /// The rectangle of `width` × `height` pixels whose top-left pixel is (`x`, `y`).
    func rectangle(x: Int, y: Int, width: Int, height: Int, _ colour: OverlayColour) {
        for py in y..<(y + height) {
            for px in x..<(x + width) { plot(px, py, colour) }
        }
    }

    /// How many pixels of the rectangle (clipped to the frame) the mask covers.
    func maskedPixels(x: Int, y: Int, width: Int, height: Int) -> Int {
        var count = 0
        for py in max(0, y)..<max(max(0, y), min(self.height, y + height)) {
            for px in max(0, x)..<max(max(0, x), min(self.width, x + width)) where raster.luma.covers(x: px, y: py) {
                count += 1
            }
        }
        return count
    }

    /// `text` in `colour` on a `ground` box, its box's top-left pixel at (`x`, `y`), each font dot `scale` pixels.
    func text(_ text: String, x: Int, y: Int, scale: Int, _ colour: OverlayColour, ground: OverlayColour) {
        let size = Self.textSize(text, scale: scale)
        rectangle(x: x, y: y, width: size.width, height: size.height, ground)
        for (index, character) in text.enumerated() {
            let glyph = BitmapFont.glyph(character)
            let left = x + scale + index * BitmapFont.advance * scale
            for row in 0..<BitmapFont.rows {
                for column in 0..<BitmapFont.columns where glyph[row] & (0x10 >> UInt8(column)) != 0 {
                    rectangle(
                        x: left + column * scale, y: y + scale + row * scale, width: scale, height: scale, colour)
                }
            }
        }
    }

    /// The box `text(_:x:y:scale:_:ground:)` fills: one font dot of margin all round.
    static func textSize(_ text: String, scale: Int) -> (width: Int, height: Int) {
        (width: (1 + text.count * BitmapFont.advance) * scale, height: (BitmapFont.rows + 2) * scale)
    }
}

/// A point in pixel coordinates (pixel `i` spans `i ..< i + 1`).
struct OverlayPoint: Sendable, Hashable {
    var x: Double
    var y: Double
}
