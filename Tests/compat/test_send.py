"""Send modes of the official C++ client, each checked end to end by a clustering push consumer."""
import pytest

from harness import assert_exact

PROPS = ["color", "seq", "note"]


def payload(topic, prefix, n):
    msgs = []
    for i in range(n):
        msgs.append({
            "topic": topic,
            "body": "%s-%04d-b\u00fcdy \u2713 %s" % (prefix, i, "x" * (i % 7)),
            "keys": "key-%d alt-%d" % (i, i),
            "tags": "TagA" if i % 2 == 0 else "TagB",
            "props": {"color": ["red", "green", "blue"][i % 3], "seq": str(i), "note": "n\u00e9-%d" % i},
        })
    return msgs


def check_fields(received, sent):
    by_body = {m["body"]: m for m in sent}
    for r in received:
        s = by_body[r["body"]]
        assert r["topic"] == s["topic"], r
        assert r["keys"] == s["keys"], r
        assert r["tags"] == s["tags"], r
        for k, v in s["props"].items():
            assert r["props"].get(k) == v, (k, r)


def run_mode(h, mode, n):
    b, topic, p = h.setup()
    c = h.push(b, "G_" + topic, topic, props=PROPS)
    h.wait_ready(p, topic, [c])
    prefix = "pay-" + mode
    msgs = payload(topic, prefix, n)
    results = h.send_ok(p, mode, msgs)
    got = h.collect([c], prefix, [m["body"] for m in msgs])[0]
    assert_exact(got, [m["body"] for m in msgs], mode + " send -> push consumer")
    received = [m for m in c.messages() if m["body"].startswith(prefix)]
    check_fields(received, msgs)
    assert b.alive(), "broker died"
    return msgs, results, received


def test_sync_send(h):
    msgs, results, received = run_mode(h, "sync", 24)
    ids = [r["msg_id"] for r in results]
    assert all(ids) and len(set(ids)) == len(ids), ids
    # The send result carries the client's UNIQ_KEY; the consumer sees it as the id or the property.
    by_body = {m["body"]: m for m in received}
    for m, r in zip(msgs, results):
        got = by_body[m["body"]]
        assert r["msg_id"] in (got["id"], got["uniq_key"]), (r, got)
        assert r["offset"] == got["queue_offset"], (r, got)


def test_async_send(h):
    msgs, results, _ = run_mode(h, "async", 24)
    assert len(results) == len(msgs)
    assert all(r["msg_id"] for r in results), results


def test_oneway_send(h):
    run_mode(h, "oneway", 24)


def test_batch_send(h):
    msgs, results, received = run_mode(h, "batch", 16)
    assert len(results) == 1 and results[0]["ok"], results
    # A batch lands in one queue with consecutive offsets.
    assert len({r["queue_id"] for r in received}) == 1, received
    offsets = sorted(r["queue_offset"] for r in received)
    assert offsets == list(range(offsets[0], offsets[0] + len(msgs))), offsets


@pytest.mark.parametrize("size", [5000, 100000])
def test_compressed_bodies(h, size):
    """Bodies >= 4 KiB are zlib-compressed by the client (sysFlag 1); consumers must get them back intact."""
    b, topic, p = h.setup()
    c = h.push(b, "G_" + topic, topic)
    h.wait_ready(p, topic, [c])
    bodies = ["zip-%d-%s" % (i, ("abcdefghij%d" % i) * (size // 11)) for i in range(4)]
    h.send_ok(p, "sync", [{"topic": topic, "body": body} for body in bodies[:2]])
    h.send_ok(p, "batch", [{"topic": topic, "body": body} for body in bodies[2:]])
    got = h.collect([c], "zip-", bodies)[0]
    assert_exact(got, bodies, "compressed bodies")
