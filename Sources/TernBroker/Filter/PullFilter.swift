import NIOConcurrencyHelpers
import TernMessage
import TernProtocol
import TernRemoting
import TernStorage

/// What a pull applies to its queue: tag codes on consume-queue entries, then (SQL92 subscriptions,
/// environment isolation) a predicate over each candidate record's properties.
struct PullFilter: Sendable {
    var tag: TagFilter
    var sql: SQL92Filter?
    var environment: EnvironmentFilter?

    init(tag: TagFilter, sql: SQL92Filter? = nil, environment: EnvironmentFilter? = nil) {
        self.tag = tag
        self.sql = sql
        self.environment = environment
    }

    /// The store's record filter for one read; nil when only tags apply (the store then never looks at
    /// properties).
    var recordPredicate: (@Sendable (RecordView) -> Bool)? {
        switch (sql, environment?.current) {
        case (nil, nil): return nil
        case (let sql?, nil): return { sql.matches(properties: $0.properties) }
        case (nil, let env?): return { env.matches(properties: $0.properties) }
        case (let sql?, let env?):
            return { r in
                let p = r.properties
                return env.matches(properties: p) && sql.matches(properties: p)
            }
        }
    }
}

/// Compiled SQL92 selectors by (group, topic, expression, subVersion): a subscription is parsed once, not
/// per pull or per message. Failures are cached too, so a bad expression is not re-parsed on every retry.
final class SQL92FilterCache: Sendable {
    struct Key: Hashable, Sendable {
        var group: String
        var topic: String
        var expression: String
        var subVersion: Int64
    }

    /// Entries kept before the cache starts over (subscriptions change rarely; this only bounds memory).
    static let capacity = 4096
    private let entries = NIOLockedValueBox<[Key: Result<SQL92Filter, SQL92Error>]>([:])

    func filter(_ key: Key) -> Result<SQL92Filter, SQL92Error> {
        if let hit = entries.withLockedValue({ $0[key] }) { return hit }
        let compiled: Result<SQL92Filter, SQL92Error>
        do { compiled = .success(try SQL92Filter.compile(key.expression)) } catch { compiled = .failure(error) }
        entries.withLockedValue { e in
            if e.count >= Self.capacity { e.removeAll(keepingCapacity: true) }
            e[key] = compiled
        }
        return compiled
    }

    var count: Int { entries.withLockedValue { $0.count } }
}

extension PullService {
    static let sql92 = "SQL92"
    static let sqlNotSupported = "The broker does not support consumer to filter message by SQL92"

    static func isSQL92(_ expressionType: String?) -> Bool { expressionType?.uppercased() == sql92 }

    /// The filter of a pull by `group` on `topic` with the given subscription (features.md §5): TAG codes, or a
    /// compiled SQL92 selector (refused unless `enablePropertyFilter`; SUBSCRIPTION_PARSE_FAILED when it does not
    /// parse; not applied to retry topics, as `filterSupportRetry` = false), plus environment isolation.
    func makeFilter(group: String, topic: String, expressionType: String?, expression: String?,
                    subVersion: Int64) -> Result<PullFilter, RequestRejection> {
        var filter: PullFilter
        if Self.isSQL92(expressionType) {
            switch sqlFilter(group: group, topic: topic, expression: expression ?? "", subVersion: subVersion) {
            case .failure(let r): return .failure(r)
            case .success(let sql):
                filter = PullFilter(tag: TagFilter(subString: "*"),
                                    sql: topic.hasPrefix(SendService.retryTopicPrefix) ? nil : sql)
            }
        } else {
            filter = PullFilter(tag: TagFilter(subString: expression))
        }
        if context.config.environmentIsolationEnable {
            filter.environment = EnvironmentFilter(group: group, topic: topic, clients: clients)
        }
        return .success(filter)
    }

    private func sqlFilter(group: String, topic: String, expression: String, subVersion: Int64) -> Result<SQL92Filter, RequestRejection> {
        guard context.config.enablePropertyFilter else {
            return .failure(RequestRejection(ResponseCode.systemError, Self.sqlNotSupported))
        }
        return sqlFilters.filter(.init(group: group, topic: topic, expression: expression, subVersion: subVersion))
            .mapError { RequestRejection(ResponseCode.subscriptionParseFailed, "parse the consumer's subscription failed: \($0)") }
    }

    /// Heartbeat check: every SQL92 subscription of `data` must be allowed and parse (the error names the first
    /// that does not); nil when all are fine.
    func rejectSubscriptions(_ data: HeartbeatData) -> RequestRejection? {
        for consumer in data.consumerDataSet {
            for sub in consumer.subscriptionDataSet where Self.isSQL92(sub.expressionType) {
                if case .failure(let r) = sqlFilter(group: consumer.groupName, topic: sub.topic, expression: sub.subString,
                                                    subVersion: sub.subVersion) {
                    return r
                }
            }
        }
        return nil
    }
}
