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


def call(broker, code, fields, body=b"", credentials=None, signature=None):
    """One request over a raw socket (JSON header); returns (code, remark, extFields)."""
    fields = dict(fields)
    if credentials:
        fields["AccessKey"] = credentials[0]
        content = "".join(fields[k] for k in sorted(fields, key=lambda k: k.encode("utf-16-be")))
        mac = hmac.new(credentials[1].encode(), content.encode() + body, hashlib.sha1).digest()
        fields["Signature"] = base64.b64encode(mac).decode()
    if signature is not None:
        fields["Signature"] = signature
    header = json.dumps({"code": code, "language": "CPP", "version": 400, "opaque": 7, "flag": 0,
                         "extFields": fields}).encode()
    frame = struct.pack(">ii", 4 + len(header) + len(body), len(header)) + header + body
    with socket.create_connection(("127.0.0.1", broker.broker_port), timeout=10) as s:
        s.sendall(frame)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = s.recv(65536)
            assert chunk, "connection closed before the answer"
            data += chunk
    header_len = struct.unpack(">i", data[4:8])[0] & 0xFFFFFF
    answer = json.loads(data[8:8 + header_len])
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
    time.sleep(1.5)
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
