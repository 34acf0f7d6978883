extension UnsafeMutableBufferPointer where Element == Float {
    /// `self[i] += (source[i] − self[i]) × rate` over the first `count` cells, eight at a time: the running averages
    /// the detectors keep on the motion detector's grid (the tamper detector's view and reference, the
    /// abandoned-object detector's view). Both hold at least `count` cells.
    func blend(toward source: UnsafeBufferPointer<Float>, count: Int, rate: Float) {
        precondition(self.count >= count && source.count >= count, "grid smaller than count")
        let whole = count / 8 * 8
        let rates = SIMD8<Float>(repeating: rate)
        let from = UnsafeRawPointer(source.baseAddress!)
        let to = UnsafeMutableRawPointer(baseAddress!)
        var offset = 0
        while offset < whole * 4 {
            let old = to.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let new = from.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            to.storeBytes(of: old + (new - old) * rates, toByteOffset: offset, as: SIMD8<Float>.self)
            offset += 32
        }
        for index in whole..<count { self[index] += (source[index] - self[index]) * rate }
    }
}
