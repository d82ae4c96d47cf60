"""Replication between `tern broker` processes: a SYNC_MASTER streams its commit log to a SLAVE (RocketMQ's HA
protocol); every send the official C++ client saw acknowledged survives `kill -9` of the master and is consumed
from the slave; both commit logs are byte-identical (`tern-inspect compare`)."""
import json
import os
import signal
import socket
import struct
import subprocess
import time

from harness import assert_exact, free_port, tail, wait_for


class Process:
    """One `tern` subcommand with its log file; killed at teardown."""

    def __init__(self, binary, workdir, name, args):
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = subprocess.Popen([binary] + args, stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=workdir)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout):
        assert wait_for(lambda: text in self.log(), timeout, 0.1), "no %r in:\n%s" % (text, tail(self.log_path, 60))

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


def broker_conf(path, namesrv, broker_id, role, ha_port):
    with open(path, "w") as f:
        f.write("\n".join([
            "brokerClusterName=ReplCluster", "brokerName=broker-repl", "brokerId=%d" % broker_id,
            "brokerRole=%s" % role, "namesrvAddr=%s" % namesrv, "haListenPort=%d" % ha_port,
            "mappedFileSizeCommitLog=1048576", "maxMessageSize=65536", "haSendHeartbeatInterval=500", "slaveReadEnable=true",
            "flushDiskType=ASYNC_FLUSH", "",
        ]))
    return path


def remoting(port, code, ext=None):
    """One RocketMQ remoting request (JSON header) to 127.0.0.1:port: (response code, decoded JSON body or None)."""
    header = json.dumps({"code": code, "language": "JAVA", "version": 0, "opaque": 1, "flag": 0,
                         "extFields": ext or {}}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(struct.pack(">II", 4 + len(header), len(header)) + header)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
            chunk = s.recv(65536)
            assert chunk, "broker closed the connection"
            data += chunk
    header_len = struct.unpack(">I", data[4:8])[0] & 0xFFFFFF
    answer, body = json.loads(data[8:8 + header_len]), data[8 + header_len:].rstrip(b"\0")
    return answer["code"], json.loads(body) if body else None


def test_sync_master_kill9_every_acked_message_consumable_from_slave(h):
    ns_port, master_port, slave_port = free_port(), free_port(), free_port()
    namesrv = "127.0.0.1:%d" % ns_port
    procs = []
    try:
        ns = Process(h.binary, h.workdir, "namesrv", ["namesrv", "--port", str(ns_port)])
        procs.append(ns)
        ns.wait_log("ready", 20)
        master_store, slave_store = os.path.join(h.workdir, "master"), os.path.join(h.workdir, "slave")
        master = Process(h.binary, h.workdir, "master", [
            "broker", "-c", broker_conf(os.path.join(h.workdir, "master.conf"), namesrv, 0, "SYNC_MASTER", free_port()),
            "--store", master_store, "--broker-port", str(master_port)])
        procs.append(master)
        master.wait_log("tern broker ready", 30)
        slave = Process(h.binary, h.workdir, "slave", [
            "broker", "-c", broker_conf(os.path.join(h.workdir, "slave.conf"), namesrv, 1, "SLAVE", free_port()),
            "--store", slave_store, "--broker-port", str(slave_port)])
        procs.append(slave)
        slave.wait_log("tern broker ready", 30)
        # The slave learns the master's HA address from its registration answer, then connects.
        slave.wait_log("connected to master", 30)

        topic = "T_" + h.tag.replace("-", "_")
        p = h.producer(type("NS", (), {"namesrv": namesrv})())
        msgs = h.make(topic, "rp", 600)
        for m in msgs:
            m["body"] += "-" + "x" * 3000  # ~1.9 MB: the 1 MiB segments roll twice

        results = h.send(p, "sync", msgs, timeout=120)
        # SEND_OK only: a SYNC_MASTER answers it once the slave acknowledged the record.
        acked = [m["body"] for m, r in zip(msgs, results) if r.get("ok")]
        assert len(acked) == len(msgs), [r for r in results if not r.get("ok")][:5]

        # Metadata sync (every 10 s): the topic created and an offset committed on the master reach the slave.
        code, _ = remoting(master_port, 15, {"consumerGroup": "SYNCED_GROUP", "topic": topic, "queueId": "3",
                                             "commitOffset": "42"})
        assert code == 0
        assert wait_for(lambda: topic in (remoting(slave_port, 21)[1] or {}).get("topicConfigTable", {}), 25, 0.2)
        offsets = lambda: (remoting(slave_port, 43)[1] or {}).get("offsetTable", {})  # noqa: E731
        assert wait_for(lambda: offsets().get(topic + "@SYNCED_GROUP", {}).get("3") == 42, 25, 0.2), offsets()
        # The master's epoch history and in-sync set (GET_BROKER_EPOCH_CACHE): the caught-up slave is a member.
        code, cache = remoting(master_port, 1007)
        assert code == 0 and cache["maxOffset"] > 0 and len(cache["syncStateSet"]) == 1, cache
        master.kill9()

        consumer = h.pull(type("NS", (), {"namesrv": namesrv})(), "PULL_" + topic, topic, expect=len(acked),
                          deadline=150)
        consumer.expect("pulled", 160)
        got = [m["body"] for m in consumer.messages() if m["body"].startswith("rp-")]
        assert_exact([b for b in got if b in set(acked)], acked, "acknowledged sends consumed from the slave")

        for proc in procs:
            proc.stop()
        # Both logs byte-compared by `tern-inspect compare` (stores unlocked now): equal, and the slave holds all
        # the master wrote (two 1 MiB segments rolled).
        inspect = os.path.join(os.path.dirname(h.binary), "tern-inspect")
        r = subprocess.run([inspect, "compare", master_store, slave_store, "--json"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        result = json.loads(r.stdout)
        assert result["from"] == 0 and result["to"] == result["a"]["end"] == result["b"]["end"] > 1048576, result
    finally:
        for proc in procs:
            proc.kill9()
