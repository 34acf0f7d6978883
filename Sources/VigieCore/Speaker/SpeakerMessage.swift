/// What a message says: a text spoken by a voice, or a recorded clip by its id.
public enum SpeakerContent: Sendable, Hashable {
    case text(String, voice: String)
    case clip(String)
}

/// A message for the speaker, before it is queued.
public struct SpeakerMessage: Sendable, Hashable {
    /// Unique; named in the `queued` reply and the `announcement` event.
    public var id: String
    /// What is said or played.
    public var content: SpeakerContent
    /// Whom it gives way to and whom it interrupts.
    public var priority: SpeakerPriority
    /// Who asked, as the cool-down knows them: a rule's name, a command's request id.
    public var source: String
    /// How many times it is played, 1 to `SpeakerQueue.maximumRepeat`.
    public var repeatCount: Int

    /// A message to queue; `repeatCount` is checked by the queue.
    public init(
        id: String, content: SpeakerContent, priority: SpeakerPriority, source: String, repeatCount: Int = 1
    ) {
        self.id = id
        self.content = content
        self.priority = priority
        self.source = source
        self.repeatCount = repeatCount
    }
}
