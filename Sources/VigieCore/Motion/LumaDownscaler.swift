/// Averages the luma plane over square cells: the detector's only pass over full-resolution pixels.
///
/// One read of every luma byte, accumulated column-wise in 16-bit lanes (SIMD), then summed across
/// each cell. Buffers are allocated once.
struct LumaDownscaler {
    let width: Int
    let height: Int
    let cell: Int
    let columns: Int
    let rows: Int
    private var columnSums: [UInt16]
    private let inverseCount: [Float]

    init(width: Int, height: Int, cell: Int) {
        precondition(cell >= 1 && cell <= 256, "cell size out of range")
        self.width = width
        self.height = height
        self.cell = cell
        self.columns = (width + cell - 1) / cell
        self.rows = (height + cell - 1) / cell
        self.columnSums = [UInt16](repeating: 0, count: width + 32)
        var inverse = [Float](repeating: 0, count: columns * rows)
        for gy in 0..<rows {
            for gx in 0..<columns {
                let w = min(width, (gx + 1) * cell) - gx * cell
                let h = min(height, (gy + 1) * cell) - gy * cell
                inverse[gy * columns + gx] = 1 / Float(w * h)
            }
        }
        self.inverseCount = inverse
    }

    /// Writes the mean luma of each cell into `output` (`columns × rows`, row-major).
    mutating func downscale(
        luma: UnsafeRawPointer, stride: Int, step: Int, into output: UnsafeMutableBufferPointer<Float>
    ) {
        let width = self.width
        let cell = self.cell
        let columns = self.columns
        let out = output.baseAddress!
        columnSums.withUnsafeMutableBufferPointer { sums in
            let acc = sums.baseAddress!
            inverseCount.withUnsafeBufferPointer { inverse in
                let scale = inverse.baseAddress!
                for gy in 0..<rows {
                    let firstRow = gy * cell
                    let rowCount = min(height, firstRow + cell) - firstRow
                    let top = luma + firstRow * stride
                    if step == 1 {
                        Self.sumColumns(top, stride: stride, rows: rowCount, width: width, into: acc)
                    } else if step == 2 {
                        Self.sumPackedColumns(top, stride: stride, rows: rowCount, width: width, into: acc)
                    } else {
                        for x in 0..<width {
                            var total: UInt16 = 0
                            for y in 0..<rowCount {
                                total &+= UInt16(top.load(fromByteOffset: y * stride + x * step, as: UInt8.self))
                            }
                            acc[x] = total
                        }
                    }
                    Self.sumCells(acc, width: width, cell: cell, into: out + gy * columns, scale: scale + gy * columns)
                }
            }
        }
    }

    /// Adds `cell` neighbouring column sums into each cell's mean. Four columns at a time when the cell size
    /// allows it (the usual 4, 8, 12 and 16).
    @inline(__always)
    private static func sumCells(
        _ acc: UnsafeMutablePointer<UInt16>, width: Int, cell: Int, into out: UnsafeMutablePointer<Float>,
        scale: UnsafePointer<Float>
    ) {
        let raw = UnsafeRawPointer(acc)
        let whole = width / cell
        if cell % 4 == 0 {
            for gx in 0..<whole {
                var total = SIMD4<UInt32>()
                var offset = gx &* cell &* 2
                for _ in 0..<(cell / 4) {
                    total &+= SIMD4<UInt32>(
                        truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt16>.self))
                    offset &+= 8
                }
                out[gx] = Float(total.wrappedSum()) * scale[gx]
            }
        } else {
            for gx in 0..<whole {
                var total: UInt32 = 0
                for k in 0..<cell { total &+= UInt32(acc[gx &* cell &+ k]) }
                out[gx] = Float(total) * scale[gx]
            }
        }
        if whole * cell < width {
            var total: UInt32 = 0
            for x in (whole * cell)..<width { total &+= UInt32(acc[x]) }
            out[whole] = Float(total) * scale[whole]
        }
    }

    /// Column sums over `rows` rows, row by row: the plane is read once, in order (what the memory prefetcher
    /// handles best), and the sums stay in the first-level cache.
    @inline(__always)
    private static func sumColumns(
        _ top: UnsafeRawPointer, stride: Int, rows: Int, width: Int, into acc: UnsafeMutablePointer<UInt16>
    ) {
        let raw = UnsafeMutableRawPointer(acc)
        for y in 0..<rows {
            let line = top + y &* stride
            var x = 0
            if y == 0 {
                while x &+ 16 <= width {
                    raw.storeBytes(
                        of: SIMD16<UInt16>(
                            truncatingIfNeeded: line.loadUnaligned(fromByteOffset: x, as: SIMD16<UInt8>.self)),
                        toByteOffset: x &* 2, as: SIMD16<UInt16>.self)
                    x &+= 16
                }
                while x < width {
                    acc[x] = UInt16(line.load(fromByteOffset: x, as: UInt8.self))
                    x &+= 1
                }
            } else {
                while x &+ 16 <= width {
                    let sum =
                        raw.loadUnaligned(fromByteOffset: x &* 2, as: SIMD16<UInt16>.self)
                        &+ SIMD16<UInt16>(
                            truncatingIfNeeded: line.loadUnaligned(fromByteOffset: x, as: SIMD16<UInt8>.self))
                    raw.storeBytes(of: sum, toByteOffset: x &* 2, as: SIMD16<UInt16>.self)
                    x &+= 16
                }
                while x < width {
                    acc[x] &+= UInt16(line.load(fromByteOffset: x, as: UInt8.self))
                    x &+= 1
                }
            }
        }
    }

    /// The same for packed YUYV, where luma is every other byte: 32 bytes are loaded and their even lanes kept.
    @inline(__always)
    private static func sumPackedColumns(
        _ top: UnsafeRawPointer, stride: Int, rows: Int, width: Int, into acc: UnsafeMutablePointer<UInt16>
    ) {
        let raw = UnsafeMutableRawPointer(acc)
        for y in 0..<rows {
            let line = top + y &* stride
            var x = 0
            while x &+ 16 <= width {
                let luma = SIMD16<UInt16>(
                    truncatingIfNeeded: line.loadUnaligned(fromByteOffset: x &* 2, as: SIMD32<UInt8>.self).evenHalf)
                let sum = y == 0 ? luma : raw.loadUnaligned(fromByteOffset: x &* 2, as: SIMD16<UInt16>.self) &+ luma
                raw.storeBytes(of: sum, toByteOffset: x &* 2, as: SIMD16<UInt16>.self)
                x &+= 16
            }
            while x < width {
                let value = UInt16(line.load(fromByteOffset: x &* 2, as: UInt8.self))
                acc[x] = y == 0 ? value : acc[x] &+ value
                x &+= 1
            }
        }
    }
}
