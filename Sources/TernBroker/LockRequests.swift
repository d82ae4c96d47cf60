import TernProtocol
import TernRemoting
import TernTransport

/// LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42) for ordered consumption (features.md §3).
extension ConsumerProcessor {
    func lockBatch(_ request: RemotingCommand, _ responder: RemotingResponder) {
        guard let body = decodeLockBody(request, responder), !GroupName.refuses(body.consumerGroup, responder) else { return }
        let granted = locks.tryLock(group: body.consumerGroup, clientId: body.clientId, queues: body.mqSet, now: clientService.nowMillis)
        responder.respond(code: ResponseCode.success, body: JSONBody.encode(LockBatchResponseBody(lockOKMQSet: granted)))
    }

    func unlockBatch(_ request: RemotingCommand, _ responder: RemotingResponder) {
        guard let body = decodeLockBody(request, responder), !GroupName.refuses(body.consumerGroup, responder) else { return }
        locks.unlock(group: body.consumerGroup, clientId: body.clientId, queues: body.mqSet)
        responder.respond(code: ResponseCode.success)
    }

    private func decodeLockBody(_ request: RemotingCommand, _ responder: RemotingResponder) -> LockBatchRequestBody? {
        do {
            return try JSONBody.decode(LockBatchRequestBody.self, from: request.body)
        } catch {
            responder.respond(code: ResponseCode.systemError, remark: "\(error)")
            return nil
        }
    }
}
