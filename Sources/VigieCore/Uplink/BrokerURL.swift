/// `mqtt://host[:port]` or `mqtts://host[:port]` (TLS; default ports 1883 and 8883).
public struct BrokerURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var tls: Bool

    public init?(_ text: String) {
        let rest: Substring
        if text.hasPrefix("mqtts://") {
            tls = true
            rest = text.dropFirst(8)
        } else if text.hasPrefix("mqtt://") {
            tls = false
            rest = text.dropFirst(7)
        } else {
            return nil
        }
        var hostPart = rest
        var port = tls ? 8883 : 1883
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { return nil }
            let after = hostPart[hostPart.index(after: close)...]
            host = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { return nil }
                port = value
            }
        } else {
            if let colon = hostPart.lastIndex(of: ":") {
                guard let value = Int(hostPart[hostPart.index(after: colon)...]) else { return nil }
                port = value
                hostPart = hostPart[..<colon]
            }
            host = String(hostPart)
        }
        guard !host.isEmpty, !host.contains("/"), (1...65535).contains(port) else { return nil }
        self.port = port
    }

    public var description: String { "\(tls ? "mqtts" : "mqtt")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}
