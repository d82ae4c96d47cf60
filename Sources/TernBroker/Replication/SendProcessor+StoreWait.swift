import NIOCore
import TernRemoting
import TernReplication
import TernStorage
import TernTransport

/// How long a send that waits for the store (WAIT=true) waits: the flush policy (SYNC_FLUSH) and then, on a
/// SYNC_MASTER, a slave's acknowledgement of the record's end (RocketMQ's `handleDiskFlush` + `handleHA`).
/// FLUSH_DISK_TIMEOUT, SLAVE_NOT_AVAILABLE and FLUSH_SLAVE_TIMEOUT all mean "stored on the master" and carry
/// the send result's fields, as RocketMQ's `sendOK = true` answers do.
extension SendProcessor {
    /// Answers once the record ending at `end` is as durable as the broker's policy promises.
    func respondWhenStored(end: Int64, fields: RemotingExtFields, responder: RemotingResponder) {
        guard context.config.flushDiskType == .syncFlush else {
            respondWhenReplicated(end: end, fields: fields, responder: responder)
            return
        }
        context.store.whenDurable(end) { [self] outcome in
            // One group commit releases many sends: one task per event loop, one flush per connection.
            LoopHandoff.shared.run(on: responder.connection.channel.eventLoop) { [self] in
                responder.connection.coalesceWritesUntilTaskEnds()
                switch outcome {
                case .durable:
                    respondWhenReplicated(end: end, fields: fields, responder: responder)
                case .timedOut:
                    responder.respond(code: ResponseCode.flushDiskTimeout, remark: "flush to disk timed out; the message is stored",
                                      extFields: fields)
                case let .failed(why):
                    // Never "stored": the flush covering this record failed.
                    responder.respond(code: ResponseCode.systemError, remark: "flush to disk failed, the message may be lost: \(why)")
                }
            }
        }
    }

    private func respondWhenReplicated(end: Int64, fields: RemotingExtFields, responder: RemotingResponder) {
        let replication = context.replication
        guard context.config.brokerRole == .syncMaster else {
            Self.respondStored(fields: fields, replication: replication, responder: responder)
            return
        }
        replication.whenReplicated(end, on: responder.connection.channel.eventLoop) { outcome in
            // One ack releases many sends, often of one connection: one flush for all their answers.
            responder.connection.coalesceWritesUntilTaskEnds()
            switch outcome {
            case .acked:
                Self.respondStored(fields: fields, replication: replication, responder: responder)
            case .slaveNotAvailable:
                responder.respond(code: ResponseCode.slaveNotAvailable, remark: "no slave available; the message is stored on the master",
                                  extFields: fields)
            case .timeout:
                responder.respond(code: ResponseCode.flushSlaveTimeout, remark: "no slave acknowledged in time; the message is stored on the master",
                                  extFields: fields)
            }
        }
    }

    /// SUCCESS, unless leadership (controller mode) was lost while the send waited: a fenced master never
    /// acknowledges, since another replica may already be master (the record is cut when it rejoins).
    private static func respondStored(fields: RemotingExtFields, replication: BrokerReplication, responder: RemotingResponder) {
        guard replication.mayAcknowledge else {
            responder.respond(code: ResponseCode.serviceNotAvailable, remark: "not the master any more; the send was not acknowledged")
            return
        }
        responder.respond(code: ResponseCode.success, extFields: fields)
    }
}
