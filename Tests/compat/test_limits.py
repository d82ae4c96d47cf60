"""Message size limit: broker `maxMessageSize` with the client limit raised by `set_max_message_size`."""
import hashlib
import random


LIMIT = 256 * 1024


def body(prefix, size, seed):
    # Random alphanumerics: no NUL (the C client cuts bodies there) and compression cannot shrink them much.
    rnd = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return prefix + "".join(rnd.choice(alphabet) for _ in range(size - len(prefix)))


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def test_large_messages_up_to_limit_and_clean_refusal_above(h):
    # Compression level 0 keeps the wire size equal to the body size (plus a few zlib framing bytes).
    b, topic, p = h.setup({"maxMessageSize": LIMIT}, max_message_size=4 * LIMIT, compress_level=0)
    c = h.push(b, "G_" + topic, topic)
    h.wait_ready(p, topic, [c])

    medium = body("big-medium-", 200 * 1024, 1)      # above the client's default 128 KiB limit
    near = body("big-near-", LIMIT - 4096, 2)         # just under the broker limit
    too_big = body("big-over-", LIMIT + 64 * 1024, 3)  # above it, even if the client compresses
    after = "big-after-small"

    h.send_ok(p, "sync", [{"topic": topic, "body": medium}, {"topic": topic, "body": near}])
    refused = h.send(p, "sync", [{"topic": topic, "body": too_big}])[0]
    assert not refused.get("ok"), "a %d-byte body was accepted with maxMessageSize=%d: %s" % (len(too_big), LIMIT, refused)
    assert b.alive(), "broker died on an oversized message"
    h.send_ok(p, "sync", [{"topic": topic, "body": after}])

    expected = {sha(medium): "medium", sha(near): "near", sha(after): "after"}
    h.collect([c], "big-", [medium, near, after], timeout=40)
    got = [m["body"] for m in c.messages() if m["body"].startswith("big-")]
    names = sorted(expected.get(sha(g), "unexpected:%s:%d" % (g[:12], len(g))) for g in got)
    assert names == ["after", "medium", "near"], names
