/// What a self-test found, part by part (`camera`, `speaker`, `gpio`, …): the verdict is ok when every part is.
public struct SelfTestReport: Sendable, Hashable {
    public struct Part: Sendable, Hashable {
        public var name: String
        /// Why the part does not work; `nil` when it does.
        public var fault: String?

        public init(_ name: String, fault: String? = nil) {
            self.name = name
            self.fault = fault
        }
    }

    public var parts: [Part]

    public init(parts: [Part]) { self.parts = parts }

    public var ok: Bool { parts.allSatisfy { $0.fault == nil } }
}
