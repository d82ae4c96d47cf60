import ArgumentParser
import Foundation
import NIOPosix
import TernCoordination
import TernSystem

/// Options of the controller-mode commands: they read and write the group's keys in etcd directly.
struct EtcdGroupOptions: ParsableArguments {
    @Option(name: .long, help: "etcd endpoints, http://host:port separated by ';'.") var etcd = "http://127.0.0.1:2379"
    @Option(name: .customShort("c"), help: "Cluster name (brokerClusterName).") var cluster = "DefaultCluster"
    @Option(name: .customShort("b"), help: "Broker name (the replica group).") var brokerName: String

    func election() throws -> LeaderElection {
        guard let endpoints = EtcdEndpoint.parseList(etcd) else { throw ValidationError("--etcd: expected http://host:port[;...]") }
        let client = EtcdClient(endpoints: endpoints, group: MultiThreadedEventLoopGroup.singleton)
        // brokerId 0: an observer; it never campaigns.
        return LeaderElection(etcd: client, keys: ElectionKeys(cluster: cluster, brokerName: brokerName), brokerId: 0,
                              ttlSeconds: 3, margin: .seconds(1), clock: SystemClock())
    }
}

/// `tern admin haStatus`: a controller-mode group's epoch, master, in-sync set and each replica's offset and lag.
struct AdminHAStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "haStatus",
                                                    abstract: "Controller mode: epoch, master, in-sync set, replica offsets and lag.")

    @OptionGroup var group: EtcdGroupOptions

    func run() async throws {
        let election = try group.election()
        let leader = try await election.leader()?.record
        let replicas = try await election.replicas()
        let syncSet = try await election.syncSet()
        let epoch = try await election.etcd.get(election.keys.epoch).map { String(decoding: $0.value, as: UTF8.self) } ?? "0"
        if let leader {
            print("\(group.brokerName) (cluster \(group.cluster)): epoch \(leader.epoch), master broker \(leader.brokerId) \(leader.addr) (ha \(leader.haAddr))")
        } else {
            print("\(group.brokerName) (cluster \(group.cluster)): last epoch \(epoch), NO MASTER"
                  + " (only an in-sync replica may be elected: \(syncSet?.members.map(String.init).joined(separator: ",") ?? "any"))")
        }
        print("in-sync set: \(syncSet.map { "\($0.members) (published in epoch \($0.epoch))" } ?? "none published yet")")
        let masterOffset = replicas.first { $0.brokerId == leader?.brokerId }?.offset
        var table = AdminTable("#BID", "#Addr", "#Role", "#Offset", "#Lag(bytes)", "#InSync", "#Epoch")
        for r in replicas.sorted(by: { $0.brokerId < $1.brokerId }) {
            let role = r.brokerId == leader?.brokerId ? "MASTER" : "SLAVE"
            let lag = masterOffset.map { String(max(0, $0 - r.offset)) } ?? "-"
            let inSync = syncSet.map { $0.members.contains(r.brokerId) ? "yes" : "no" } ?? "-"
            table.add(String(r.brokerId), r.addr, role, String(r.offset), lag, inSync, String(r.epoch))
        }
        table.print()
    }
}

/// `tern admin electMaster`: a planned switch without loss: the master stops acknowledging, waits until the
/// chosen in-sync replica has its whole log, and resigns; only that replica contends.
struct AdminElectMaster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "electMaster",
                                                    abstract: "Controller mode: hand mastership to an in-sync replica (planned switch).")

    @OptionGroup var group: EtcdGroupOptions
    @Option(name: .long, help: "The replica's brokerId (default: the in-sync slave with the longest log).") var replica: Int?
    @Option(name: .long, help: "Seconds to wait for the switch.") var timeout = 30

    func run() async throws {
        let election = try group.election()
        guard let current = try await election.leader()?.record else { throw AdminFailure("\(group.brokerName) has no master now") }
        let syncSet = try await election.syncSet()
        let candidates = try await election.replicas().filter {
            $0.brokerId != current.brokerId && (syncSet?.members.contains($0.brokerId) ?? false)
        }
        guard let target = replica ?? candidates.max(by: { $0.offset < $1.offset })?.brokerId else {
            throw AdminFailure("no in-sync slave to hand over to")
        }
        guard target != current.brokerId else { throw AdminFailure("broker \(target) is already master") }
        guard candidates.contains(where: { $0.brokerId == target }) else {
            throw AdminFailure("broker \(target) is not an in-sync slave (in-sync set: \(syncSet?.members ?? []))")
        }
        try await election.requestHandover(to: target)
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if let now = try await election.leader()?.record, now.brokerId == target {
                print("broker \(target) is master of \(group.brokerName), epoch \(now.epoch) (was broker \(current.brokerId), epoch \(current.epoch))")
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw AdminFailure("broker \(target) did not become master within \(timeout) s")
    }
}
