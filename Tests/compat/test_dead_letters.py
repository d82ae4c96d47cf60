"""Dead letters with the real client: a consumer that always answers RECONSUME_LATER sees each message
1 + retryMaxTimes times (through %RETRY%<group>), then the message sits in %DLQ%<group>; `tern admin dlq`
lists it and `tern admin resendDlq` brings it back to the original topic, where the consumer accepts it.
Short delay levels (1 s) and retryMaxTimes=2 keep it quick. Also: delayed and timer messages across kill -9."""
import json
import subprocess
import time

import pytest

from harness import assert_exact, wait_for

pytestmark = pytest.mark.issue4

FAST = {"messageDelayLevel": " ".join(["1s"] * 18), "retryMaxTimes": "2"}


def admin(h, b, *args):
    r = subprocess.run([h.binary, "admin", *args, "-n", b.namesrv, "--json"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "tern admin %s failed: %s %s" % (args[0], r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_always_failing_consumer_ends_in_dlq_and_resend_brings_it_back(h):
    b, topic, p = h.setup(conf=FAST)
    group = "G_" + topic
    c = h.push(b, group, topic, fail_until_resent="dead-", props=["RETRY_TOPIC"])
    h.wait_ready(p, topic, [c])
    msgs = [{"topic": topic, "body": "dead-%d" % i, "keys": "dk%d" % i} for i in range(3)]
    h.send_ok(p, "sync", msgs)
    expected = [m["body"] for m in msgs]

    def deliveries():
        return [m for m in c.messages() if m["body"].startswith("dead-")]

    # Original + 2 retries, each answered RECONSUME_LATER; the third failure (reconsume_times 2) goes to the DLQ.
    # (The first retry waits for the client's next rebalance to pick up the %RETRY% route, about 10 s.)
    letters = []

    def listed():
        letters[:] = admin(h, b, "dlq", "-g", group)
        return len(letters) >= 3
    assert wait_for(listed, 90, 1.0), (letters, [(m["body"], m["reconsume_times"]) for m in deliveries()])
    time.sleep(3)  # nothing more comes: the DLQ is not consumed
    seen = deliveries()
    # The C wrapper stops calling back at the first failure of a batch (the whole batch is sent back), so
    # the agent sees every first delivery but not necessarily every retry.
    assert sorted(m["body"] for m in seen if m["reconsume_times"] == 0) == sorted(expected), seen
    assert all(m["status"] == "RECONSUME_LATER" and m["reconsume_times"] in (0, 1, 2) for m in seen), seen
    assert any(m["reconsume_times"] == 2 for m in seen), seen
    assert_exact([l["body"] for l in letters], expected, "dead letters")
    for l in letters:
        assert l["topic"] == "%DLQ%" + group and l["reconsumeTimes"] == 3 and l["properties"]["RETRY_TOPIC"] == topic, l
        assert l["keys"] == ["dk%s" % l["body"][-1]], l

    out = admin(h, b, "resendDlq", "-g", group)
    assert out["resent"] == 3, out
    assert wait_for(lambda: len([m for m in deliveries() if m["status"] == "CONSUME_SUCCESS"]) >= 3, 30, 0.2)
    time.sleep(1.5)
    back = [m for m in deliveries() if m["status"] == "CONSUME_SUCCESS"]
    assert_exact([m["body"] for m in back], expected, "re-sent dead letters")
    for m in back:
        assert m["topic"] == topic and m["reconsume_times"] == 0 and m["retry_topic"] == topic, m
    assert admin(h, b, "dlq", "-g", group) == []  # all re-sent
    assert admin(h, b, "resendDlq", "-g", group)["resent"] == 0


def test_delayed_and_timer_messages_survive_kill9_once_each(h):
    """Level-2 (5 s) and TIMER_DELAY_SEC=6 messages parked, broker killed with -9 before they are due,
    restarted: each is delivered exactly once to its topic (read back by a pull from offset 0)."""
    b, topic, p = h.setup(conf={"flushDiskType": "SYNC_FLUSH"}, warm=True)
    msgs = [{"topic": topic, "body": "kd-lvl-%d" % i, "delay": 2} for i in range(3)]
    msgs += [{"topic": topic, "body": "kd-tmr-%d" % i, "props": {"TIMER_DELAY_SEC": "6"}} for i in range(3)]
    sent_at = time.time()
    h.send_ok(p, "sync", msgs)
    time.sleep(1.0)
    b.kill9()
    p.kill()
    b.start(timeout=60)
    early = h.pull(b, "PULLE_" + topic, topic, expect=8, deadline=20)  # the 8 warm-up messages only
    early.expect("stopped", 30)
    if time.time() - sent_at < 4.5:  # only meaningful while nothing is due yet
        assert not [m for m in early.messages() if m["body"].startswith("kd-")], "delivered before due"
    time.sleep(max(0, sent_at + 9 - time.time()))
    full = h.pull(b, "PULL_" + topic, topic, expect=8 + len(msgs), deadline=40)
    full.expect("stopped", 50)
    time.sleep(1)
    b.kill9()  # and once more after delivery: nothing is delivered twice
    b.start(timeout=60)
    time.sleep(2)
    again = h.pull(b, "PULL2_" + topic, topic, expect=8 + len(msgs), deadline=30)
    again.expect("stopped", 40)
    for agent in (full, again):
        got = [m["body"] for m in agent.messages() if m["body"].startswith("kd-")]
        assert_exact(got, [m["body"] for m in msgs], "delayed messages after kill -9")
