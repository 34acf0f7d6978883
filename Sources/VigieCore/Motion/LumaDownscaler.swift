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
        columnSums.withUnsafeMutableBufferPointer { sums in
            let acc = sums.baseAddress!
            for gy in 0..<rows {
                let firstRow = gy * cell
                let lastRow = min(height, firstRow + cell)
                for y in firstRow..<lastRow {
                    let line = luma + y * stride
                    if step == 1 {
                        Self.accumulate(line, into: acc, count: width, first: y == firstRow)
                    } else {
                        for x in 0..<width {
                            let value = UInt16(line.load(fromByteOffset: x * step, as: UInt8.self))
                            acc[x] = y == firstRow ? value : acc[x] &+ value
                        }
                    }
                }
                inverseCount.withUnsafeBufferPointer { inverse in
                    for gx in 0..<columns {
                        var total: UInt32 = 0
                        for x in (gx * cell)..<min(width, gx * cell + cell) { total &+= UInt32(acc[x]) }
                        let index = gy * columns + gx
                        output[index] = Float(total) * inverse[index]
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func accumulate(
        _ line: UnsafeRawPointer, into acc: UnsafeMutablePointer<UInt16>, count: Int, first: Bool
    ) {
        var x = 0
        let raw = UnsafeMutableRawPointer(acc)
        if first {
            while x + 16 <= count {
                let bytes = line.loadUnaligned(fromByteOffset: x, as: SIMD16<UInt8>.self)
                raw.storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: bytes), toByteOffset: x * 2, as: SIMD16<UInt16>.self)
                x += 16
            }
            while x < count {
                acc[x] = UInt16(line.load(fromByteOffset: x, as: UInt8.self))
                x += 1
            }
        } else {
            while x + 16 <= count {
                let bytes = line.loadUnaligned(fromByteOffset: x, as: SIMD16<UInt8>.self)
                let sum = raw.loadUnaligned(fromByteOffset: x * 2, as: SIMD16<UInt16>.self)
                    &+ SIMD16<UInt16>(truncatingIfNeeded: bytes)
                raw.storeBytes(of: sum, toByteOffset: x * 2, as: SIMD16<UInt16>.self)
                x += 16
            }
            while x < count {
                acc[x] &+= UInt16(line.load(fromByteOffset: x, as: UInt8.self))
                x += 1
            }
        }
    }
}
