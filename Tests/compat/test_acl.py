"""ACL (aclEnable=true, RocketMQ's plain_acl.yml) with the official C++ client's signed requests.

The C++ client signs with `set_session_credentials(ak, sk, "")`. Admin codes the client cannot send go over a raw
socket from here, signed with Python's hmac (independent of Tern's signer).
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time

from harness import wait_for, warm_topic

PRODUCER = ["producerAK", "producer-secret"]
CONSUMER = ["consumerAK", "consumer-secret"]
ADMIN = ["operatorAK", "operator-secret"]

ACL = """
globalWhiteRemoteAddresses:
%(white)s
accounts:
  - accessKey: producerAK
    secretKey: producer-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - %(topic)s=PUB
  - accessKey: consumerAK
    secretKey: consumer-secret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - %(topic)s=SUB
  - accessKey: operatorAK
    secretKey: operator-secret
    admin: true
"""


def acl_broker(h, topic, white=""):
    path = os.path.join(h.workdir, "plain_acl_%d.yml" % len(h.brokers))
    with open(path, "w") as f:
        f.write(ACL % {"topic": topic, "white": ("  - " + white) if white else ""})
    return h.broker({"aclEnable": "true", "aclFilePath": path})


def topic_name(h):
    return "T_" + h.tag.replace("-", "_")


def signature_of(fields, body, secret):
    """Base64(HmacSHA1) of the values in UTF-16 key order and the body, as Java's AclUtils (Signature excluded)."""
    content = "".join(fields[k] for k in sorted(fields, key=lambda k: k.encode("utf-16-be")) if k != "Signature")
    return base64.b64encode(hmac.new(secret.encode(), content.encode() + body, hashlib.sha1).digest()).decode()


def frame_of(code, fields, body=b"", opaque=7):
    header = json.dumps({"code": code, "language": "CPP", "version": 400, "opaque": opaque, "flag": 0,
                         "extFields": fields}).encode()
    return struct.pack(">ii", 4 + len(header) + len(body), len(header)) + header + body


def read_answer(s, buf=b""):
    """One answer from socket `s` (after the bytes `buf` already read): (answer header, bytes left over)."""
    while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
        chunk = s.recv(1 << 16)
        assert chunk, "connection closed by the broker"
        buf += chunk
    size = struct.unpack(">i", buf[:4])[0]
    header_len = struct.unpack(">i", buf[4:8])[0] & 0xFFFFFF
    return json.loads(buf[8:8 + header_len]), buf[4 + size:]


def call(broker, code, fields, body=b"", credentials=None, signature=None):
    """One request over a raw socket (JSON header); returns (code, remark, extFields)."""
    fields = dict(fields)
    if credentials:
        fields["AccessKey"] = credentials[0]
        fields["Signature"] = signature_of(fields, body, credentials[1])
    if signature is not None:
        fields["Signature"] = signature
    with socket.create_connection(("127.0.0.1", broker.broker_port), timeout=10) as s:
        s.sendall(frame_of(code, fields, body))
        answer, _ = read_answer(s)
    return answer["code"], answer.get("remark"), answer.get("extFields") or {}


def test_signed_clients_send_and_consume_and_others_are_refused(h):
    topic = topic_name(h)
    b = acl_broker(h, topic)
    good = h.producer(b, credentials=PRODUCER)
    warm_topic(h, good, topic)
    sent = h.send_ok(good, "sync", h.make(topic, "good", 5))
    assert len(sent) == 5

    # 1.2.x reports a refused send as "No route info of this topic" (its retries end without a queue it may
    # use); what matters is that it fails and nothing is stored, which the consumer below checks.
    for name, cfg in [("wrong-secret", {"credentials": [PRODUCER[0], "not-the-secret"]}), ("none", {}),
                      ("sub-only", {"credentials": CONSUMER})]:
        p = h.producer(b, group="P_%s_%s" % (name.replace("-", "_"), h.tag), timeout_ms=3000, **cfg)
        results = h.send(p, "sync", h.make(topic, "bad-" + name, 2))
        assert not any(r.get("ok") for r in results), (name, results)

    # The SUB-only account consumes everything stored: exactly the signed producer's messages.
    c = h.push(b, "C_" + h.tag.replace("-", "_"), topic, credentials=CONSUMER)
    expected = ["warmup-%d" % i for i in range(8)] + ["good-%04d" % i for i in range(5)]
    got = h.collect([c], "", expected, timeout=60, grace=2.0)[0]
    assert sorted(set(got)) == sorted(expected), got
    assert not [m for m in got if m.startswith("bad-")]


def test_whitelisted_address_needs_no_signature(h):
    topic = topic_name(h)
    b = acl_broker(h, topic, white="127.0.0.*")
    p = h.producer(b)  # no credentials at all
    h.send_ok(p, "sync", h.make(topic, "white", 3))


def test_admin_codes_need_an_admin_account(h):
    topic = topic_name(h)
    b = acl_broker(h, topic)
    bogus = ["bogusAK12", "bogus-secret"]
    cases = [
        (9110, {"kind": "defaultTopicRate", "value": "1"}),   # SET_FLOW_LIMIT
        (215, {"topic": topic}),                               # DELETE_TOPIC_IN_BROKER
        (17, {"topic": topic, "readQueueNums": "4", "writeQueueNums": "4", "perm": "6"}),  # UPDATE_AND_CREATE_TOPIC
        (60002, {"group": "G"}),                               # re-send dead letters
    ]
    for code, fields in cases:
        for creds, signature in [(None, None), (bogus, None), (PRODUCER, None), (PRODUCER, "AAAA")]:
            status, remark, _ = call(b, code, fields, credentials=creds, signature=signature)
            assert status == 16, (code, creds, signature, status, remark)
    status, remark, _ = call(b, 215, {"topic": topic}, credentials=PRODUCER)
    assert remark == "Need admin permission for request code=215, but accessKey=producerAK is not", remark
    # CONSUMER_SEND_MSG_BACK with delayLevel -1 (straight to the dead letters) from bogus credentials.
    status, remark, _ = call(b, 36, {"group": "G", "offset": "0", "delayLevel": "-1", "originMsgId": "x",
                                     "originTopic": topic, "unitMode": "false", "maxReconsumeTimes": "1"},
                             credentials=bogus)
    assert status == 16, remark
    # The admin account gets through.
    status, remark, _ = call(b, 9110, {"kind": "defaultTopicRate", "value": "0"}, credentials=ADMIN)
    assert status == 0, remark


def test_reload_picks_up_a_new_account(h):
    topic = topic_name(h)
    b = acl_broker(h, topic)
    newcomer = ["newcomerAK", "newcomer-secret"]
    fields = {"kind": "defaultTopicRate", "value": "0"}
    assert call(b, 9110, fields, credentials=newcomer)[0] == 16
    path = os.path.join(h.workdir, "plain_acl_0.yml")
    with open(path, "a") as f:
        f.write("  - {accessKey: newcomerAK, secretKey: newcomer-secret, admin: true}\n")
    assert wait_for(lambda: call(b, 9110, fields, credentials=newcomer)[0] == 0, 10, 0.2)
    with open(path, "w") as f:
        f.write("accounts: [\n")  # broken: the accounts in force stay
    assert wait_for(lambda: "ACL file not reloaded" in open(b.log_path, errors="replace").read(), 10, 0.1)
    assert call(b, 9110, fields, credentials=newcomer)[0] == 0


def test_tern_admin_signs_with_access_and_secret_keys(h):
    import subprocess
    topic = topic_name(h)
    b = acl_broker(h, topic)
    base = [h.binary, "admin", "setRateLimit", "-n", b.namesrv, "--kind", "defaultTopicRate", "--value", "0"]
    unsigned = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert unsigned.returncode != 0, unsigned.stdout
    normal = subprocess.run(base + ["--access-key", PRODUCER[0], "--secret-key", PRODUCER[1]],
                            capture_output=True, text=True, timeout=60)
    assert normal.returncode != 0 and "Need admin permission" in normal.stdout + normal.stderr, normal
    admin = subprocess.run(base + ["--access-key", ADMIN[0], "--secret-key", ADMIN[1]],
                           capture_output=True, text=True, timeout=60)
    assert admin.returncode == 0, admin
    # Registrations were signed by the broker (the standalone name server enforces the same file): routable.
    status, remark, _ = call(type("NS", (), {"broker_port": b.namesrv_port}), 105, {"topic": "TBW102"})
    assert status == 0, remark


def max_offsets(b, topic, queues=16):
    """Sum of the topic's queues' max offsets (GET_MAX_OFFSET 30, signed by the admin): messages stored."""
    total = 0
    for q in range(queues):
        status, remark, fields = call(b, 30, {"topic": topic, "queueId": str(q)}, credentials=ADMIN)
        assert status == 0, remark
        total += int(fields.get("offset", 0))
    return total


def send_fields(topic, i):
    """A C++ SEND_MESSAGE_V2 header (numbers as the client stringifies them) for message `i`."""
    return {"a": "P_flood", "b": topic, "c": "TBW102", "d": "4", "e": str(i % 4), "f": "0",
            "g": str(int(time.time() * 1000)), "h": "0", "i": "", "j": "0", "k": "false", "m": "false",
            "AccessKey": PRODUCER[0]}


def flood_frames(topic, n, seed):
    """`n` SEND_MESSAGE_V2 frames a hostile client might send: truncated, random, near-miss, missing signatures,
    no AccessKey, unknown AccessKey. Each would store a message if it got past the ACL."""
    import random
    rnd = random.Random(seed)
    body = b"flood"
    frames = []
    for i in range(n):
        fields = send_fields(topic, i)
        good = signature_of(fields, body, PRODUCER[1])
        kind = i % 6
        if kind == 0:
            fields["Signature"] = good[:rnd.randrange(len(good))]
        elif kind == 1:
            fields["Signature"] = base64.b64encode(bytes(rnd.randrange(256) for _ in range(20))).decode()
        elif kind == 2:
            at = rnd.randrange(27)
            fields["Signature"] = good[:at] + ("B" if good[at] == "A" else "A") + good[at + 1:]
        elif kind == 3:
            pass  # no Signature
        elif kind == 4:
            del fields["AccessKey"]
        else:
            fields["AccessKey"] = "stranger%d" % rnd.randrange(1000)
            fields["Signature"] = good
        frames.append(frame_of(310, fields, body, opaque=i))
    return frames


def fire(port, frames, window=200):
    """Sends `frames` on one connection, `window` pipelined at a time; returns the answers' codes."""
    codes = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        buf = b""
        for start in range(0, len(frames), window):
            batch = frames[start:start + window]
            s.sendall(b"".join(batch))
            for _ in batch:
                answer, buf = read_answer(s, buf)
                codes.append(answer["code"])
    return codes


def flood(port, frames):
    """The hostile client: one socket per list of frames, on threads of one process (its own interpreter, so
    the harness's threads and the flood do not share a GIL); returns every answer's code."""
    import threading
    codes = [[] for _ in frames]
    threads = [threading.Thread(target=lambda c=c: codes[c].extend(fire(port, frames[c]))) for c in range(len(frames))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [code for per_connection in codes for code in per_connection]


def p99(latencies):
    return sorted(latencies)[int(len(latencies) * 0.99)]


def test_hostile_flood_never_reaches_a_processor(h):
    """10 000 forged sends from 5 connections while a well-behaved client sends signed, one at a time, on its own
    connection: every forged one is refused (NO_PERMISSION, counted in rocketmq_rpc_latency), nothing of them is
    stored, and the signed client's p99 send latency during the flood stays within 3x its quiet p99 + 20 ms,
    both measured here (a connection refused again and again is served a few requests per pause). The margin is
    for the flooder's own CPU on a shared 2-core machine: without the pauses this p99 was 220-320 ms (debug)."""
    from test_metrics import scrape, total
    from harness import free_port
    topic = topic_name(h)
    metrics_port = free_port()
    path = os.path.join(h.workdir, "plain_acl_flood.yml")
    with open(path, "w") as f:
        f.write(ACL % {"topic": topic, "white": ""})
    b = h.broker({"aclEnable": "true", "aclFilePath": path, "metricsExporterType": "PROM",
                  "metricsPromExporterPort": str(metrics_port)})
    p = h.producer(b, credentials=PRODUCER)
    warm_topic(h, p, topic)
    stored_before = max_offsets(b, topic)
    refused_before = total(scrape(metrics_port), "rocketmq_rpc_latency_count", request_code="310", response_code="16")

    good = socket.create_connection(("127.0.0.1", b.broker_port), timeout=30)
    acked = 0

    def send_signed(least, keep_going):
        """Seconds per signed send, one at a time, at least `least` and then while keep_going()."""
        nonlocal acked
        latencies = []
        while len(latencies) < least or keep_going():
            fields, body = send_fields(topic, acked), b"good-%d" % acked
            fields["Signature"] = signature_of(fields, body, PRODUCER[1])
            t0 = time.monotonic()
            good.sendall(frame_of(310, fields, body, opaque=acked))
            answer, rest = read_answer(good)
            latencies.append(time.monotonic() - t0)
            assert answer["code"] == 0 and not rest, answer
            acked += 1
        return latencies

    send_signed(200, lambda: False)  # warm-up
    quiet = send_signed(1_000, lambda: False)
    import multiprocessing
    connections, per = 5, 2_000
    frames = [flood_frames(topic, per, seed) for seed in range(connections)]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        t0 = time.monotonic()
        pending = pool.apply_async(flood, (b.broker_port, frames))
        during = send_signed(1_000, lambda: not pending.ready())
        answered = pending.get(120)
        flood_seconds = time.monotonic() - t0
    good.close()
    assert len(answered) == connections * per, "some forged requests got no answer"
    assert set(answered) == {16}, sorted(set(answered))
    refused = total(scrape(metrics_port), "rocketmq_rpc_latency_count", request_code="310", response_code="16")
    assert refused - refused_before == connections * per
    assert max_offsets(b, topic) - stored_before == acked, "a forged send was stored"
    h.notes.append("flood: %d forged sends refused in %.2f s; signed send p50 / p99 / max %.0f / %.0f / %.0f µs quiet "
                   "(%d sends), %.0f / %.0f / %.0f µs during the flood (%d sends)" % (
                       connections * per, flood_seconds, sorted(quiet)[len(quiet) // 2] * 1e6, p99(quiet) * 1e6,
                       max(quiet) * 1e6, len(quiet), sorted(during)[len(during) // 2] * 1e6, p99(during) * 1e6,
                       max(during) * 1e6, len(during)))
    print(h.notes[-1])
    assert p99(during) < 3 * p99(quiet) + 0.020, h.notes[-1]
