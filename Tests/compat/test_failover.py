"""Automatic failover (controller mode): three `tern broker` replicas of one brokerName elect their master through
a real etcd. The official C++ client sends sync to the SYNC_MASTER; `kill -9` of the master elects another within
seconds (measured and printed), every acknowledged message is consumable afterwards, and the killed master comes
back as a slave that follows the new one."""
import json
import os
import subprocess
import time

from harness import Etcd, free_port, tail, wait_for
from test_replication import Process

CLUSTER, NAME = "FoCluster", "broker-fo"
PREFIX = "/tern/%s/%s/" % (CLUSTER, NAME)


class Group:
    """etcd + one name server + `n` controller-mode replicas (brokerId 1..n), restartable on their ports/stores."""

    def __init__(self, h, n=3):
        self.h = h
        self.procs = []
        self.etcd = Etcd(os.path.join(h.workdir, "etcd"))
        ns_port = free_port()
        self.namesrv = "127.0.0.1:%d" % ns_port
        self.ns = self._spawn("namesrv", ["namesrv", "--port", str(ns_port)])
        self.ns.wait_log("ready", 20)
        self.replicas = {}
        self.starts = 0
        self.probe_acks = []
        for i in range(1, n + 1):
            port = free_port()
            conf = os.path.join(h.workdir, "b%d.conf" % i)
            with open(conf, "w") as f:
                f.write("\n".join([
                    "brokerClusterName=" + CLUSTER, "brokerName=" + NAME, "brokerId=%d" % i, "brokerRole=SYNC_MASTER",
                    "namesrvAddr=" + self.namesrv, "haListenPort=%d" % free_port(), "enableControllerMode=true",
                    "etcdEndpoints=" + self.etcd.endpoint, "controllerLeaseTtlSeconds=3",
                    "mappedFileSizeCommitLog=1048576", "maxMessageSize=65536", "haSendHeartbeatInterval=500",
                    "flushDiskType=ASYNC_FLUSH", "autoCreateTopicEnable=true", "",
                ]))
            self.replicas[i] = {"port": port, "conf": conf, "store": os.path.join(h.workdir, "store%d" % i), "proc": None}
            self.start(i)

    def _spawn(self, name, args):
        p = Process(self.h.binary, self.h.workdir, name, args)
        self.procs.append(p)
        return p

    def start(self, i):
        r = self.replicas[i]
        self.starts += 1
        r["proc"] = self._spawn("b%d-%d" % (i, self.starts), [
            "broker", "-c", r["conf"], "--store", r["store"], "--broker-port", str(r["port"])])
        r["proc"].wait_log("tern broker ready", 30)

    def addr(self, i):
        return "127.0.0.1:%d" % self.replicas[i]["port"]

    def leader(self):
        value = self.etcd.get(PREFIX + "leader")
        return json.loads(value) if value else None

    def wait_leader(self, timeout, other_than=None):
        found = []

        def elected():
            try:
                rec = self.leader()
            except Exception:
                return False
            if rec and rec["brokerId"] != other_than:
                found.append(rec)
                return True
            return False
        assert wait_for(elected, timeout, 0.02), "no new master within %ss; etcd: %s\n%s" % (
            timeout, self.etcd.get_prefix(PREFIX), self.logs())
        return found[-1]

    def wait_in_sync(self, members, timeout):
        def synced():
            s = self.etcd.get(PREFIX + "syncset")
            return s is not None and sorted(json.loads(s)["members"]) == sorted(members)
        assert wait_for(synced, timeout, 0.1), "in-sync set never became %s: %s\n%s" % (
            members, self.etcd.get_prefix(PREFIX), self.logs())

    def logs(self):
        return "\n".join("--- %s ---\n%s" % (p.log_path, tail(p.log_path, 40)) for p in self.procs)

    def close(self):
        for p in self.procs:
            p.kill9()
        self.etcd.stop()


def admin(h, *args):
    r = subprocess.run([h.binary, "admin"] + list(args), capture_output=True, timeout=60)
    assert r.returncode == 0, r
    return r.stdout.decode()


def start_load(h, g, topic, prefix):
    """A C++ producer sending sync, one after another, reporting each ack/fail; runs until killed."""
    p = h.producer(type("NS", (), {"namesrv": g.namesrv})(), timeout_ms=1500, deadline=170)
    p.send_cmd({"op": "load", "topic": topic, "prefix": prefix, "count": 1000000, "max_failures": 1000000})
    return p


def acks(p, start=0):
    with p.cond:
        return [e["body"] for e in p.events[start:] if e.get("event") == "ack"]


def wait_acks(p, n, timeout, start=0):
    assert wait_for(lambda: len(acks(p, start)) >= n, timeout, 0.02), "only %d acks after event %d:\n%s" % (
        len(acks(p, start)), start, p.logs())


def kill_master_and_measure(h, g, p, topic, wait_long_running=True):
    """kill -9 the master. Returns (old, new, seconds to the election, seconds to the first send acknowledged by a
    fresh client, seconds to the first ack of the long-running load client). A fresh client (started before the
    kill, no route cached) shows when the new master accepts sends; the load client also waits for its own
    route poll (the C++ client refreshes a route that still names a master only every 30 s)."""
    probe = h.producer(type("NS", (), {"namesrv": g.namesrv})(), timeout_ms=1000, deadline=120)
    old = g.leader()
    mark = len(p.events)
    t0 = time.time()
    g.replicas[old["brokerId"]]["proc"].kill9()
    new = g.wait_leader(15, other_than=old["brokerId"])
    elected = time.time() - t0
    assert new["epoch"] > old["epoch"], (old, new)
    probe_ack = None
    for n in range(200):
        body = "probe-%d-%d" % (new["epoch"], n)
        if h.send(probe, "sync", [{"topic": topic, "body": body, "keys": body}], timeout=10)[0].get("ok"):
            probe_ack = time.time() - t0
            g.probe_acks.append(body)
            break
    assert probe_ack is not None, "the new master acknowledged no send of a fresh client:\n" + probe.logs()
    probe.kill()
    if not wait_long_running:
        return old, new, elected, probe_ack, None
    wait_acks(p, 1, 60, start=mark)
    first_ack = time.time() - t0
    return old, new, elected, probe_ack, first_ack


def consume_all(h, g, topic, acked):
    acked = acked + g.probe_acks
    consumer = h.pull(type("NS", (), {"namesrv": g.namesrv})(), "PULL_" + topic, topic, expect=len(acked), deadline=120)
    consumer.expect("pulled", 130)
    got = {m["body"] for m in consumer.messages()}
    missing = [b for b in acked if b not in got]
    assert not missing, "%d acknowledged messages not consumable, e.g. %s" % (len(missing), missing[:5])


def setup_group(h):
    g = Group(h)
    first = g.wait_leader(30)
    g.wait_in_sync([1, 2, 3], 30)
    topic = "T_" + h.tag.replace("-", "_")
    # Topic configs are not synchronised to slaves yet: create the topic on every replica.
    for i in g.replicas:
        admin(h, "updateTopic", "-n", g.namesrv, "-b", g.addr(i), "-t", topic, "-r", "4", "-w", "4")
    return g, first, topic


def test_kill9_master_new_master_within_5s_no_acknowledged_loss(h):
    g, _, topic = setup_group(h)
    try:
        p = start_load(h, g, topic, "fo")
        wait_acks(p, 300, 90)
        old, new, elected, probe_ack, first_ack = kill_master_and_measure(h, g, p, topic)
        print("failover: new master (epoch %d, broker %d) elected %.2f s after kill -9; first send acknowledged %.2f s "
              "(fresh client), %.2f s (long-running client)" % (new["epoch"], new["brokerId"], elected, probe_ack, first_ack))
        # Goal < 5 s (README); 6 s here leaves room for a loaded CI machine.
        assert elected < 5 and probe_ack < 6, (elected, probe_ack)
        # The killed master restarts and follows the new one.
        g.start(old["brokerId"])
        g.wait_in_sync([1, 2, 3], 30)
        mark = len(p.events)
        wait_acks(p, 100, 60, start=mark)
        p.kill()
        consume_all(h, g, topic, acks(p))
    finally:
        g.close()


def test_repeated_failovers(h):
    rounds = int(os.environ.get("TERN_FAILOVER_ROUNDS", "3"))
    g, _, topic = setup_group(h)
    try:
        p = start_load(h, g, topic, "rf")
        wait_acks(p, 100, 90)
        times = []
        for _ in range(rounds):
            old, new, elected, probe_ack, _ = kill_master_and_measure(h, g, p, topic, wait_long_running=False)
            times.append((elected, probe_ack))
            g.start(old["brokerId"])
            g.wait_in_sync([1, 2, 3], 30)
        # The load client keeps going across every failover (after its own route poll).
        wait_acks(p, 50, 60, start=len(p.events))
        p.kill()
        consume_all(h, g, topic, acks(p))
        stats = [sorted(t[k] for t in times) for k in range(2)]
        print("%d failovers, median / max: election %.2f / %.2f s; first send acknowledged (fresh client) %.2f / %.2f s"
              % tuple([rounds] + [x for st in stats for x in (st[len(st) // 2], st[-1])]))
        assert stats[0][-1] < 5 and stats[1][-1] < 6, times
    finally:
        g.close()


def test_planned_switch_and_ha_status(h):
    """`tern admin electMaster` hands mastership to a chosen in-sync slave while the client keeps sending, losing
    nothing acknowledged; `haStatus` shows the epoch, master and in-sync set; a dead slave leaves the set."""
    g, first, topic = setup_group(h)
    etcd_args = ["--etcd", g.etcd.endpoint, "-c", CLUSTER, "-b", NAME]
    try:
        p = start_load(h, g, topic, "ps")
        wait_acks(p, 200, 90)
        status = admin(h, "haStatus", *etcd_args)
        assert "epoch %d, master broker %d" % (first["epoch"], first["brokerId"]) in status, status
        assert "in-sync set: [1, 2, 3]" in status, status
        target = [i for i in g.replicas if i != first["brokerId"]][-1]
        t0 = time.time()
        out = admin(h, "electMaster", *(etcd_args + ["--replica", str(target)]))
        print("planned switch to broker %d took %.2f s: %s" % (target, time.time() - t0, out.strip()))
        assert g.leader()["brokerId"] == target
        wait_acks(p, 100, 60, start=len(p.events))
        # A slave that dies leaves the in-sync set once its lease lapses; the group keeps acknowledging.
        dead = [i for i in g.replicas if i not in (target,)][0]
        g.replicas[dead]["proc"].kill9()
        g.wait_in_sync(sorted(i for i in g.replicas if i != dead), 20)
        wait_acks(p, 50, 60, start=len(p.events))
        status = admin(h, "haStatus", *etcd_args)
        assert "master broker %d" % target in status, status
        p.kill()
        consume_all(h, g, topic, acks(p))
    finally:
        g.close()
