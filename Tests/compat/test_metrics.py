"""Prometheus metrics as an operator uses them: a real broker with metricsExporterType=PROM, the official C++
client sending and consuming, curl-equivalent scrapes of /metrics, a real Prometheus (Debian's package, on
loopback) scraping it and answering PromQL, and promtool checking the shipped rules and configuration."""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from harness import assert_exact, free_port, tail, wait_for

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OPS = os.path.join(REPO, "tools", "ops")


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def total(text, name, **labels):
    """Sum of the samples of `name` carrying every label given."""
    s = 0.0
    for line in text.splitlines():
        m = re.match(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), line)
        if m and all('%s="%s"' % kv in (m.group(1) or "") for kv in labels.items()):
            s += float(m.group(2))
    return s


def expr_metric_names(expr):
    return {n for n in re.findall(r"\b((?:rocketmq|tern)_[a-z_]+)\b", expr)}


def require(tool):
    path = shutil.which(tool)
    if path is None:
        pytest.fail("%s not found: run tools/setup (installs Debian's prometheus package)" % tool)
    return path


def test_metrics_move_with_real_client_and_real_prometheus(h, tmp_path):
    port = free_port()
    b, topic, p = h.setup(conf={"metricsExporterType": "PROM", "metricsPromExporterPort": str(port)})
    group = "G_" + topic
    c = h.push(b, group, topic)
    h.wait_ready(p, topic, [c], mode="split")
    before = scrape(port)

    n = 40
    msgs = h.make(topic, "met", n)
    h.send_ok(p, "sync", msgs)
    expected = [m["body"] for m in msgs]
    got = h.collect([c], "met", expected)[0]
    assert_exact(got, expected, "push consumer")

    after = scrape(port)
    moved_in = total(after, "rocketmq_messages_in_total", topic=topic) - total(before, "rocketmq_messages_in_total", topic=topic)
    moved_out = (total(after, "rocketmq_messages_out_total", topic=topic, consumer_group=group)
                 - total(before, "rocketmq_messages_out_total", topic=topic, consumer_group=group))
    assert moved_in == n, "messages_in moved by %s, sent %d" % (moved_in, n)
    assert moved_out == n, "messages_out moved by %s, consumed %d" % (moved_out, n)
    body_bytes = sum(len(m["body"]) for m in msgs)
    moved_bytes = total(after, "rocketmq_throughput_in_total", topic=topic) - total(before, "rocketmq_throughput_in_total", topic=topic)
    assert moved_bytes == body_bytes, (moved_bytes, body_bytes)
    assert total(after, "rocketmq_message_size_count", topic=topic) == total(after, "rocketmq_messages_in_total", topic=topic)
    sends = sum(total(after, "rocketmq_rpc_latency_count", request_code=code) for code in ("10", "310"))  # SEND_MESSAGE(_V2)
    assert sends >= n, tail_metrics(after, "rocketmq_rpc_latency_count")

    # The consumer's committed offsets reach the gauges (the C++ client commits every few seconds).
    def caught_up():
        t = scrape(port)
        return "rocketmq_consumer_ready_messages{" in t and total(t, "rocketmq_consumer_inflight_messages", topic=topic, consumer_group=group) == 0
    assert wait_for(caught_up, 30, 0.5), tail_metrics(scrape(port), "rocketmq_consumer")

    # Every metric the dashboard and the alert rules query exists in a real scrape.
    text = scrape(port)
    dashboard = json.load(open(os.path.join(OPS, "grafana", "tern.json")))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    exprs += [v["query"] for v in dashboard["templating"]["list"]]
    rules = open(os.path.join(OPS, "prometheus", "alerts.yml")).read()
    names = set().union(*(expr_metric_names(e) for e in exprs)) | expr_metric_names(rules)
    present = {re.sub(r"\{.*", "", line.split(" ")[0]) for line in text.splitlines() if line and not line.startswith("#")}
    missing = sorted(n for n in names if n not in present)
    assert not missing, "queried but not exported: %s" % missing

    # promtool: the shipped rules and an example configuration are valid.
    promtool = require("promtool")
    rules_check = subprocess.run([promtool, "check", "rules", os.path.join(OPS, "prometheus", "alerts.yml")],
                                 capture_output=True, text=True)
    assert rules_check.returncode == 0, rules_check.stdout + rules_check.stderr
    config_check = subprocess.run([promtool, "check", "config", os.path.join(OPS, "prometheus", "prometheus.yml")],
                                  capture_output=True, text=True)
    assert config_check.returncode == 0, config_check.stdout + config_check.stderr

    # A real Prometheus scrapes the broker; its HTTP API answers the series with what the broker counted.
    prometheus = require("prometheus")
    web = free_port()
    config = tmp_path / "prometheus.yml"
    shutil.copy(os.path.join(OPS, "prometheus", "alerts.yml"), tmp_path / "alerts.yml")
    config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [alerts.yml]\n"
                      "scrape_configs:\n  - job_name: tern\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % port)
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen([prometheus, "--config.file=%s" % config, "--storage.tsdb.path=%s" % (tmp_path / "data"),
                             "--web.listen-address=127.0.0.1:%d" % web], stdout=log, stderr=subprocess.STDOUT)
    try:
        want = total(scrape(port), "rocketmq_messages_in_total", topic=topic)

        def query(q):
            url = "http://127.0.0.1:%d/api/v1/query?%s" % (web, urllib.parse.urlencode({"query": q}))
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    return json.load(r)
            except OSError:
                return None

        def answered():
            r = query('sum(rocketmq_messages_in_total{topic="%s"})' % topic)
            return r is not None and r["status"] == "success" and r["data"]["result"] \
                and float(r["data"]["result"][0]["value"][1]) == want
        assert wait_for(answered, 30, 0.5), "prometheus never answered %s: %s\n%s" % (
            want, query('rocketmq_messages_in_total{topic="%s"}' % topic), tail(str(tmp_path / "prometheus.log")))
        up = query('up{job="tern"}')
        assert float(up["data"]["result"][0]["value"][1]) == 1
        rules_api = json.load(urllib.request.urlopen("http://127.0.0.1:%d/api/v1/rules" % web, timeout=5))
        loaded = {r["name"] for g in rules_api["data"]["groups"] for r in g["rules"]}
        assert {"TernBrokerDown", "TernDiskAlmostFull", "TernReplicationLag", "TernConsumerLagGrowing",
                "TernFastFailureFiring"} <= loaded, loaded
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def test_metrics_port_in_use_fails_startup(h):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    taken = s.getsockname()[1]
    try:
        with pytest.raises(AssertionError) as e:
            h.broker({"metricsExporterType": "PROM", "metricsPromExporterPort": str(taken)})
        assert "metricsPromExporterPort" in str(e.value), str(e.value)[-2000:]
    finally:
        s.close()


def tail_metrics(text, prefix):
    return "\n".join(l for l in text.splitlines() if l.startswith(prefix))
