import Foundation
import TernProtocol

/// The cluster page (brokers, roles, versions, disk, TPS) and the replication page (each broker group's
/// master and slaves with how far each slave's commit log is behind), both from the name server's cluster
/// table and each broker's GET_BROKER_RUNTIME_INFO.
public enum ClusterPages {
    /// One broker address of the cluster table.
    struct Member {
        var cluster: String
        var brokerName: String
        var brokerId: Int
        var address: String
    }

    static func members(_ info: ClusterInfo) -> [Member] {
        var clusterOf: [String: String] = [:]
        for (cluster, names) in info.clusterAddrTable { for n in names { clusterOf[n] = cluster } }
        return info.brokerAddrTable.values.flatMap { bd in
            bd.brokerAddrs.map { Member(cluster: clusterOf[bd.brokerName] ?? bd.cluster, brokerName: bd.brokerName,
                                        brokerId: Int($0.key) ?? -1, address: $0.value) }
        }.sorted { ($0.cluster, $0.brokerName, $0.brokerId) < ($1.cluster, $1.brokerName, $1.brokerId) }
    }

    static func role(_ brokerId: Int) -> String { brokerId == 0 ? "MASTER" : "SLAVE" }

    /// The first of a `"10s 60s 600s"` TPS triple.
    static func firstTps(_ value: String?) -> String {
        guard let first = value?.split(separator: " ").first, let v = Double(first) else { return "-" }
        return String(format: "%.2f", v)
    }

    static func percent(_ ratio: String?) -> String {
        guard let ratio, let v = Double(ratio), v >= 0 else { return "-" }
        return String(format: "%.1f %%", v * 100)
    }

    /// `runtime[address]`: the broker's runtime info; a missing entry shows as unreachable.
    public static func cluster(_ info: ClusterInfo, runtime: [String: [String: String]]) -> String {
        let rows = members(info).map { m -> [String] in
            let kv = runtime[m.address]
            return [HTML.text(m.cluster), HTML.text(m.brokerName), HTML.text(role(m.brokerId)),
                    HTML.text(m.address), HTML.text(kv?["brokerVersionDesc"] ?? "unreachable"),
                    "<span class=\"num\">\(firstTps(kv?["putTps"]))</span>",
                    "<span class=\"num\">\(firstTps(kv?["getTransferedTps"]))</span>",
                    HTML.text(kv?["msgPutTotalTodayNow"] ?? "-"), HTML.text(percent(kv?["commitLogDiskRatio"])),
                    HTML.text(kv?["commitLogDirCapacity"] ?? "-"), HTML.text(kv?["runtime"] ?? "-")]
        }
        let body = HTML.table(id: "brokers", ["Cluster", "Broker", "Role", "Address", "Version", "Put TPS", "Get TPS",
                                              "Messages put", "Disk used", "Disk", "Up"], rows, empty: "no broker registered")
        return Layout.page(.cluster, title: "Cluster", body: body)
    }

    /// Replication: per broker group, each member's commit-log max offset and a slave's lag behind its master.
    public static func replication(_ info: ClusterInfo, runtime: [String: [String: String]]) -> String {
        let all = members(info)
        var masterMax: [String: Int64] = [:]
        for m in all where m.brokerId == 0 {
            masterMax[m.brokerName] = runtime[m.address]?["commitLogMaxOffset"].flatMap { Int64($0) }
        }
        let rows = all.map { m -> [String] in
            let max = runtime[m.address]?["commitLogMaxOffset"].flatMap { Int64($0) }
            let lag: String
            if m.brokerId == 0 { lag = "-" } else if let max, let master = masterMax[m.brokerName] {
                lag = String(Swift.max(0, master - max))
            } else { lag = "unknown" }
            return [HTML.text(m.brokerName), HTML.text(String(m.brokerId)), HTML.text(role(m.brokerId)), HTML.text(m.address),
                    "<span class=\"num\">\(max.map(String.init) ?? "unreachable")</span>", "<span class=\"num\">\(lag)</span>",
                    HTML.text(runtime[m.address]?["dispatchBehindBytes"] ?? "-")]
        }
        let groups = Set(all.map(\.brokerName))
        let slaves = all.filter { $0.brokerId != 0 }.count
        let summary = "<p id=\"replication-summary\">\(groups.count) broker group(s), \(slaves) slave(s).</p>"
        let body = summary + HTML.table(id: "replication", ["Broker", "Id", "Role", "Address", "Commit log max offset",
                                                            "Behind master (bytes)", "Dispatch behind (bytes)"], rows,
                                        empty: "no broker registered")
        return Layout.page(.replication, title: "Replication", body: body)
    }
}
