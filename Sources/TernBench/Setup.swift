import Foundation
import NIOCore
import TernClient

/// Creates (or updates) `topic` with `queues` read/write queues on every master, then waits until the name
/// server's route shows them (brokers re-register after a topic change).
func ensureTopic(_ runtime: ClientRuntime, topic: String, queues: Int) async throws -> TopicRouteInfo {
    let admin = AdminClient(runtime: runtime)
    let brokers = try await admin.createTopic(topic, readQueues: queues, writeQueues: queues)
    let deadline = NIODeadline.now() + .seconds(15)
    var last: TopicRouteInfo?
    while NIODeadline.now() < deadline {
        if let route = try? await runtime.route(topic: topic, refresh: true).get() {
            last = route
            if route.writeQueues.count >= queues * brokers.count { return route }
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    if let last, !last.writeQueues.isEmpty { return last }
    throw ValidationErrorText("topic \(topic) was created on \(brokers) but has no route on the name server after 15 s")
}

struct ValidationErrorText: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}
