extension MotionBox {
    /// The box in pixels of a `width × height` frame: `[x1, y1, x2, y2]`, `x2` and `y2` exclusive.
    public func pixels(width: Int, height: Int) -> [Int] {
        let x1 = max(0, min(width, Int((rect.x * Double(width)).rounded())))
        let y1 = max(0, min(height, Int((rect.y * Double(height)).rounded())))
        let x2 = max(x1, min(width, Int(((rect.x + rect.width) * Double(width)).rounded())))
        let y2 = max(y1, min(height, Int(((rect.y + rect.height) * Double(height)).rounded())))
        return [x1, y1, x2, y2]
    }

    /// One JSON line as written by `vigie analyze --boxes`: `{"frame": i, "boxes": [[x1, y1, x2, y2], …]}`.
    public static func jsonLine(frame: Int, boxes: [MotionBox], width: Int, height: Int) -> String {
        var text = "{\"frame\":\(frame),\"boxes\":["
        for (index, box) in boxes.enumerated() {
            if index > 0 { text += "," }
            text += "[" + box.pixels(width: width, height: height).map(String.init).joined(separator: ",") + "]"
        }
        return text + "]}"
    }
}
