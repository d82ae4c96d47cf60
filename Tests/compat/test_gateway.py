"""The HTTP gateway (httpPort) as a user drives it: urllib against a real `tern standalone`, the official C++ client
on the other side of the same broker, `tern admin` to read the group's offsets and dead letters, schemathesis
against /openapi.json, and a real plain_acl.yml for bearer tokens."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from harness import Broker, assert_exact, free_port, wait_for, warm_topic

FAST = {"messageDelayLevel": " ".join(["1s"] * 18), "retryMaxTimes": "2"}


def http(port, method, path, body=None, headers=None, timeout=40):
    """(status, parsed JSON body) of one request; error statuses are answers too."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        raw = e.read()
        assert e.headers.get("Content-Type", "").startswith("application/json"), (e.code, raw)
        return e.code, json.loads(raw)


def post_json(port, path, obj, headers=None):
    return http(port, "POST", path, json.dumps(obj).encode(), dict({"Content-Type": "application/json"}, **(headers or {})))


def gateway_broker(h, conf=None):
    port = free_port()
    b = h.broker(dict({"httpPort": str(port)}, **(conf or {})))
    # "ready" is printed once the remoting ports listen; the HTTP server binds right after.
    assert wait_for(lambda: Broker._accepts(port), 10), "httpPort %d not listening" % port
    return b, port


def admin(h, b, *args):
    r = subprocess.run([h.binary, "admin", *args, "-n", b.namesrv, "--json"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "tern admin %s failed: %s %s" % (args[0], r.stdout, r.stderr)
    return json.loads(r.stdout)


def receive(port, topic, group, want, prefix, timeout=30, headers=None, **params):
    """Long-polls until `want` messages whose body starts with `prefix` came; returns every message received."""
    got = []
    end = time.time() + timeout
    query = "&".join("%s=%s" % kv for kv in dict({"group": group, "max": 32, "wait": 2}, **params).items())
    while len([m for m in got if m["body"].startswith(prefix)]) < want and time.time() < end:
        status, page = http(port, "GET", "/topics/%s/messages?%s" % (topic, query), headers=headers)
        assert status == 200, page
        got += page["messages"]
    return got


def settle(port, topic, group, handles, nack=False, **extra):
    status, out = post_json(port, "/topics/%s/messages/%s" % (topic, "nack" if nack else "ack"),
                            dict({"group": group, "handles": handles}, **extra))
    assert status == 200, out
    return out["results"]


def test_http_send_is_consumed_by_the_cpp_client_with_attributes_intact(h):
    b, port = gateway_broker(h)
    topic = "T_" + h.tag.replace("-", "_")
    p = h.producer(b)
    warm_topic(h, p, topic)
    group = "G_" + topic
    c = h.push(b, group, topic, props=["orderId", "region"])
    h.wait_ready(p, topic, [c])

    # Raw body + headers.
    status, single = http(port, "POST", "/topics/%s/messages" % topic, b"http-raw",
                          {"Content-Type": "application/octet-stream", "X-Tern-Tags": "TagA", "X-Tern-Keys": "k1,k2",
                           "X-Tern-Properties": "orderId=42"})
    assert status == 200 and single["status"] == "SEND_OK", single
    # JSON envelope.
    status, env = post_json(port, "/topics/%s/messages" % topic,
                            {"body": "http-json", "tags": "TagB", "keys": ["k3"], "properties": {"region": "eu"}})
    assert status == 200, env
    # Batch: consecutive offsets of one queue.
    status, batch = post_json(port, "/topics/%s/messages/batch" % topic,
                              [{"body": "http-batch-%d" % i, "tags": "TagC"} for i in range(3)])
    assert status == 200 and len(batch["messages"]) == 3, batch
    offsets = [m["queueOffset"] for m in batch["messages"]]
    assert offsets == list(range(offsets[0], offsets[0] + 3)) and len({m["queueId"] for m in batch["messages"]}) == 1
    # Sharding key: one queue for one key.
    queues = set()
    for i in range(4):
        status, r = http(port, "POST", "/topics/%s/messages" % topic, b"http-shard-%d" % i, {"X-Tern-Sharding-Key": "order-9"})
        assert status == 200, r
        queues.add(r["queueId"])
    assert len(queues) == 1, queues

    expected = ["http-raw", "http-json"] + ["http-batch-%d" % i for i in range(3)] + ["http-shard-%d" % i for i in range(4)]
    got = h.collect([c], "http-", expected)[0]
    assert_exact(got, expected, "C++ push consumer")
    by_body = {m["body"]: m for m in c.messages()}
    raw = by_body["http-raw"]
    assert raw["tags"] == "TagA" and raw["keys"] == "k1 k2" and raw["props"] == {"orderId": "42"}, raw
    assert raw["uniq_key"] == single["msgId"], (raw, single)
    js = by_body["http-json"]
    assert js["tags"] == "TagB" and js["keys"] == "k3" and js["props"] == {"region": "eu"}, js
    assert by_body["http-batch-1"]["tags"] == "TagC"


def test_http_consume_ack_nack_retry_dlq_and_committed_offsets(h):
    b, port = gateway_broker(h, FAST)
    topic = "T_" + h.tag.replace("-", "_")
    p = h.producer(b)
    warm_topic(h, p, topic)
    group = "G_" + topic
    msgs = h.make(topic, "cpp", 20, keys="ck", tags="TagZ")
    msgs.append({"topic": topic, "body": "nack-me", "tags": "TagZ"})
    h.send_ok(p, "sync", msgs)

    # A new group starts at each queue's first offset: the warm-up messages come too.
    got = receive(port, topic, group, len(msgs) + 8, "", timeout=40)
    bodies = [m["body"] for m in got if not m["body"].startswith("warmup")]
    assert_exact(bodies, [m["body"] for m in msgs], "HTTP receive")
    assert all(m["tags"] == "TagZ" and m["topic"] == topic for m in got if m["body"].startswith("cpp")), got[:2]
    nack = [m for m in got if m["body"] == "nack-me"]
    results = settle(port, topic, group, [m["handle"] for m in got if m["body"] != "nack-me"])
    assert all(r["ok"] for r in results), results

    # Acked messages are not delivered again.
    status, page = http(port, "GET", "/topics/%s/messages?group=%s&wait=1" % (topic, group))
    assert status == 200 and page["messages"] == [], page

    # nack -> %RETRY%group (1 s levels) -> back with reconsumeTimes 1, then 2, then the DLQ (retryMaxTimes 2).
    for times in (1, 2):
        results = settle(port, topic, group, [nack[0]["handle"]], nack=True)
        assert results[0]["ok"], results
        nack = [m for m in receive(port, topic, group, 1, "nack-me", timeout=30) if m["body"] == "nack-me"]
        assert len(nack) == 1 and nack[0]["reconsumeTimes"] == times and nack[0]["topic"] == topic, nack
    assert settle(port, topic, group, [nack[0]["handle"]], nack=True)[0]["ok"]
    letters = []

    def listed():
        letters[:] = admin(h, b, "dlq", "-g", group)
        return len(letters) == 1
    assert wait_for(listed, 20, 0.5), letters
    assert letters[0]["body"] == "nack-me" and letters[0]["properties"]["RETRY_TOPIC"] == topic, letters

    # The group's committed offsets (what a RocketMQ consumer of the group would resume from) cover everything.
    total = len(msgs) + 8
    def caught_up():
        progress = admin(h, b, "consumerProgress", "-g", group, "-t", topic)
        return progress["diffTotal"] == 0 and sum(q["consumerOffset"] for q in progress["queues"]) == total
    assert wait_for(caught_up, 20, 0.5), admin(h, b, "consumerProgress", "-g", group, "-t", topic)


def test_unacked_http_delivery_comes_back_after_its_invisibility(h):
    b, port = gateway_broker(h)
    topic = "T_" + h.tag.replace("-", "_")
    p = h.producer(b)
    warm_topic(h, p, topic, n=1)
    group = "G_" + topic
    status, _ = http(port, "POST", "/topics/%s/messages" % topic, b"again")
    assert status == 200
    first = [m for m in receive(port, topic, group, 1, "again", invisibleSeconds=1) if m["body"] == "again"]
    second = [m for m in receive(port, topic, group, 1, "again", invisibleSeconds=60) if m["body"] == "again"]
    assert len(first) == 1 and len(second) == 1 and first[0]["handle"] != second[0]["handle"]
    assert settle(port, topic, group, [first[0]["handle"]])[0]["ok"] is False
    assert settle(port, topic, group, [second[0]["handle"]])[0]["ok"] is True


def test_http_errors_carry_status_and_rocketmq_code(h):
    b, port = gateway_broker(h, {"maxMessageSize": "4096", "autoCreateTopicEnable": "false"})
    topic = "T_" + h.tag.replace("-", "_")
    subprocess.run([h.binary, "admin", "updateTopic", "-n", b.namesrv, "-t", topic, "-c", "DefaultCluster"],
                   check=True, capture_output=True, timeout=30)
    assert wait_for(lambda: http(port, "POST", "/topics/%s/messages" % topic, b"ok")[0] == 200, 15, 0.2)

    status, err = http(port, "POST", "/topics/%s/messages" % topic, b"x" * 4097)
    assert status == 413 and err["code"] == 13, err
    status, err = post_json(port, "/topics/%s/messages/batch" % topic, [{"body": "y" * 3000}, {"body": "y" * 3000}])
    assert status == 413, err
    status, err = http(port, "POST", "/topics/NoSuch_%s/messages" % h.tag.replace("-", "_"), b"x")
    assert status == 404 and err["code"] == 17, err
    status, err = http(port, "GET", "/topics/%s/messages?group=G&max=0" % topic)
    assert status == 400, err

    # Flow control: a topic rate of 1 message/s answers 429 with the broker's SYSTEM_BUSY code.
    subprocess.run([h.binary, "admin", "setRateLimit", "-n", b.namesrv, "--kind", "topicRate", "-t", topic, "--value", "1"],
                   check=True, capture_output=True, timeout=30)
    answers = [http(port, "POST", "/topics/%s/messages" % topic, b"burst") for _ in range(20)]
    limited = [e for s, e in answers if s == 429]
    assert limited and all(e["code"] == 2 for e in limited), answers


ACL = """
accounts:
  - accessKey: gwProducer
    secretKey: producer-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - %(topic)s=PUB
  - accessKey: gwConsumer
    secretKey: consumer-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - %(topic)s=SUB
  - accessKey: gwAdmin
    secretKey: admin-secret
    admin: true
"""


def token(ak, sk):
    """Bearer token: accessKey:Base64(HmacSHA1(secretKey, accessKey)) (computed here with Python's hmac)."""
    return "Bearer %s:%s" % (ak, base64.b64encode(hmac.new(sk.encode(), ak.encode(), hashlib.sha1).digest()).decode())


def test_acl_bearer_tokens_carry_the_accounts_permissions(h):
    topic = "T_" + h.tag.replace("-", "_")
    path = os.path.join(h.workdir, "plain_acl.yml")
    with open(path, "w") as f:
        f.write(ACL % {"topic": topic})
    b, port = gateway_broker(h, {"aclEnable": "true", "aclFilePath": path})
    subprocess.run([h.binary, "admin", "updateTopic", "-n", b.namesrv, "-t", topic, "-c", "DefaultCluster",
                    "--access-key", "gwAdmin", "--secret-key", "admin-secret"], check=True, capture_output=True, timeout=30)
    pub = {"Authorization": token("gwProducer", "producer-secret")}
    sub = {"Authorization": token("gwConsumer", "consumer-secret")}

    assert wait_for(lambda: http(port, "POST", "/topics/%s/messages" % topic, b"acl-1", pub)[0] == 200, 15, 0.3)
    for bad in ({}, {"Authorization": token("gwProducer", "wrong-secret")}, {"Authorization": "Bearer nobody:abc"},
                {"Authorization": "Basic Zm9vOmJhcg=="}):
        status, err = http(port, "POST", "/topics/%s/messages" % topic, b"acl-x", bad)
        assert status == 403 and err["code"] == 16, (bad, status, err)
    # A SUB-only account cannot send (the broker refuses its signed request), but can receive.
    status, err = http(port, "POST", "/topics/%s/messages" % topic, b"acl-x", sub)
    assert status == 403 and err["code"] == 16, err
    got = receive(port, topic, "G_" + topic, 1, "acl-1", headers=sub)
    assert [m["body"] for m in got] == ["acl-1"], got
    status, err = http(port, "GET", "/topics/%s/messages?group=G_%s" % (topic, topic), headers=pub)
    assert status == 403, err


def test_openapi_document_holds_against_schemathesis(h, tmp_path):
    b, port = gateway_broker(h)
    status, doc = http(port, "GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3."), doc
    # Long polls are real waits: the run caps `wait` at 1 s (a narrower schema; every case stays valid for the real one).
    # One worker: hypothesis parses lambda sources with `ast`, which is not thread-safe on CPython 3.11.
    for param in doc["paths"]["/topics/{topic}/messages"]["get"]["parameters"]:
        if param["name"] == "wait":
            param["schema"]["maximum"] = 1
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(doc))
    st = os.path.join(os.path.dirname(sys.executable), "st")
    if not os.path.exists(st):
        pytest.fail("schemathesis not installed in the test venv: run tools/test (it installs it)")
    r = subprocess.run([st, "run", str(schema), "--url", "http://127.0.0.1:%d" % port,
                        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                        "--max-examples", "25", "--workers", "1", "--generation-database", "none", "--seed", "1",
                        "--no-color", "--request-timeout", "20", "--max-time", "150"],
                       capture_output=True, text=True, timeout=240, cwd=str(tmp_path))
    print(r.stdout[-2500:])  # the summary (cases generated, warnings), shown with pytest -s
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert b.alive()
