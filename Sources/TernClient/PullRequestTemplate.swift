import NIOCore
import TernProtocol
import TernRemoting

/// The PULL_MESSAGE requests of one queue with fixed batch size, subscription and hold, laid out once: per pull
/// only the offsets are filled in, and the JSON header copies the rest pre-rendered. The fields, their order
/// and text are those of ``PullConsumer/pullRequest(queue:offset:maxNums:subscription:suspendMillis:commitOffset:)``,
/// so the bytes on the wire are the same (a loop that pulls as soon as an answer comes, as `tern-bench e2e`'s
/// watchers do, sends one per answer).
public struct PullRequestTemplate: Sendable {
    let consumer: PullConsumer
    /// Without and with a commit offset (sysFlag bit 0 differs).
    private let plain: RemotingExtFields.Template
    private let committing: RemotingExtFields.Template

    init(consumer: PullConsumer, queue: MessageQueue, maxNums: Int, subscription: String, suspendMillis: Int64) {
        self.consumer = consumer
        func template(commit: Bool) -> RemotingExtFields.Template {
            RemotingExtFields.Template([
                "consumerGroup": .text(consumer.group), "topic": .text(queue.topic), "queueId": .text(String(queue.queueId)),
                "queueOffset": .decimal(slot: 0), "maxMsgNums": .text(String(maxNums)),
                "sysFlag": .text(String(PullConsumer.pullSysFlag(suspendMillis: suspendMillis, commit: commit))),
                "commitOffset": .decimal(slot: 1), "suspendTimeoutMillis": .text(String(max(0, suspendMillis))),
                "subscription": .text(subscription), "subVersion": .text("0"), "expressionType": .text("TAG"),
            ])
        }
        plain = template(commit: false)
        committing = template(commit: true)
    }

    /// The request for `offset`, committing `commitOffset` when given.
    public func request(offset: Int64, commitOffset: Int64?) -> RemotingCommand {
        let fields = RemotingExtFields(commitOffset == nil ? plain : committing, words: UInt64(bitPattern: offset),
                                       UInt64(bitPattern: commitOffset ?? 0))
        return consumer.runtime.makeRequest(code: RequestCode.pullMessage, extFields: fields)
    }
}

extension PullConsumer {
    /// ``PullRequestTemplate`` for `queue`: ``pullRequest(queue:offset:maxNums:subscription:suspendMillis:commitOffset:)``
    /// with these arguments, made once.
    public func pullRequestTemplate(queue: MessageQueue, maxNums: Int = 32, subscription: String = "*",
                                    suspendMillis: Int64 = 0) -> PullRequestTemplate {
        PullRequestTemplate(consumer: self, queue: queue, maxNums: maxNums, subscription: subscription,
                            suspendMillis: suspendMillis)
    }

    /// PULL_MESSAGE's sysFlag: subscription present (4), held (2) when `suspendMillis` > 0, commit offset (1).
    static func pullSysFlag(suspendMillis: Int64, commit: Bool) -> Int {
        4 | (suspendMillis > 0 ? 2 : 0) | (commit ? 1 : 0)
    }
}
