/// Draws polygon outlines on a frame that has just been masked, for `vigie mask preview`
/// (`MaskRaster.apply(to:outlining:_:)`): a technician on site checks that every window is covered. Only adds
/// bright lines; never reveals anything the mask hid.
enum MaskOutline {
    /// Draws each polygon's edges in white luma, `thickness` pixels wide.
    static func draw(_ polygons: [MaskPolygon], on frame: Frame, thickness: Int) {
        let geometry = frame.geometry
        let plane = geometry.planes[0]
        let base = frame.bytes.baseAddress! + plane.offset
        let step = geometry.lumaStep
        let width = geometry.width
        let height = geometry.height
        func plot(_ x: Int, _ y: Int) {
            for dy in 0..<thickness {
                for dx in 0..<thickness {
                    let px = x + dx - thickness / 2
                    let py = y + dy - thickness / 2
                    guard px >= 0, px < width, py >= 0, py < height else { continue }
                    base.storeBytes(of: 255, toByteOffset: py * plane.stride + px * step, as: UInt8.self)
                }
            }
        }
        for polygon in polygons {
            let points = polygon.points.map {
                (x: Int(($0.x * Double(width - 1)).rounded()), y: Int(($0.y * Double(height - 1)).rounded()))
            }
            for index in points.indices {
                let a = points[index]
                let b = points[(index + 1) % points.count]
                // Bresenham's line.
                var x = a.x
                var y = a.y
                let dx = abs(b.x - a.x)
                let dy = -abs(b.y - a.y)
                let sx = a.x < b.x ? 1 : -1
                let sy = a.y < b.y ? 1 : -1
                var error = dx + dy
                while true {
                    plot(x, y)
                    if x == b.x && y == b.y { break }
                    let doubled = 2 * error
                    if doubled >= dy {
                        error += dy
                        x += sx
                    }
                    if doubled <= dx {
                        error += dx
                        y += sy
                    }
                }
            }
        }
    }
}
