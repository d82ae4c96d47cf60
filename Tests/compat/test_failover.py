"""Automatic failover (controller mode): three `tern broker` replicas of one brokerName elect their master through
a real etcd. The official C++ client sends sync to the SYNC_MASTER; `kill -9` of the master elects another within
seconds (measured and printed), every acknowledged message is consumable afterwards, and the killed master comes
back as a slave that follows the new one."""
import json
import os
import subprocess
import time

import pytest

from harness import Etcd, free_port, tail, wait_for
from test_replication import Process

CLUSTER, NAME = "FoCluster", "broker-fo"
PREFIX = "/tern/%s/%s/" % (CLUSTER, NAME)


class Group:
    """etcd + one name server + `n` controller-mode replicas (brokerId 1..n), restartable on their ports/stores."""

    def __init__(self, h, n=3, host="127.0.0.1", prefixes=None, ips=None, role="SYNC_MASTER", extra=()):
        """`prefixes[i]`: a command prefix for replica i (`ip netns exec NS`), `ips[i]` its brokerIP1; etcd and
        the name server listen on `host`; `extra`: more `key=value` config lines for every replica."""
        self.h = h
        self.procs = []
        self.prefixes = prefixes or {}
        self.ips = ips or {}
        self.etcd = Etcd(os.path.join(h.workdir, "etcd"), host)
        ns_port = free_port()
        self.namesrv = "%s:%d" % (host, ns_port)
        self.ns = self._spawn("namesrv", ["namesrv", "--port", str(ns_port), "--host", host])
        self.ns.wait_log("ready", 20)
        self.replicas = {}
        self.starts = 0
        self.probe_acks = []
        self.n = n
        self.role = role
        self.extra = list(extra)

    def add_all(self):
        for i in range(1, self.n + 1):
            self.add(i)

    def add(self, i):
        port, ha_port = free_port(), free_port()
        conf = os.path.join(self.h.workdir, "b%d.conf" % i)
        with open(conf, "w") as f:
            f.write("\n".join([
                "brokerClusterName=" + CLUSTER, "brokerName=" + NAME, "brokerId=%d" % i, "brokerRole=" + self.role,
                "namesrvAddr=" + self.namesrv, "haListenPort=%d" % ha_port, "enableControllerMode=true",
                "etcdEndpoints=" + self.etcd.endpoint, "controllerLeaseTtlSeconds=3",
                "mappedFileSizeCommitLog=1048576", "maxMessageSize=65536", "haSendHeartbeatInterval=500",
                "flushDiskType=ASYNC_FLUSH", "autoCreateTopicEnable=true", "brokerIP1=" + self.ips.get(i, "127.0.0.1"),
            ] + self.extra + [""]))
        self.replicas[i] = {"port": port, "conf": conf, "store": os.path.join(self.h.workdir, "store%d" % i), "proc": None,
                            "ha": "%s:%d" % (self.ips.get(i, "127.0.0.1"), ha_port)}
        self.start(i)

    def _spawn(self, name, args, prefix=None):
        p = Process(prefix[0], self.h.workdir, name, prefix[1:] + [self.h.binary] + args) if prefix else \
            Process(self.h.binary, self.h.workdir, name, args)
        self.procs.append(p)
        return p

    def start(self, i):
        r = self.replicas[i]
        self.starts += 1
        r["proc"] = self._spawn("b%d-%d" % (i, self.starts), [
            "broker", "-c", r["conf"], "--store", r["store"], "--broker-port", str(r["port"])], self.prefixes.get(i))
        r["proc"].wait_log("tern broker ready", 30)

    def addr(self, i):
        return "%s:%d" % (self.ips.get(i, "127.0.0.1"), self.replicas[i]["port"])

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
        """The set the current master published (a new master starts with itself alone: its slaves join once
        their HA links caught up) has `members`."""
        def synced():
            s, rec = self.etcd.get(PREFIX + "syncset"), self.leader()
            return s is not None and rec is not None and json.loads(s)["epoch"] == rec["epoch"] \
                and sorted(json.loads(s)["members"]) == sorted(members)
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


def start_load(h, g, topic, prefix, deadline=170):
    """A C++ producer sending sync, one after another, reporting each ack/fail; runs until killed (or `deadline` s)."""
    p = h.producer(type("NS", (), {"namesrv": g.namesrv})(), timeout_ms=1500, deadline=deadline)
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
    n = 0
    # Bounded by time, not attempts: "No route info" fails in milliseconds while the route is being replaced.
    while probe_ack is None and time.time() < t0 + 30:
        n += 1
        body = "probe-%d-%d" % (new["epoch"], n)
        if h.send(probe, "sync", [{"topic": topic, "body": body, "keys": body}], timeout=10)[0].get("ok"):
            probe_ack = time.time() - t0
            g.probe_acks.append(body)
        else:
            time.sleep(0.05)
    assert probe_ack is not None, "the new master acknowledged no send of a fresh client:\n" + probe.logs()
    probe.kill()
    if not wait_long_running:
        return old, new, elected, probe_ack, None
    # The C++ client may keep a stale route (up to its 30 s poll) or, seen in CI, fail "No route info" for
    # longer: its recovery is reported, not asserted.
    first_ack = time.time() - t0 if wait_for(lambda: len(acks(p, mark)) >= 1, 40, 0.02) else None
    return old, new, elected, probe_ack, first_ack


def consume_all(h, g, topic, acked):
    acked = acked + g.probe_acks
    consumer = h.pull(type("NS", (), {"namesrv": g.namesrv})(), "PULL_" + topic, topic, expect=len(acked), deadline=120)
    consumer.expect("pulled", 130)
    got = {m["body"] for m in consumer.messages()}
    missing = [b for b in acked if b not in got]
    assert not missing, "%d acknowledged messages not consumable, e.g. %s" % (len(missing), missing[:5])


def setup_group(h, extra=()):
    g = Group(h, extra=extra)
    g.add_all()
    first = g.wait_leader(30)
    g.wait_in_sync([1, 2, 3], 30)
    topic = "T_" + h.tag.replace("-", "_")
    for i in g.replicas:
        create_topic(h, g, topic, i)
    return g, first, topic


def create_topic(h, g, topic, i):
    """Created on every replica (again after each restart) so that the load can start at once: slaves copy the
    master's topic table only at their next metadata sync (test_failover_roles.py covers that path)."""
    admin(h, "updateTopic", "-n", g.namesrv, "-b", g.addr(i), "-t", topic, "-r", "4", "-w", "4")


@pytest.mark.parametrize("all_ack", [False, True], ids=["best-slave", "allAckInSyncStateSet"])
def test_kill9_master_new_master_within_5s_no_acknowledged_loss(h, all_ack):
    """With `allAckInSyncStateSet=true` a SYNC send waits for every in-sync member (the set the master's HA links
    acknowledge), so any member the next election picks holds every acknowledged record."""
    g, _, topic = setup_group(h, extra=["allAckInSyncStateSet=true"] if all_ack else [])
    try:
        p = start_load(h, g, topic, "fo")
        wait_acks(p, 300, 90)
        old, new, elected, probe_ack, first_ack = kill_master_and_measure(h, g, p, topic)
        print("failover: new master (epoch %d, broker %d) elected %.2f s after kill -9; first send acknowledged %.2f s "
              "(fresh client), %s (long-running client)" % (new["epoch"], new["brokerId"], elected, probe_ack,
                                                            "%.2f s" % first_ack if first_ack else "none within 40 s"))
        # Goal < 5 s (README); 6 s here leaves room for a loaded CI machine.
        assert elected < 5 and probe_ack < 6, (elected, probe_ack)
        # The killed master restarts and follows the new one; a new client sends on.
        g.start(old["brokerId"])
        create_topic(h, g, topic, old["brokerId"])
        g.wait_in_sync([1, 2, 3], 30)
        # One epoch history, durable beside each log: the new master began its epoch there, and the rejoined
        # old master adopted it after cutting its log to the divergence point.
        histories = {i: open(os.path.join(g.replicas[i]["store"], "epochs")).read() for i in g.replicas}
        assert "\n%d " % new["epoch"] in histories[new["brokerId"]], histories
        assert histories[old["brokerId"]] == histories[new["brokerId"]], histories
        after = start_load(h, g, topic, "fo2")
        wait_acks(after, 100, 60)
        p.kill()
        after.kill()
        consume_all(h, g, topic, acks(p) + acks(after))
    finally:
        g.close()


@pytest.mark.timeout(900)
def test_repeated_failovers(h):
    """Ten kill -9 failovers in one group (TERN_FAILOVER_ROUNDS to change), each killed master back as a slave
    that rejoins the in-sync set before the next kill; nothing acknowledged is lost over all of them."""
    rounds = int(os.environ.get("TERN_FAILOVER_ROUNDS", "10"))
    g, _, topic = setup_group(h)
    try:
        p = start_load(h, g, topic, "rf", deadline=60 + 40 * rounds)
        wait_acks(p, 100, 90)
        times = []
        for _ in range(rounds):
            old, new, elected, probe_ack, _ = kill_master_and_measure(h, g, p, topic, wait_long_running=False)
            times.append((elected, probe_ack))
            g.start(old["brokerId"])
            create_topic(h, g, topic, old["brokerId"])
            g.wait_in_sync([1, 2, 3], 30)
        after = start_load(h, g, topic, "rf2")
        wait_acks(after, 50, 60)
        p.kill()
        after.kill()
        consume_all(h, g, topic, acks(p) + acks(after))
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
        # The third replica's HA link leaves the old master at once (nothing from it is applied after the switch)
        # and follows the new one, instead of staying on the old master, which now relays the new one's bytes.
        third = [i for i in g.replicas if i not in (first["brokerId"], target)][0]
        proc = g.replicas[third]["proc"]
        old_link, new_link = ["ha.master=" + g.replicas[i]["ha"] for i in (first["brokerId"], target)]

        def lines(text, link):
            return [n for n, line in enumerate(proc.log().splitlines()) if text in line and link in line]
        assert wait_for(lambda: lines("connected to master", new_link), 5, 0.05), tail(proc.log_path, 60)
        closed = lines("closing the link", old_link)
        assert closed and closed[0] < lines("connected to master", new_link)[0], tail(proc.log_path, 60)
        # A client that cached the old master's route recovers at its route poll; a new one sends at once.
        after = start_load(h, g, topic, "ps2")
        wait_acks(after, 100, 60)
        # A slave that dies leaves the in-sync set once its lease lapses; the group keeps acknowledging.
        dead = [i for i in g.replicas if i not in (target,)][0]
        g.replicas[dead]["proc"].kill9()
        g.wait_in_sync(sorted(i for i in g.replicas if i != dead), 20)
        wait_acks(after, 50, 60, start=len(after.events))
        status = admin(h, "haStatus", *etcd_args)
        assert "master broker %d" % target in status, status
        p.kill()
        after.kill()
        consume_all(h, g, topic, acks(p) + acks(after))
    finally:
        g.close()


class Netns:
    """A network namespace joined to the host by a veth pair: host side `host_ip`, namespace side `ns_ip`.
    `cut()` / `heal()` take the host end down / up: the namespace keeps talking to itself, nothing else."""

    def __init__(self):
        n = os.getpid() % 10000
        self.name, self.host_dev, self.ns_dev = "tfo%d" % n, "tfoh%d" % n, "tfon%d" % n
        self.host_ip, self.ns_ip = "10.231.%d.1" % (n % 250), "10.231.%d.2" % (n % 250)
        self.run("ip", "netns", "add", self.name)
        self.run("ip", "link", "add", self.host_dev, "type", "veth", "peer", "name", self.ns_dev)
        self.run("ip", "link", "set", self.ns_dev, "netns", self.name)
        self.run("ip", "addr", "add", self.host_ip + "/24", "dev", self.host_dev)
        self.run("ip", "link", "set", self.host_dev, "up")
        self.run(*self.exec_prefix(), "ip", "addr", "add", self.ns_ip + "/24", "dev", self.ns_dev)
        self.run(*self.exec_prefix(), "ip", "link", "set", self.ns_dev, "up")
        self.run(*self.exec_prefix(), "ip", "link", "set", "lo", "up")

    @staticmethod
    def run(*args):
        r = subprocess.run(list(args), capture_output=True, timeout=10)
        assert r.returncode == 0, (args, r)

    def exec_prefix(self):
        return ["ip", "netns", "exec", self.name]

    def cut(self):
        self.run("ip", "link", "set", self.host_dev, "down")

    def heal(self):
        self.run("ip", "link", "set", self.host_dev, "up")

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "del", self.host_dev], capture_output=True, timeout=10)


def netns_producer(h, net, namesrv):
    """A C++ producer agent inside the namespace (the agent runs `sys.executable`: point it at a wrapper)."""
    import sys
    wrapper = os.path.join(h.workdir, "python-in-netns")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec %s %s \"$@\"\n" % (" ".join(net.exec_prefix()), sys.executable))
    os.chmod(wrapper, 0o755)
    real = sys.executable
    sys.executable = wrapper
    try:
        return h.producer(type("NS", (), {"namesrv": namesrv})(), timeout_ms=1000, deadline=170)
    finally:
        sys.executable = real


@pytest.mark.parametrize("role", ["SYNC_MASTER", "ASYNC_MASTER"])
def test_partitioned_master_stops_acknowledging_before_another_is_elected(h, role):
    """The master alone in a network namespace with a client: cut off from etcd and the slaves, it stops
    acknowledging before the other side elects; after healing it truncates and rejoins. SYNC_MASTER: its
    acknowledgements stop with the slaves' acks, and nothing acknowledged is lost. ASYNC_MASTER acknowledges
    without slaves, so only the lease fence stops it (what it acknowledged after the cut is lost by design)."""
    if os.geteuid() != 0 or subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        pytest.skip("needs root and ip netns")
    net = Netns()
    g = None
    try:
        # Replicas 2 and 3 advertise the host end of the veth pair: the namespace reaches them there after healing.
        g = Group(h, host=net.host_ip, prefixes={1: net.exec_prefix()},
                  ips={1: net.ns_ip, 2: net.host_ip, 3: net.host_ip}, role=role)
        g.add(1)
        assert g.wait_leader(30)["brokerId"] == 1
        g.add(2)
        g.add(3)
        g.wait_in_sync([1, 2, 3], 30)
        topic = "T_" + h.tag.replace("-", "_")
        for i in g.replicas:
            create_topic(h, g, topic, i)
        inside = netns_producer(h, net, g.namesrv)
        inside.send_cmd({"op": "load", "topic": topic, "prefix": "in", "count": 1000000, "max_failures": 1000000})
        wait_acks(inside, 200, 90)

        net.cut()
        t0 = time.time()
        last_count, last_ack_at, elected_at = len(acks(inside)), t0, None
        while time.time() < t0 + 20:
            count = len(acks(inside))
            if count != last_count:
                last_count, last_ack_at = count, time.time()
            if elected_at is None:
                rec = g.leader()
                if rec and rec["brokerId"] != 1:
                    elected_at = time.time()
            elif time.time() > elected_at + 2:
                break
            time.sleep(0.01)
        assert elected_at is not None, "no master elected on the majority side\n" + g.logs()
        print("partition: the isolated master's last acknowledgement %.2f s after the cut, new master elected %.2f s"
              " after it" % (last_ack_at - t0, elected_at - t0))
        assert last_ack_at < elected_at, (last_ack_at - t0, elected_at - t0)
        if role == "ASYNC_MASTER":
            # It kept acknowledging after the cut until its fence closed (TTL 3 s - margin 1 s after its last renewal).
            assert last_ack_at - t0 > 0.5, last_ack_at - t0
            assert "stepped down" in g.replicas[1]["proc"].log()

        probe = h.producer(type("NS", (), {"namesrv": g.namesrv})(), timeout_ms=1000, deadline=120)
        assert wait_for(lambda: h.send(probe, "sync", [{"topic": topic, "body": "probe-p", "keys": "probe-p"}],
                                       timeout=10)[0].get("ok"), 30, 0.1)
        g.probe_acks.append("probe-p")
        net.heal()
        g.wait_in_sync([1, 2, 3], 40)
        inside.kill()
        acked = acks(inside)
        if role == "SYNC_MASTER":
            consume_all(h, g, topic, acked)
        else:
            consume_all(h, g, topic, acked[:150] + g.probe_acks[-1:])  # acknowledged before the cut
    finally:
        if g:
            g.close()
        net.close()


def test_no_eligible_replica_means_no_master(h):
    """Only in-sync replicas may be elected: after both slaves died (the set shrank to the master alone) and then
    the master, the restarted slaves do not elect one of themselves (they may lack acknowledged records);
    `haStatus` says NO MASTER; the old master's return elects it, and the slaves follow it."""
    g, first, topic = setup_group(h)
    etcd_args = ["--etcd", g.etcd.endpoint, "-c", CLUSTER, "-b", NAME]
    try:
        master = first["brokerId"]
        slaves = [i for i in g.replicas if i != master]
        for s in slaves:
            g.replicas[s]["proc"].kill9()
        g.wait_in_sync([master], 20)
        g.replicas[master]["proc"].kill9()
        for s in slaves:
            g.start(s)
        assert wait_for(lambda: g.leader() is None, 10, 0.1)
        time.sleep(3)  # a whole lease TTL with two live replicas and no master
        assert g.leader() is None, g.leader()
        status = admin(h, "haStatus", *etcd_args)
        assert "NO MASTER" in status and "may be elected: %d" % master in status, status
        g.start(master)
        back = g.wait_leader(15)
        assert back["brokerId"] == master and back["epoch"] == first["epoch"] + 1, back
        g.wait_in_sync([1, 2, 3], 30)
    finally:
        g.close()
