import TernProtocol
import TernRemoting
import TernTransport

/// Consumer and producer group names, checked at the door with RocketMQ's client rules (`Validators.checkGroup`:
/// not blank, at most 255 characters, `^[%|a-zA-Z0-9_-]+$`).
///
/// A name that breaks them is answered SYSTEM_ERROR with the client's wording (as `msgCheck` answers a bad topic)
/// before anything is registered, created or written, so it never reaches topics.json, the subscription state or
/// a retry topic. An absent or empty optional header field is not a group and passes (RocketMQ's broker does not
/// require one on sends and pulls; requests that need a group say so themselves).
enum GroupName {
    static let lengthMax = 255

    /// Why `group` is not a valid group name; nil when it is.
    static func invalidReason(_ group: String) -> String? {
        if group.isEmpty { return "the specified group is blank" }
        if !NameCharacters.areLegal(group) {
            return "the specified group[\(group.prefix(64))] contains illegal characters, allowing only \(NameCharacters.pattern)"
        }
        if group.utf8.count > lengthMax { return "the specified group is longer than group max length \(lengthMax)." }
        return nil
    }

    /// Header fields that name a group on the requests clients send (pull, offsets, unregister, send-back, ...).
    static let headerFields = ["consumerGroup", "producerGroup", "group"]

    /// Answers SYSTEM_ERROR and returns true when `group` is non-empty and invalid (the caller then returns).
    static func refuses(_ group: String?, _ responder: RemotingResponder) -> Bool {
        guard let group, !group.isEmpty, let why = invalidReason(group) else { return false }
        responder.respond(code: ResponseCode.systemError, remark: why)
        return true
    }

    /// `refuses` for every group-naming header field of `request`.
    static func refuses(headerOf request: RemotingCommand, _ responder: RemotingResponder) -> Bool {
        headerFields.contains { refuses(request.extFields[$0], responder) }
    }

    /// `refuses` for every producer and consumer group of a heartbeat: one bad name refuses the whole heartbeat,
    /// so nothing of it is registered.
    static func refuses(_ heartbeat: HeartbeatData, _ responder: RemotingResponder) -> Bool {
        heartbeat.consumerDataSet.contains { refuses($0.groupName, responder) }
            || heartbeat.producerDataSet.contains { refuses($0.groupName, responder) }
    }
}
