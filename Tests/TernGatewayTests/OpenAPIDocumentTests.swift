import Foundation
import Testing
@testable import TernGateway

@Suite struct OpenAPIDocumentTests {
    func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
    }

    /// Every `$ref` in the document, wherever it sits.
    func refs(_ value: Any) -> [String] {
        if let d = value as? [String: Any] {
            return ((d["$ref"] as? String).map { [$0] } ?? []) + d.values.flatMap(refs)
        }
        return (value as? [Any])?.flatMap(refs) ?? []
    }

    @Test func everyReferenceResolvesToAComponent() throws {
        let doc = try document()
        let components = try #require(doc["components"] as? [String: [String: Any]])
        let all = refs(doc)
        #expect(all.count > 30)
        for r in all {
            let parts = r.split(separator: "/").map(String.init)
            #expect(parts.count == 4 && parts[0] == "#" && parts[1] == "components", "\(r)")
            #expect(components[parts[2]]?[parts[3]] != nil, "\(r) names no component")
        }
    }

    @Test func operationsAnswerTheirRefusalsAsTheJSONError() throws {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        func responses(_ path: String, _ method: String) -> [String: [String: Any]] {
            ((paths[path]?[method] as? [String: Any])?["responses"] as? [String: [String: Any]]) ?? [:]
        }
        let expected: [(String, String, [String])] = [
            ("/topics/{topic}/messages", "post", ["200", "400", "403", "404", "413", "429", "503"]),
            ("/topics/{topic}/messages", "get", ["200", "400", "403", "404", "429", "503"]),
            ("/topics/{topic}/messages/batch", "post", ["200", "400", "403", "404", "413", "415", "429", "503"]),
            ("/topics/{topic}/messages/ack", "post", ["200", "400", "403", "413", "503"]),
            ("/topics/{topic}/messages/nack", "post", ["200", "400", "403", "413", "503"]),
        ]
        for (path, method, statuses) in expected {
            let r = responses(path, method)
            #expect(r.keys.sorted() == statuses, "\(method) \(path)")
            for s in statuses where s != "200" {
                #expect(r[s]?["$ref"] as? String == "#/components/responses/Error", "\(method) \(path) \(s)")
            }
        }
        let ack = try #require(paths["/topics/{topic}/messages/ack"]?["post"] as? [String: Any])
        #expect(ack["operationId"] as? String == "ackMessages")
    }
}
