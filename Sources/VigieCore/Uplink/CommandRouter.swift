/// A command from the centre, validated.
public enum Command: Sendable, Hashable {
    /// Send a masked snapshot now.
    case snapshot
    /// Check the unit's parts and report.
    case selftest
    /// Re-read the configuration file; an invalid file changes nothing.
    case reload
    /// Raise motion events (the default).
    case arm
    /// Stop raising motion events, for `minutes` (then re-arm by itself) or until `arm`.
    case disarm(minutes: Int?)
    /// Speak `text` with the voice `voice` (the unit's default if `nil`), `repeatCount` times.
    case say(text: String, voice: String?, priority: SpeakerPriority, repeatCount: Int)
    /// Play the recorded clip `clip` (a valid clip id, maybe not one the unit has), `repeatCount` times.
    case play(clip: String, repeatCount: Int)
    /// The centre answers the call in progress (`call`: its `call_button` event id, to be sure it is that one);
    /// `message` is said to the caller instead of the configured one.
    case callAcknowledge(call: String?, message: String?)
    /// The centre ends the call in progress.
    case callEnd(call: String?)
    /// Send again the stored events numbered `from`…`to` (their uplink `seq`, at most `CommandRouter.maximumReplay`
    /// of them), marked `historical`: a centre that lost messages on its side fills the gap.
    case replay(from: Int64, to: Int64)
    /// An operator confirmed or dismissed an alert: recorded with it in the event store.
    case alertVerdict(AlertVerdict)

    /// Name as it appears in the topic `cmd/<name>`.
    public var name: String {
        switch self {
        case .snapshot: "snapshot"
        case .selftest: "selftest"
        case .reload: "reload"
        case .arm: "arm"
        case .disarm: "disarm"
        case .say: "say"
        case .play: "play"
        case .callAcknowledge: "call_ack"
        case .callEnd: "call_end"
        case .replay: "replay"
        case .alertVerdict(let verdict): verdict.confirmed ? "alert_confirm" : "alert_dismiss"
        }
    }

    /// Whether it runs in the places `CommandGate` keeps for it: a caller is waiting on these.
    public var isReserved: Bool {
        switch self {
        case .callAcknowledge, .callEnd: true
        case .snapshot, .selftest, .reload, .arm, .disarm, .say, .play, .replay, .alertVerdict: false
        }
    }
}

/// A valid request and where its reply goes.
public struct CommandRequest: Sendable, Hashable {
    public var command: Command
    /// The request's `id`, echoed in the reply.
    public var requestID: String
    public var replyTopic: String
    /// MQTT 5 correlation data to echo, if the request had some.
    public var correlationData: [UInt8]?

    public init(command: Command, requestID: String, replyTopic: String, correlationData: [UInt8]? = nil) {
        self.command = command
        self.requestID = requestID
        self.replyTopic = replyTopic
        self.correlationData = correlationData
    }
}

/// What the router made of an incoming message.
public enum CommandRoute: Sendable, Hashable {
    case request(CommandRequest)
    /// Refused: publish `payload` on `topic` (with `correlationData`) and do nothing else.
    case reject(topic: String, payload: [UInt8], correlationData: [UInt8]?)
    /// Not a command topic of this unit.
    case ignore
}

/// Validates command messages against strict limits (size, fields, types, ranges) before anything acts
/// on them. Pure logic, no I/O: every malformed payload gets a precise error reply and changes nothing.
public enum CommandRouter {
    /// Largest command payload accepted.
    public static let maximumPayload = 8192
    /// The most events one `replay` may ask for (a bigger gap takes several requests).
    public static let maximumReplay: Int64 = 1000
    static let limits: JSONLimits = {
        var limits = JSONLimits()
        limits.maximumBytes = maximumPayload
        limits.maximumDepth = 4
        // A spoken text may be long: the speaker's own limit (`[speaker] max_text`) gives the precise error.
        limits.maximumStringBytes = maximumPayload
        limits.maximumMembers = 32
        return limits
    }()

    /// Routes one incoming message.
    ///
    /// An MQTT 5 `responseTopic` is used only inside the unit's reply tree (`vigie/v1/<id>/reply/…`) or under
    /// `replyPrefix` (the centre's own reply tree, from `[uplink] reply_prefix`, ending in `/`); anywhere else
    /// the reply goes to `reply/<id>` as if there were none, so a request cannot make the unit publish on
    /// another unit's topics, forge one of its own events or status, or write into someone else's tree.
    public static func route(
        topic: String, payload: [UInt8], responseTopic: String?, correlationData: [UInt8]?, topics: Topics,
        replyPrefix: String? = nil
    ) -> CommandRoute {
        guard topic.hasPrefix(topics.commandPrefix) else { return .ignore }
        let name = String(topic.dropFirst(topics.commandPrefix.count))
        let mqtt5Reply = responseTopic.flatMap {
            isAllowedResponseTopic($0, topics: topics, replyPrefix: replyPrefix) ? $0 : nil
        }
        func reject(_ requestID: String?, _ code: String, _ message: String) -> CommandRoute {
            let replyTopic = mqtt5Reply ?? requestID.map(topics.reply) ?? topics.replyError
            return .reject(
                topic: replyTopic,
                payload: CommandReply.error(requestID: requestID, command: name, code: code, message: message),
                correlationData: correlationData)
        }
        guard payload.count <= maximumPayload else {
            return reject(nil, "payload_too_large", "payload is \(payload.count) bytes; the limit is \(maximumPayload)")
        }
        let document: JSONValue
        do {
            document = try JSON.parse(payload, limits: limits)
        } catch {
            return reject(nil, "malformed_json", error.description)
        }
        guard case .object(let members) = document else {
            return reject(nil, "not_an_object", "the payload must be a JSON object")
        }
        guard let idValue = document["id"] else { return reject(nil, "missing_field", "field 'id' is required") }
        guard let requestID = idValue.stringValue, isRequestID(requestID) else {
            return reject(nil, "invalid_field", "'id' must be a string of 1 to 64 letters, digits, '.', '-' or '_'")
        }
        let allowed: Set<String>
        let command: Command
        switch name {
        case "snapshot":
            allowed = ["id"]
            command = .snapshot
        case "selftest":
            allowed = ["id"]
            command = .selftest
        case "reload":
            allowed = ["id"]
            command = .reload
        case "arm":
            allowed = ["id"]
            command = .arm
        case "disarm":
            allowed = ["id", "minutes"]
            var minutes: Int?
            if let value = document["minutes"] {
                guard let number = value.intValue, (1...1440).contains(number) else {
                    return reject(requestID, "invalid_field", "'minutes' must be a whole number from 1 to 1440")
                }
                minutes = number
            }
            command = .disarm(minutes: minutes)
        case "say":
            allowed = ["id", "text", "lang", "priority", "repeat"]
            guard let value = document["text"] else {
                return reject(requestID, "missing_field", "field 'text' is required")
            }
            guard let text = value.stringValue else {
                return reject(requestID, "invalid_field", "'text' must be a string")
            }
            var voice: String?
            if let value = document["lang"] {
                guard let name = value.stringValue else {
                    return reject(requestID, "invalid_field", "'lang' must be a string such as \"fr\" or \"en-gb\"")
                }
                guard SpeakerSettings.isValidVoiceName(name) else {
                    return reject(
                        requestID, "unknown_voice",
                        "'\(name.prefix(64))' is not a voice name (1 to 32 of a-z 0-9 - _ +, e.g. \"fr\")")
                }
                voice = name
            }
            var priority = SpeakerPriority.command
            if let value = document["priority"] {
                guard let name = value.stringValue, let parsed = SpeakerPriority(name: name) else {
                    return reject(
                        requestID, "invalid_field", "'priority' must be \"rule\", \"command\" or \"call_ack\"")
                }
                priority = parsed
            }
            guard let count = repeatCount(document) else {
                return reject(
                    requestID, "invalid_field",
                    "'repeat' must be a whole number from 1 to \(SpeakerQueue.maximumRepeat)")
            }
            command = .say(text: text, voice: voice, priority: priority, repeatCount: count)
        case "play":
            allowed = ["id", "clip", "repeat"]
            guard let value = document["clip"] else {
                return reject(requestID, "missing_field", "field 'clip' is required")
            }
            guard let clip = value.stringValue else {
                return reject(requestID, "invalid_field", "'clip' must be a string")
            }
            guard ClipLibrary.isValidID(clip) else {
                return reject(
                    requestID, "unknown_clip", "'\(clip.prefix(64))' is not a clip id (1 to 64 of a-z 0-9 _ -)")
            }
            guard let count = repeatCount(document) else {
                return reject(
                    requestID, "invalid_field",
                    "'repeat' must be a whole number from 1 to \(SpeakerQueue.maximumRepeat)")
            }
            command = .play(clip: clip, repeatCount: count)
        case "call_ack", "call_end":
            allowed = name == "call_ack" ? ["id", "call", "message"] : ["id", "call"]
            var call: String?
            if let value = document["call"] {
                guard let id = value.stringValue, isRequestID(id) else {
                    return reject(requestID, "invalid_field", "'call' must be the id of the call's call_button event")
                }
                call = id
            }
            var message: String?
            if name == "call_ack", let value = document["message"] {
                guard let text = value.stringValue, !text.allSatisfy(\.isWhitespace), text.count <= 500 else {
                    return reject(requestID, "invalid_field", "'message' must be a text of 1 to 500 characters")
                }
                message = text
            }
            command = name == "call_ack" ? .callAcknowledge(call: call, message: message) : .callEnd(call: call)
        case "replay":
            allowed = ["id", "from_seq", "to_seq"]
            var bounds: [Int64] = []
            for key in ["from_seq", "to_seq"] {
                guard let value = document[key] else {
                    return reject(requestID, "missing_field", "field '\(key)' is required")
                }
                guard let number = value.intValue, number >= 1 else {
                    return reject(requestID, "invalid_field", "'\(key)' must be an event sequence number, 1 or more")
                }
                bounds.append(Int64(number))
            }
            guard bounds[0] <= bounds[1] else {
                return reject(requestID, "invalid_field", "'from_seq' must not be after 'to_seq'")
            }
            guard bounds[1] - bounds[0] < maximumReplay else {
                return reject(
                    requestID, "range_too_large",
                    "\(bounds[1] - bounds[0] + 1) events asked; one replay sends at most \(maximumReplay)")
            }
            command = .replay(from: bounds[0], to: bounds[1])
        case "alert_confirm", "alert_dismiss":
            allowed = ["id", "event", "operator", "note"]
            guard let value = document["event"] else {
                return reject(requestID, "missing_field", "field 'event' is required")
            }
            guard let event = value.stringValue, isRequestID(event) else {
                return reject(requestID, "invalid_field", "'event' must be the id of an event of this unit")
            }
            guard let value = document["operator"] else {
                return reject(requestID, "missing_field", "field 'operator' is required")
            }
            guard let person = value.stringValue, isPlainText(person, maximum: 64) else {
                return reject(
                    requestID, "invalid_field", "'operator' must be a text of 1 to 64 characters, no control characters"
                )
            }
            var note: String?
            if let value = document["note"] {
                guard let text = value.stringValue, isPlainText(text, maximum: 500) else {
                    return reject(
                        requestID, "invalid_field",
                        "'note' must be a text of 1 to 500 characters, no control characters")
                }
                note = text
            }
            command = .alertVerdict(
                AlertVerdict(event: event, confirmed: name == "alert_confirm", operatorName: person, note: note))
        default:
            return reject(requestID, "unknown_command", "unknown command '\(name.prefix(64))'")
        }
        if let unknown = members.first(where: { !allowed.contains($0.key) }) {
            return reject(requestID, "unknown_field", "field '\(unknown.key.prefix(64))' is not part of '\(name)'")
        }
        return .request(
            CommandRequest(
                command: command, requestID: requestID, replyTopic: mqtt5Reply ?? topics.reply(requestID),
                correlationData: correlationData))
    }

    /// `repeat`, 1 if absent; `nil` if invalid.
    static func repeatCount(_ document: JSONValue) -> Int? {
        guard let value = document["repeat"] else { return 1 }
        guard let count = value.intValue, (1...SpeakerQueue.maximumRepeat).contains(count) else { return nil }
        return count
    }

    /// A short human text: not blank, at most `maximum` characters, no control characters (it ends up in logs
    /// and in `vigie events`).
    static func isPlainText(_ text: String, maximum: Int) -> Bool {
        !text.allSatisfy(\.isWhitespace) && text.count <= maximum
            && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    static func isRequestID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.unicodeScalars.allSatisfy { ConfigurationReader.isIdentifierScalar($0) || $0 == "." }
    }

    /// A topic we may publish to: no wildcards, no NUL, bounded length.
    static func isPublishable(_ topic: String) -> Bool {
        !topic.isEmpty && topic.utf8.count <= 512 && !topic.contains("#") && !topic.contains("+")
            && !topic.contains("\0")
    }

    /// A response topic strictly below the unit's reply tree or `replyPrefix`, and publishable.
    public static func isAllowedResponseTopic(_ topic: String, topics: Topics, replyPrefix: String?) -> Bool {
        // Bytes, not characters: the broker's ACLs compare bytes, and String comparison would take
        // canonically equivalent spellings as equal.
        func below(_ prefix: String) -> Bool {
            topic.utf8.count > prefix.utf8.count && topic.utf8.starts(with: prefix.utf8)
        }
        return isPublishable(topic) && (below(topics.replies) || replyPrefix.map(below) == true)
    }

    /// A valid `reply_prefix`: a topic level path ending in `/`, without wildcards, not starting with `$`
    /// (broker topics), at most 256 bytes.
    public static func isValidReplyPrefix(_ prefix: String) -> Bool {
        prefix.utf8.count >= 2 && prefix.utf8.count <= 256 && prefix.hasSuffix("/") && !prefix.hasPrefix("$")
            && !prefix.hasPrefix("/") && isPublishable(prefix)
    }
}

/// Reply payloads: `{"id":…,"command":…,"ok":true,"result":{…}}` or `{"id":…,"command":…,"ok":false,
/// "error":{"code":…,"message":…}}`.
public enum CommandReply {
    public static func ok(requestID: String, command: String, result: (inout JSONWriter) -> Void = { _ in }) -> [UInt8]
    {
        var json = JSONWriter()
        json.beginObject()
        json.string("id", requestID)
        json.string("command", command)
        json.bool("ok", true)
        json.beginObject("result")
        result(&json)
        json.endObject()
        json.endObject()
        return Array(json.text.utf8)
    }

    public static func error(requestID: String?, command: String, code: String, message: String) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        if let requestID { json.string("id", requestID) }
        json.string("command", String(command.prefix(64)))
        json.bool("ok", false)
        json.beginObject("error")
        json.string("code", code)
        json.string("message", message)
        json.endObject()
        json.endObject()
        return Array(json.text.utf8)
    }
}
