"""tools/bench-broker --metrics / --acl: on / off comparisons over pairs of fresh brokers, their profiles and
allocation counts (see tools/bench-broker's docstring). Imported by tools/bench-broker."""
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

from bench_broker_core import *  # noqa: F403 (the shared helpers and settings)


def idle_wakeups_module():
    """tools/idle-wakeups as a module: its per-thread context-switch snapshot."""
    import importlib.machinery, importlib.util
    loader = importlib.machinery.SourceFileLoader("idle_wakeups", os.path.join(ROOT, "tools", "idle-wakeups"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("idle_wakeups", loader))
    loader.exec_module(module)
    return module


IDLE_SECONDS = 3


def alternating(label, configure, topic):
    """Broker CPU µs per 1 KiB send (produce-async shape), off vs on over PAIRS pairs of fresh brokers in one run,
    the order alternating (off/on, on/off, ...) so neither mode always runs first or right after a broker of the
    other kind; each broker is warmed up (2 s of the same load) before its measured run and its store deleted
    after it. Per run also the broker's CPU per thread group (µs per message) and context switches per second per
    group under the load and over IDLE_SECONDS idle afterwards (side load still running): the gap is located to
    a thread. `configure(mode, tmp)` returns the `on` broker's extra config, extra tern-bench arguments and a side
    load to run meanwhile (or None)."""
    build()
    duration = "5" if QUICK else "15"
    runs = {"off": [], "on": []}
    switches = idle_wakeups_module().snapshot
    with tempfile.TemporaryDirectory(prefix=f"tern-bench-{label}-") as tmp:
        for i in range(PAIRS):
            for mode in ("off", "on") if i % 2 == 0 else ("on", "off"):
                extra, args, side = configure(mode, tmp) if mode == "on" else ({}, (), None)
                store = os.path.join(tmp, f"{mode}{i}")
                b = Broker(store, extra=extra)
                done = threading.Event()
                t = threading.Thread(target=side, args=(done,)) if side else None
                if t:
                    t.start()
                pace = ("--rate", RATE) if RATE else ("--inflight", "64")
                pid = b.proc.pid
                warm0 = thread_cpu_exact(pid)
                bench("produce", "--topic", topic, "--size", "1024", *pace, "--duration", "2", *args)  # warm-up
                cpu0, sw0, t0 = thread_cpu_exact(pid), switches(pid), time.monotonic()
                r = measured(b, "produce", "--topic", topic, "--size", "1024", *pace, "--duration", duration, *args)
                cpu1, sw1, t1 = thread_cpu_exact(pid), switches(pid), time.monotonic()
                time.sleep(IDLE_SECONDS)
                sw2, t2 = switches(pid), time.monotonic()
                done.set()
                if t:
                    t.join()
                b.stop()
                shutil.rmtree(store, ignore_errors=True)
                # A few refused sends (fast failure when a loaded machine stalls the broker) are reported, not fatal.
                if r["errors"] * 100 > r["messages"]:
                    raise SystemExit(f"{label} {mode}: {r['errors']} send errors, first: {r.get('firstError')}")
                runs[mode].append({"cpuMicrosPerMessage": r["brokerCpuMicrosPerMessage"], "msgPerSec": round(r["msgPerSec"]),
                                   "clientCpuMicrosPerMessage": r["clientCpuMicrosPerMessage"], "errors": r["errors"],
                                   "warmupCpuMillis": per_group(warm0, cpu0, 1000),
                                   # Store threads name themselves; one that lost the race shows a pool's name.
                                   "storeThreadsNamed": sum(1 for n, _ in cpu1.values() if n.startswith("tern-")),
                                   "threadMicrosPerMessage": per_group(cpu0, cpu1, 1e6 / max(1, r["messages"])),
                                   "switchesPerSecondLoaded": per_group(sw0, sw1, 1 / (t1 - t0)),
                                   "switchesPerSecondIdle": per_group(sw1, sw2, 1 / (t2 - t1))})
                print(f"run {i + 1} {label} {mode}: {runs[mode][-1]}", file=sys.stderr)
    def mmm(xs):
        xs = sorted(xs)
        return [xs[0], round(statistics.median(xs), 4), xs[-1]]
    summary = {m: mmm(x["cpuMicrosPerMessage"] for x in runs[m]) for m in runs}
    threads = {}  # per group and figure: median off, median on, median of the pairwise on - off
    for key in ("warmupCpuMillis", "threadMicrosPerMessage", "switchesPerSecondLoaded", "switchesPerSecondIdle"):
        groups = sorted({g for m in runs for x in runs[m] for g in x[key]})
        threads[key] = {g: [round(statistics.median(x[key].get(g, 0.0) for x in runs[m]), 3) for m in ("off", "on")]
                        + [round(statistics.median(b[key].get(g, 0.0) - a[key].get(g, 0.0)
                                                   for a, b in zip(runs["off"], runs["on"])), 3)] for g in groups}
        print(f"{key} per thread group, median off / on / pairwise on - off:", file=sys.stderr)
        for g, (off, on, delta) in threads[key].items():
            print(f"  {g:<22} {off:>9} {on:>9} {delta:>+9}", file=sys.stderr)
    off, on = summary["off"][1], summary["on"][1]
    # Each pair ran back to back: its ratio cancels most of the drift between pairs on a shared machine.
    ratios = [round(b["cpuMicrosPerMessage"] / a["cpuMicrosPerMessage"], 4) for a, b in zip(runs["off"], runs["on"])]
    return {"rate": int(RATE) if RATE else "64 in flight", "pairs": PAIRS, "runs": runs,
            "cpuMicrosPerMessageMinMedianMax": summary, "medianCpuMicrosPerMessage": {"off": off, "on": on},
            "pairwiseRatios": ratios, "pairwiseRatioMinMedianMax": mmm(ratios), "threadGroups": threads,
            "overheadPercent": round((statistics.median(ratios) - 1) * 100, 1),
            "pairsOnAboveOff": sum(1 for x in ratios if x > 1)}


def metrics_overhead():
    """--metrics: metricsExporterType=PROM vs off, /metrics scraped every second while on."""
    r = alternating("metrics", lambda mode, tmp: (METRICS_CONFIG, (), scrape_metrics), "BenchMetrics")
    print(f"command: {' '.join(sys.argv)}\nsummary: metrics on vs off at {r['rate']} msg/s, {PAIRS} pairs: broker CPU "
          f"µs/msg off {r['cpuMicrosPerMessageMinMedianMax']['off']} on {r['cpuMicrosPerMessageMinMedianMax']['on']} "
          f"(min/median/max), pairwise on/off {r['pairwiseRatioMinMedianMax']} -> {r['overheadPercent']:+.1f} % "
          f"(on above off in {r['pairsOnAboveOff']} of {PAIRS} pairs)", file=sys.stderr)
    return r


def scrape_cost(scrapes=200):
    """--metrics --scrape-cost: broker CPU ms per scrape = (CPU over `scrapes` back-to-back scrapes minus CPU over an
    idle window as long) / scrapes, per pair; per message at --rate with one scrape a second = that / rate."""
    import urllib.request
    build()
    per_scrape = []
    with tempfile.TemporaryDirectory(prefix="tern-bench-scrape-") as tmp:
        b = Broker(os.path.join(tmp, "store"), extra=METRICS_CONFIG)
        try:
            bench("produce", "--topic", "BenchScrape", "--size", "1024", "--inflight", "64", "--count", "20000")
            for i in range(PAIRS):
                c0, t0 = b.cpu_seconds(), time.monotonic()
                for _ in range(scrapes):
                    urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5).read()
                c1, t1 = b.cpu_seconds(), time.monotonic()
                time.sleep(t1 - t0)
                c2 = b.cpu_seconds()
                per_scrape.append(round(((c1 - c0) - (c2 - c1)) * 1000 / scrapes, 3))
                print(f"pair {i + 1}: {per_scrape[-1]} ms broker CPU per scrape", file=sys.stderr)
        finally:
            b.stop()
    median = statistics.median(per_scrape)
    rate = int(RATE) if RATE else None
    r = {"scrapes": scrapes, "pairs": PAIRS, "msPerScrapeMinMedianMax": [min(per_scrape), median, max(per_scrape)],
         "microsPerMessageAtOneScrapePerSecond": round(median * 1000 / rate, 4) if rate else None, "rate": rate}
    print(f"command: {' '.join(sys.argv)}\nsummary: {r['msPerScrapeMinMedianMax']} ms broker CPU per scrape (min/median/max); "
          f"one scrape a second at {rate} msg/s adds {r['microsPerMessageAtOneScrapePerSecond']} µs per message", file=sys.stderr)
    return r


# Symbols of the metrics code as perf reports them (Swift-mangled: module and type names appear with their length).
# Self time only: runtime helpers called from these (retain / release, casts) are not counted.
METRICS_SYMBOLS = ("7TernOps", "10Prometheus", "14BrokerMetering", "12StoreTimings")


def metrics_profile(top=30):
    """--metrics --profile: metrics-off and metrics-on brokers (scraped every second) under the same fixed-rate
    load, --pairs N pairs in alternating order, each run under `perf record` (the --acl --profile shape,
    `recorded`); every symbol's self time in broker CPU µs per send averaged per mode, the largest differences
    (so a cost outside the metrics symbols shows too), and the self-time share of metrics code when on."""
    build()
    runs = {"off": [], "on": []}
    with tempfile.TemporaryDirectory(prefix="tern-bench-profile-") as tmp:
        for i in range(PAIRS):
            for mode in ("off", "on") if i % 2 == 0 else ("on", "off"):
                data = os.path.join(tmp, f"{mode}{i}.data")
                done = threading.Event()
                scraper = threading.Thread(target=scrape_metrics, args=(done,)) if mode == "on" else None
                b = Broker(os.path.join(tmp, f"{mode}{i}"), extra=METRICS_CONFIG if mode == "on" else None)
                if scraper:
                    scraper.start()
                try:
                    r = recorded(b, data, ())
                finally:
                    done.set()
                    if scraper:
                        scraper.join()
                shares = self_symbols(data)
                if shares:  # perf sometimes records nothing on a loaded machine: such a run is left out
                    runs[mode].append((r["brokerCpuMicrosPerMessage"], shares))
                shutil.rmtree(os.path.join(tmp, f"{mode}{i}"), ignore_errors=True)
                os.remove(data)
                print(f"run {i + 1} profile {mode}: {r['brokerCpuMicrosPerMessage']} µs/msg, {len(shares)} symbols",
                      file=sys.stderr)
    if not runs["off"] or not runs["on"]:
        raise SystemExit("perf recorded no samples in any run of one mode")

    def mean(rs):
        """The runs' mean µs per send and each symbol's mean µs as a percent of it."""
        us = statistics.mean(u for u, _ in rs)
        syms = {k for _, shares in rs for k in shares}
        return us, {k: sum(shares.get(k, 0.0) * u / 100 for u, shares in rs) / len(rs) * 100 / us for k in syms}
    off, on = mean(runs["off"]), mean(runs["on"])
    deltas = symbol_deltas(off, on, ("off", "on"), top)
    mine = sorted(((p, sym) for sym, p in on[1].items() if any(m in sym for m in METRICS_SYMBOLS)), reverse=True)
    share = round(sum(p for p, _ in mine), 2)
    print(f"summary: {PAIRS} pairs, metrics code {share} % of the on brokers' samples (self time, {len(mine)} symbols, "
          f"{share * on[0] / 100:.2f} µs per send) at {RATE or '64 in flight'} msg/s", file=sys.stderr)
    return {"rate": int(RATE) if RATE else "64 in flight", "pairs": PAIRS, "metricsSharePercent": share,
            "metricsMicrosPerSend": round(share * on[0] / 100, 3),
            "brokerCpuMicrosPerSend": {m: [u for u, _ in runs[m]] for m in runs}, "top": deltas}


def acl_overhead():
    """--acl: unsigned sends to an aclEnable=false broker vs signed sends (tern-bench --access-key/--secret-key)
    to an aclEnable=true broker; the account is an admin (tern-bench creates its topic) with a topic permission,
    so every send runs the signature check and the permission lookup. Then one more signed run under
    `perf record` (unless --no-perf): the share of the broker's CPU samples in ACL code."""
    r = alternating("acl", lambda mode, tmp: (*acl_config(tmp), None), "BenchAcl")
    median = r["medianCpuMicrosPerMessage"]
    r["ratio"] = round(median["on"] / median["off"], 3)
    if "--no-perf" not in sys.argv:
        with tempfile.TemporaryDirectory(prefix="tern-bench-acl-perf-") as tmp:
            extra, args = acl_config(tmp)
            data = os.path.join(tmp, "perf.data")
            recorded(Broker(os.path.join(tmp, "perf"), extra=extra), data, args)
            r["perfSelfPercent"] = perf_shares(data, ACL_GROUPS, inclusive={
                "AclGate.admit": lambda sym: "AclGate" in sym and "admit" in sym})
    print(f"command: {' '.join(sys.argv)}\nsummary: signed vs unsigned at {r['rate']} msg/s, {PAIRS} pairs: broker CPU "
          f"µs/msg unsigned {r['cpuMicrosPerMessageMinMedianMax']['off']} signed "
          f"{r['cpuMicrosPerMessageMinMedianMax']['on']} (min/median/max), pairwise signed/unsigned "
          f"{r['pairwiseRatioMinMedianMax']} -> {r['overheadPercent']:+.1f} %", file=sys.stderr)
    return r


ACL_GROUPS = {
    "TernSecurity": lambda sym: "TernSecurity" in sym,
    "AclGate": lambda sym: "AclGate" in sym,
    "sha1+hmac": lambda sym: "sha1" in sym.lower() or "hmac" in sym.lower(),
}


def recorded(broker, data, args):
    """One produce run (the --acl shape) on `broker` under `perf record -g`; stops the broker; the run's result."""
    pace = ("--rate", RATE) if RATE else ("--inflight", "64")
    bench("produce", "--topic", "BenchAcl", "--size", "1024", *pace, "--duration", "2", *args,
          namesrv=broker.namesrv)  # warm-up: topic route, key orders, caches
    perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-o", data,
                             "-p", str(broker.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # perf attaching to every thread
    try:
        return measured(broker, "produce", "--topic", "BenchAcl", "--size", "1024", *pace, "--duration",
                        "5" if QUICK else "15", *args)
    finally:
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=120)
        broker.stop()


def acl_profile(top=30):
    """--acl --profile: an unsigned run (aclEnable=false) and a signed run, each under `perf record`; every
    symbol's self time converted to broker CPU µs per send (share x the run's µs/msg), so the symbols that differ
    account for the gap in µs; prints the largest differences."""
    build()
    with tempfile.TemporaryDirectory(prefix="tern-bench-acl-profile-") as tmp:
        extra, args = acl_config(tmp)
        runs = {}
        for mode in ("unsigned", "signed"):
            data = os.path.join(tmp, f"{mode}.data")
            b = Broker(os.path.join(tmp, mode), extra=extra if mode == "signed" else None)
            r = recorded(b, data, args if mode == "signed" else ())
            runs[mode] = (r["brokerCpuMicrosPerMessage"], self_symbols(data))
    (u_us, u), (s_us, s) = runs["unsigned"], runs["signed"]
    top = symbol_deltas(runs["unsigned"], runs["signed"], ("unsigned", "signed"), top)
    acl = {g: round(sum(p for k, p in s.items() if f(k)) * s_us / 100, 2) for g, f in ACL_GROUPS.items()}
    return {"rate": int(RATE) if RATE else "64 in flight", "brokerCpuMicrosPerSend": {"unsigned": u_us, "signed": s_us},
            "signedSelfMicrosPerSend": acl, "top": top}


def symbol_deltas(a, b, labels, top):
    """Two perf-recorded runs, each (broker CPU µs per send, self_symbols): every symbol's self time converted to
    µs per send (share x the run's µs/msg), so the symbols that differ account for the gap in µs; prints and
    returns the `top` largest differences."""
    (a_us, a), (b_us, b) = a, b
    rows = [(b.get(k, 0.0) * b_us / 100 - a.get(k, 0.0) * a_us / 100, a.get(k, 0.0) * a_us / 100,
             b.get(k, 0.0) * b_us / 100, k) for k in set(a) | set(b)]
    rows.sort(key=lambda r: -abs(r[0]))
    names = [r[3] for r in rows[:top]]
    demangled = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names),
                               capture_output=True, text=True).stdout.splitlines()
    names = demangled if len(demangled) == len(names) else names
    print(f"command: {' '.join(sys.argv)}\nbroker CPU µs/send: {labels[0]} {a_us}, {labels[1]} {b_us} "
          f"({b_us - a_us:+.2f}); per symbol (self time): delta / {labels[0]} / {labels[1]} µs per send", file=sys.stderr)
    for (d, x, y, _), name in zip(rows, names):
        print(f"{d:+7.2f} {x:7.2f} {y:7.2f}  {name[:150]}", file=sys.stderr)
    return [{"deltaMicros": round(d, 3), labels[0]: round(x, 3), labels[1]: round(y, 3), "symbol": n[:160]}
            for (d, x, y, _), n in zip(rows, names)]


def perf_shares(data, groups, inclusive=None):
    """Self-time percent of the samples in `data` whose symbol each of `groups` (name -> predicate) accepts; with
    `inclusive` (name -> predicate), also the largest children-inclusive percent of a symbol it accepts."""
    def report(children):
        return subprocess.run(["perf", "report", "-i", data, "--children" if children else "--no-children", "-g", "none",
                               "--sort", "sym", "--stdio", "--percent-limit", "0"],
                              capture_output=True, text=True, timeout=600).stdout.splitlines()
    shares = {name: 0.0 for name in groups}
    for line in report(False):
        parts = line.split(None, 2)
        if len(parts) < 3 or not parts[0].endswith("%"):
            continue
        percent, sym = float(parts[0][:-1]), parts[2]
        for name, accepts in groups.items():
            if accepts(sym):
                shares[name] += percent
    for line in report(True) if inclusive else []:
        parts = line.split(None, 3)
        if len(parts) < 4 or not parts[0].endswith("%"):
            continue
        for name, accepts in inclusive.items():
            if accepts(parts[3]):
                shares[name + " (inclusive)"] = max(shares.get(name + " (inclusive)", 0.0), float(parts[0][:-1]))
    return {name: round(v, 2) for name, v in shares.items()}
