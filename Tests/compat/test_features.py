"""Broker features the C++ client reaches without special API: delayed delivery and consumer retry.

Issue 4 acceptance tests (marker `issue4`; `tools/test --compat-only -m issue4` runs only them).
"""
import time

import pytest

from harness import assert_exact, wait_for

pytestmark = pytest.mark.issue4


def test_delay_level(h):
    b, topic, p = h.setup()
    c = h.push(b, "G_" + topic, topic)
    h.wait_ready(p, topic, [c])
    now = [{"topic": topic, "body": "dly-now-%d" % i} for i in range(4)]
    later = [{"topic": topic, "body": "dly-5s-%d" % i, "delay": 2, "keys": "dk%d" % i} for i in range(4)]  # level 2 = 5 s
    h.send_ok(p, "sync", later + now)
    got = h.collect([c], "dly-", [m["body"] for m in now + later], timeout=30)[0]
    assert_exact(got, [m["body"] for m in now + later], "delayed and immediate messages")
    t = {m["body"]: m for m in c.messages() if m["body"].startswith("dly-")}
    first_now = min(t[m["body"]]["t"] for m in now)
    for m in later:
        r = t[m["body"]]
        assert r["topic"] == topic and r["keys"] == m["keys"], r
        assert r["t"] - first_now >= 4.0, "level-2 message delivered %.1fs after the immediate ones" % (r["t"] - first_now)


def test_reconsume_later_comes_back_through_retry_topic(h):
    b, topic, p = h.setup()
    c = h.push(b, "G_" + topic, topic, reconsume_first="rty-", props=["color"])
    h.wait_ready(p, topic, [c])
    msgs = [{"topic": topic, "body": "rty-%d" % i, "keys": "rk%d" % i, "tags": "TagR", "props": {"color": "c%d" % i}}
            for i in range(3)]
    h.send_ok(p, "sync", msgs)
    expected = [m["body"] for m in msgs]
    # First delivery answered RECONSUME_LATER -> CONSUMER_SEND_MSG_BACK -> %RETRY% after delay level 3 (10 s).
    h.collect([c], "rty-", expected, timeout=10, grace=0)
    wait_for(lambda: len([m for m in c.messages() if m["body"].startswith("rty-")]) >= 2 * len(msgs), 40, 0.2)
    seen = [m for m in c.messages() if m["body"].startswith("rty-")]
    time.sleep(1)
    firsts = {m["body"]: m for m in seen if m["status"] == "RECONSUME_LATER"}
    seconds = [m for m in seen if m["status"] == "CONSUME_SUCCESS"]
    assert_exact([m["body"] for m in seconds], expected, "redelivered after RECONSUME_LATER")
    for m in seconds:
        orig = next(x for x in msgs if x["body"] == m["body"])
        assert m["topic"] == topic, m  # client restores RETRY_TOPIC
        assert m["keys"] == orig["keys"] and m["tags"] == "TagR" and m["props"].get("color") == orig["props"]["color"], m
        assert m["reconsume_times"] == 1, m
        assert m["t"] - firsts[m["body"]]["t"] >= 8.0, "came back after %.1fs" % (m["t"] - firsts[m["body"]]["t"])
