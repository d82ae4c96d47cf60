"""Harness for the real-client suite: a `tern standalone` process per test and client agents in subprocesses.

Nothing here loads librocketmq; agents (scenarios.py) do, one process each, under a deadline.
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios.py")
MARK = "@@ "


_handed_ports = set()
_port_random = random.Random(os.getpid() ^ time.time_ns())


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A port nothing listens on, below the kernel's ephemeral range and never handed out before in this run.

    A port the kernel picked for a bind to 0 is an ephemeral port: between this call and the server's bind, any
    outgoing connection (a client, a broker registering) may take it as its local port, and the server's bind then
    fails ("Address already in use"). Ports below the ephemeral range are never assigned that way. The bind check
    runs without SO_REUSEADDR, so a port with a connection still in TIME-WAIT is skipped too.
    """
    low = 20000
    high = min(_ephemeral_range()[0], 32768)
    for _ in range(500):
        port = _port_random.randrange(low, high) if high - low > 1000 else 0
        if port in _handed_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            port = s.getsockname()[1]
        _handed_ports.add(port)
        return port
    raise RuntimeError("free_port: no free port below the ephemeral range")


def wait_for(pred, timeout, step=0.05):
    end = time.time() + timeout
    while True:
        if pred():
            return True
        if time.time() >= end:
            return False
        time.sleep(step)


def tail(path, lines=120):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return "(no log: %s)" % exc
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


class Broker:
    """`tern standalone` on free ports over one store directory; restartable on the same ports and store."""

    def __init__(self, binary, workdir, conf=None, http_port=None):
        self.binary = binary
        self.http_port = http_port
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.store = os.path.join(workdir, "store")
        self.namesrv_port = free_port()
        self.broker_port = free_port()
        self.conf_path = os.path.join(workdir, "broker.conf")
        # 64 MiB segments: each store preallocates (fallocate) its segment and prepares the next one, and a
        # run starts ~25 brokers; RocketMQ's 1 GiB default would take tens of GB of a CI disk.
        # The HA port is chosen like the others: its default (listenPort + 1) may be some connection's local port.
        settings = {"autoCreateTopicEnable": "true", "autoCreateSubscriptionGroup": "true",
                    "mappedFileSizeCommitLog": str(64 << 20), "haListenPort": str(free_port())}
        settings.update(conf or {})
        with open(self.conf_path, "w") as f:
            for k, v in settings.items():
                f.write("%s=%s\n" % (k, v))
        self.proc = None
        self.runs = 0
        self.exit_codes = []

    @property
    def namesrv(self):
        return "127.0.0.1:%d" % self.namesrv_port

    @property
    def log_path(self):
        return os.path.join(self.workdir, "tern-%d.log" % self.runs)

    def start(self, timeout=20):
        assert self.proc is None, "broker already running"
        self.runs += 1
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "standalone", "-c", self.conf_path, "--store", self.store,
             "--namesrv-port", str(self.namesrv_port), "--broker-port", str(self.broker_port)]
            + (["--http-port", str(self.http_port)] if self.http_port else []),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                return True
            with open(self.log_path, "rb") as f:
                if b"ready" not in f.read():
                    return False
            return self._accepts(self.namesrv_port) and self._accepts(self.broker_port)

        ok = wait_for(ready, timeout, 0.05)
        if self.proc.poll() is not None:
            code = self.proc.returncode
            self.proc = None
            raise AssertionError("tern exited with %s during startup:\n%s" % (code, tail(self.log_path)))
        if not ok:
            raise AssertionError("tern not ready after %ss:\n%s" % (timeout, tail(self.log_path)))
        return self

    @staticmethod
    def _accepts(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self, timeout=15):
        """SIGTERM; returns the exit code (None and a kill -9 if it did not exit in time)."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self.exit_codes.append(code)
        self.proc = None
        return code

    def kill9(self):
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.exit_codes.append("SIGKILL")
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def logs(self):
        parts = []
        for run in range(1, self.runs + 1):
            path = os.path.join(self.workdir, "tern-%d.log" % run)
            parts.append("--- tern run %d (%s) ---\n%s" % (run, path, tail(path, 150)))
        return "\n".join(parts)


class Agent:
    """One client process (scenarios.py); events are the "@@ " JSON lines it prints."""

    def __init__(self, harness, kind, cfg, name):
        self.name = name
        self.kind = kind
        self.home = os.path.join(harness.workdir, "agent-" + name)
        os.makedirs(self.home, exist_ok=True)
        env = dict(os.environ)
        # Native logs (~/logs/rocketmq-cpp) and broadcast offset files (~/.rocketmq_offsets) stay per agent.
        env["HOME"] = self.home
        env["PYTHONUNBUFFERED"] = "1"
        self.stderr_path = os.path.join(self.home, "stderr.log")
        self.events = []
        self.other = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, SCENARIOS, kind, json.dumps(cfg)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"),
            cwd=self.home, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                if line.startswith(MARK):
                    self.events.append(json.loads(line[len(MARK):]))
                else:
                    self.other.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_event(self, pred, timeout, start=0):
        """Waits for an event matching pred (from index `start`); returns it or None."""
        end = time.time() + timeout
        with self.cond:
            while True:
                for e in self.events[start:]:
                    if pred(e):
                        return e
                if self.proc.poll() is not None and not self.reader.is_alive():
                    return None
                left = end - time.time()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))

    def expect(self, name, timeout):
        e = self.wait_event(lambda e: e.get("event") in (name, "crash", "deadline"), timeout)
        assert e is not None, "%s: no %r event within %ss (%d messages so far)" % (
            self.name, name, timeout, len(self.messages()))
        assert e["event"] == name, "%s: %r (%d messages so far)" % (self.name, e, len(self.messages()))
        return e

    def send_cmd(self, obj):
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def messages(self):
        with self.cond:
            return [e for e in self.events if e.get("event") == "msg"]

    def stop(self, timeout=20):
        """Asks the agent to shut its client down cleanly; kills it if it does not."""
        if self.proc.poll() is None:
            try:
                self.send_cmd({"op": "quit"} if self.kind == "producer" else "stop")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def logs(self):
        native = []
        logdir = os.path.join(self.home, "logs", "rocketmq-cpp")
        if os.path.isdir(logdir):
            for fn in sorted(os.listdir(logdir)):
                path = os.path.join(logdir, fn)
                with open(path, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
                # Problems first (minus the credentials warning every route refresh logs), then the tail.
                problems = [x for x in lines if ("(error)" in x or "(warning)" in x) and "session_credentials" not in x]
                native.append("  [native %s: %d error/warning lines, last 25]\n%s\n  [native %s: tail]\n%s" % (
                    fn, len(problems), "\n".join(problems[-25:]), fn, "\n".join(lines[-15:])))
        evs = [json.dumps(e, sort_keys=True) for e in self.events if e.get("event") != "msg"]
        return "--- agent %s (%s) exit=%s msgs=%d ---\nevents: %s\nstdout(other): %s\nstderr:\n%s\n%s" % (
            self.name, self.kind, self.proc.poll(), len(self.messages()), evs[-30:],
            self.other[-20:], tail(self.stderr_path, 40), "\n".join(native))


class Harness:
    """Per-test state: brokers and agents, stopped at teardown, logged on failure."""

    def __init__(self, binary, workdir, test_name):
        self.binary = binary
        self.workdir = workdir
        # Topic and group names allow [A-Za-z0-9_-] only (parametrized test names carry brackets).
        base = re.sub(r"[^A-Za-z0-9]+", "_", test_name.replace("test_", ""))[:24]
        self.tag = "%s-%d%d" % (base, os.getpid() % 10000, int(time.time()) % 100000)
        self.brokers = []
        self.agents = []
        self.notes = []

    # -- processes

    def broker(self, conf=None, http_port=None):
        b = Broker(self.binary, os.path.join(self.workdir, "broker%d" % len(self.brokers)), conf, http_port)
        self.brokers.append(b)
        return b.start()

    def _agent(self, kind, broker, cfg, wait_started):
        cfg.setdefault("namesrv", broker.namesrv)
        a = Agent(self, kind, cfg, "%s%d" % (kind, len(self.agents)))
        self.agents.append(a)
        if wait_started:
            a.expect("started", 30)
        return a

    def producer(self, broker, **cfg):
        cfg.setdefault("group", "P_" + self.tag)
        return self._agent("producer", broker, cfg, True)

    def push(self, broker, group, topic, **cfg):
        cfg.update(group=group, topic=topic)
        cfg.setdefault("deadline", 240)
        return self._agent("push", broker, cfg, True)

    def pull(self, broker, group, topic, **cfg):
        cfg.update(group=group, topic=topic)
        return self._agent("pull", broker, cfg, False)

    def setup(self, conf=None, warm=True, **producer_cfg):
        """Broker, a topic name unique to the test, and a started producer (which created the topic if warm)."""
        b = self.broker(conf)
        topic = "T_" + self.tag.replace("-", "_")
        p = self.producer(b, **producer_cfg)
        if warm:
            warm_topic(self, p, topic)
        return b, topic, p

    def close(self):
        for n in self.notes:
            print("note:", n)
        for a in self.agents:
            a.kill()
        for b in self.brokers:
            if b.alive():
                b.stop()

    def report(self):
        out = ["workdir: " + self.workdir] + self.notes
        out += [b.logs() for b in self.brokers]
        out += [a.logs() for a in self.agents]
        return "\n".join(out)

    # -- producing

    def send(self, producer, mode, msgs, timeout=60):
        start = len(producer.events)
        producer.send_cmd({"op": "send", "mode": mode, "msgs": msgs})
        e = producer.wait_event(lambda e: e.get("event") in ("sent", "crash", "deadline"), timeout, start)
        assert e is not None, "producer gave no answer to a %s send of %d messages in %ss" % (mode, len(msgs), timeout)
        assert e["event"] == "sent", e
        return e["results"]

    def send_ok(self, producer, mode, msgs, timeout=60):
        results = self.send(producer, mode, msgs, timeout)
        bad = [(m["body"][:40], r) for m, r in zip(msgs, results) if not r.get("ok")]
        assert not bad, "%s send failed: %s" % (mode, bad[:5])
        return results

    def make(self, topic, prefix, n, **fields):
        return [dict(fields, topic=topic, body="%s-%04d" % (prefix, i)) for i in range(n)]

    # -- consumer readiness

    def wait_ready(self, producer, topic, consumers, mode="split", tags=None, timeout=45):
        """Sends rounds of probe messages until the consumers demonstrably consume every queue.

        split: each probe of one round reached exactly one consumer and every consumer got some (clustering
        rebalance settled). all: every consumer got every probe (broadcasting). Where a new group starts
        (first or last offset) then no longer matters: payload is sent after this returns."""
        started = time.time()
        end = started + timeout
        rnd = 0
        history = []
        while time.time() < end:
            rnd += 1
            bodies = ["probe-%s-r%d-%d" % (self.tag, rnd, i) for i in range(8)]
            self.send_ok(producer, "sync", [{"topic": topic, "body": b, "tags": tags} for b in bodies])
            want = set(bodies)

            def counts():
                per = []
                for c in consumers:
                    got = [m["body"] for m in c.messages() if m["body"] in want]
                    per.append(got)
                return per

            def settled():
                per = counts()
                if mode == "all":
                    return all(set(p) == want for p in per)
                flat = [b for p in per for b in p]
                return sorted(flat) == sorted(want) and all(per)

            if wait_for(settled, 6.0, 0.1):
                self.notes.append("ready after %d probe round(s), %.1fs" % (rnd, timeout - (end - time.time())))
                time.sleep(0.3)
                return rnd
            history.append([len(p) for p in counts()])
            if time.time() - started > 25 and not any(c.messages() for c in consumers):
                break  # nothing at all after two rebalance periods (10 s each): the consumer path is broken
        raise AssertionError("consumers not ready after %d probe rounds (%.0fs); probes seen per consumer per round: %s"
                             % (rnd, time.time() - started, history))

    @staticmethod
    def bodies(consumer, prefix):
        return [m["body"] for m in consumer.messages() if m["body"].startswith(prefix)]

    def collect(self, consumers, prefix, expected, timeout=30, grace=1.5):
        """Waits until the consumers together saw every expected body, then a grace period for extras."""
        expected = set(expected)
        wait_for(lambda: set(b for c in consumers for b in self.bodies(c, prefix)) >= expected, timeout, 0.1)
        time.sleep(grace)
        return [self.bodies(c, prefix) for c in consumers]


def warm_topic(h, producer, topic, n=8):
    """First sends auto-create the topic so consumers started afterwards find its route at once."""
    h.send_ok(producer, "sync", [{"topic": topic, "body": "warmup-%d" % i} for i in range(n)])


def assert_exact(got, expected, what):
    """got: list of bodies (duplicates count); expected: iterable of distinct bodies."""
    expected = set(expected)
    missing = sorted(expected - set(got))
    extra = sorted(set(got) - expected)
    dups = sorted(b for b in set(got) if got.count(b) > 1)
    assert not missing and not extra and not dups, "%s: %d expected, %d received; missing %d %s; unexpected %s; duplicated %s" % (
        what, len(expected), len(got), len(missing), missing[:8], extra[:8], dups[:8])


class Etcd:
    """A single-member `etcd` (Debian's etcd-server) on free loopback ports with its own data dir; the JSON
    gateway answers `get`/`get_prefix`. Controller-mode brokers point `etcdEndpoints` at `endpoint`."""

    def __init__(self, workdir, host="127.0.0.1"):
        import shutil
        binary = shutil.which("etcd") or "/usr/bin/etcd"
        self.client_port, peer = free_port(), free_port()
        self.endpoint = "http://%s:%d" % (host, self.client_port)
        self.log_path = os.path.join(workdir, "etcd.log")
        os.makedirs(workdir, exist_ok=True)
        peer_url = "http://127.0.0.1:%d" % peer
        self.proc = subprocess.Popen(
            [binary, "--name", "tern", "--data-dir", os.path.join(workdir, "etcd-data"),
             "--listen-client-urls", self.endpoint, "--advertise-client-urls", self.endpoint,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", "tern=" + peer_url],
            stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        assert wait_for(self._healthy, 20, 0.1), "etcd did not start:\n" + tail(self.log_path)

    def _post(self, path, body):
        import urllib.request
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=2) as r:
            return json.loads(r.read())

    def _healthy(self):
        try:
            self._post("/v3/kv/range", {"key": "eA=="})
            return True
        except Exception:
            return False

    def get_prefix(self, prefix):
        """{key: value} (both str) of every key under prefix."""
        import base64
        b = prefix.encode()
        end = b[:-1] + bytes([b[-1] + 1])
        kvs = self._post("/v3/kv/range", {"key": base64.b64encode(b).decode(),
                                          "range_end": base64.b64encode(end).decode()}).get("kvs", [])
        return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode() for kv in kvs}

    def get(self, key):
        return self.get_prefix(key).get(key)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
