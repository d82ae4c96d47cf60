"""Helpers shared by tools/bench-broker and the tools built on it (bench-send, bench-drain, bench-e2e,
bench-toggle, ...): the release build, a `tern standalone` broker and the `tern-bench floor` server on the
TERN_BENCH_PORTS ports, tern-bench runs with the broker's CPU from /proc, per-thread-group CPU, and the metrics /
ACL configurations. Reads --tern / --bench / --quick / --rate / --pairs from the command line of the tool that
imports it; a tool may set TERN, PIN_BROKER, ... on this module before starting brokers."""
import json, os, resource, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = os.path.join(ROOT, ".build-release")
TERN = sys.argv[sys.argv.index("--tern") + 1] if "--tern" in sys.argv else os.path.join(SCRATCH, "release", "tern")
BENCH = sys.argv[sys.argv.index("--bench") + 1] if "--bench" in sys.argv else os.path.join(SCRATCH, "release", "tern-bench")
QUICK = "--quick" in sys.argv
# --metrics paces at 30,000 msg/s unless told (--rate 0: as fast as 64 in flight allow) and runs 5 pairs.
RATE = sys.argv[sys.argv.index("--rate") + 1] if "--rate" in sys.argv else ("30000" if "--metrics" in sys.argv else None)
RATE = None if RATE == "0" else RATE
PAIRS = int(sys.argv[sys.argv.index("--pairs") + 1]) if "--pairs" in sys.argv else 5
# TERN_BENCH_PORTS=ns,broker,floor: another set, so two runs on one machine do not collide.
# Name server, broker, floor; a list of two (the tools that run no floor) puts the floor 10 above the broker.
_PORTS = [int(p) for p in os.environ.get("TERN_BENCH_PORTS", "29876,30911,30921").split(",")]
NS_PORT, BROKER_PORT = _PORTS[:2]
FLOOR_PORT = _PORTS[2] if len(_PORTS) > 2 else BROKER_PORT + 10
NS = f"127.0.0.1:{NS_PORT}"
TICK = os.sysconf("SC_CLK_TCK")
PIN_BROKER, PIN_BENCH = (["taskset", "-c", "0"], ["taskset", "-c", "1"]) if "--pin" in sys.argv else ([], [])


def base_conf():
    """--base-conf KEY=VALUE (repeatable, in bench-e2e / bench-send / bench-drain): broker.conf lines for the base's
    brokers only, so a setting is A/B-tested with one binary. A dict, in command-line order."""
    return dict(sys.argv[i + 1].split("=", 1) for i, a in enumerate(sys.argv[:-1]) if a == "--base-conf")


def build():
    if "--no-build" in sys.argv:  # binaries already built (e.g. while another build runs)
        return
    for product in ("tern", "tern-bench"):
        subprocess.run(["swift", "build", "-c", "release", "--scratch-path", SCRATCH, "--product", product],
                       cwd=ROOT, check=True, stdout=sys.stderr)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Floor:
    """`tern-bench floor` (with `args`), pinned as the broker is; quacks like Broker for `measured`."""
    def __init__(self, *args):
        self.proc = subprocess.Popen([*PIN_BROKER, BENCH, "floor", "--port", str(FLOOR_PORT), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if "ready" not in line:
            raise SystemExit(f"floor did not start: {line!r}")
        self.namesrv = f"127.0.0.1:{FLOOR_PORT}"

    def cpu_seconds(self):
        return cpu_seconds(self.proc.pid)

    def memory(self):
        return {}

    def stop(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)


METRICS_PORT = int(os.environ.get("TERN_BENCH_METRICS_PORT", "35557"))  # another, so two runs do not collide


class Broker:
    namesrv = NS

    def __init__(self, store, flush="ASYNC_FLUSH", extra=None):
        conf = os.path.join(store + ".conf")
        with open(conf, "w") as f:
            f.write(f"flushDiskType={flush}\n")
            for k, v in (extra or {}).items():
                f.write(f"{k}={v}\n")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([*PIN_BROKER, TERN, "standalone", "-c", conf, "--store", store, "--namesrv-port", str(NS_PORT),
                                      "--broker-port", str(BROKER_PORT), "--log-level", "warning"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if "ready" not in line:
            raise SystemExit(f"broker did not start: {line!r}")
        self.ready_seconds = time.monotonic() - self.started

    def cpu_seconds(self):
        return cpu_seconds(self.proc.pid)

    def memory(self):
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(("RssAnon", "RssFile", "VmRSS")):
                    k, v = line.split(":")
                    out[k] = int(v.split()[0]) / 1024  # MiB
        return out

    def stop(self, hard=False):
        self.proc.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        self.proc.wait(timeout=60)


def bench(*args, namesrv=NS):
    r = subprocess.run([*PIN_BENCH, BENCH, *args, "--namesrv", namesrv, "--json"], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise SystemExit(f"tern-bench {' '.join(args)} failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# Log bytes one 1 KiB send takes (record header, topic, properties).
LOG_BYTES_PER_KIB_SEND = 1_200


def warm_up_sends(cached_mib):
    """Steady state for a broker that keeps `cached_mib` MiB of flushed log cached (`cachedCommitLogBytes`): the
    number of 1 KiB sends that write that window plus 32 MiB, so its drops recycle pages before measuring."""
    return ((cached_mib + 32) << 20) // LOG_BYTES_PER_KIB_SEND


def measured(broker, *args):
    """Runs tern-bench while sampling the broker's peak RssAnon; adds broker CPU per message."""
    peak = {"RssAnon": 0.0, "RssFile": 0.0}
    done = threading.Event()

    def sample():
        while not done.wait(0.2):
            m = broker.memory()
            for k in peak:
                peak[k] = max(peak[k], m.get(k, 0))
    t = threading.Thread(target=sample)
    t.start()
    cpu0 = broker.cpu_seconds()
    client0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = bench(*args, namesrv=broker.namesrv)
    client1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = broker.cpu_seconds() - cpu0
    client = (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime)
    done.set()
    t.join()
    n = result.get("messages") or 0
    result["brokerCpuMicrosPerMessage"] = round(cpu * 1e6 / n, 2) if n else None
    result["clientCpuMicrosPerMessage"] = round(client * 1e6 / n, 2) if n else None
    result["brokerPeakRssAnonMiB"] = round(peak["RssAnon"], 1)
    result["brokerPeakRssFileMiB"] = round(peak["RssFile"], 1)
    return result


def thread_group(name):
    """The part of the broker a thread belongs to, by its name (/proc/PID/task/TID/comm, 15 characters)."""
    for prefix, group in (("NIO-ELT", "event loops"), ("NIO-SGLTN", "NIO singleton (HTTP)"), ("TP-", "NIO thread pool"),
                          ("tern-", None)):
        if name.startswith(prefix):
            return group or name[len(prefix):]
    return "swift tasks" if "qos" in name else "other"


def thread_cpu_exact(pid):
    """{tid: (name, CPU seconds)} of every thread of `pid`, from /proc/PID/task/TID/schedstat (ns of run time), not
    clock ticks: a thread that ran 40 ms in a 5 s run is 4 ticks, too coarse for µs per message."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                out[tid] = (name, int(f.read().split()[0]) / 1e9)
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread exited while being read
    return out


def per_group(before, after, scale):
    """Per thread group: the sum of its threads' increase from `before` to `after` ({tid: (name, value)}) x scale;
    threads gone by `after` count up to what `before` saw."""
    groups = {}
    for tid, (name, last) in after.items():
        g = thread_group(name)
        groups[g] = groups.get(g, 0.0) + (last - before.get(tid, (name, 0))[1]) * scale
    return {g: round(v, 3) for g, v in sorted(groups.items())}


def record_size(store):
    """TOTALSIZE of the first record in `store`'s commit log (every benchmark record has the same size)."""
    log = os.path.join(store, "commitlog")
    with open(os.path.join(log, sorted(os.listdir(log))[0]), "rb") as f:
        return int.from_bytes(f.read(4), "big")


METRICS_CONFIG = {"metricsExporterType": "PROM", "metricsPromExporterPort": METRICS_PORT}


def scrape_metrics(done):
    """Scrapes /metrics every second until `done` (Prometheus' shape)."""
    import urllib.request
    while not done.wait(1.0):
        urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5).read()


def process_cpu_nanos(pid):
    """CPU time of every thread of `pid` so far, in ns (Linux's process CPU clock, `clock_getcpuclockid`'s id:
    precise, where /proc's ticks are 10 ms)."""
    return time.clock_gettime_ns(((~pid) << 3) | 2)


def remoting_request(sock, code, ext_fields, opaque):
    """One RocketMQ remoting request (JSON header, no body) on `sock`; the answer's header as a dict."""
    import struct
    header = json.dumps({"code": code, "language": "JAVA", "version": 408, "opaque": opaque, "flag": 0,
                         "extFields": ext_fields}).encode()
    sock.sendall(struct.pack(">ii", 4 + len(header), len(header)) + header)

    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise SystemExit("broker closed the connection")
            data += chunk
        return data
    frame = exactly(struct.unpack(">i", exactly(4))[0])
    return json.loads(frame[4:4 + (struct.unpack(">i", frame[:4])[0] & 0xFFFFFF)])


ACL_KEYS = ("benchAK", "bench-secret-key")
ACL_FILE = f"""accounts:
  - accessKey: {ACL_KEYS[0]}
    secretKey: {ACL_KEYS[1]}
    admin: true
    defaultGroupPerm: SUB
    topicPerms:
      - BenchAcl=PUB
"""


def acl_config(tmp):
    """The signed broker's extra config and tern-bench's signing arguments."""
    path = os.path.join(tmp, "plain_acl.yml")
    with open(path, "w") as f:
        f.write(ACL_FILE)
    return {"aclEnable": "true", "aclFilePath": path}, ("--access-key", ACL_KEYS[0], "--secret-key", ACL_KEYS[1])


def self_symbols(data):
    """Self-time percent per symbol in `data`."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "-g", "none", "--sort", "sym", "--stdio",
                          "--percent-limit", "0"], capture_output=True, text=True, timeout=600).stdout
    shares = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].endswith("%") and parts[1].startswith("["):
            shares[parts[2].strip()] = shares.get(parts[2].strip(), 0.0) + float(parts[0][:-1])
    return shares
