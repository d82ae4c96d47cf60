"""Crash loop: repeated kill -9 of a real `tern standalone` under sync sends, then every acknowledged message
must be readable with the id and body its send returned.

TERN_CHAOS_CYCLES sets the number of kill -9 cycles (default 3; `tools/chaos N` runs a larger N).
TERN_CHAOS_FLUSH sets flushDiskType (default ASYNC_FLUSH: kill -9 ends the process, not the machine, so every byte
written to the mapped commit log is in the page cache and must survive; SYNC_FLUSH: acknowledged after msync).
"""
import os
import random
import time

CYCLES = int(os.environ.get("TERN_CHAOS_CYCLES", "3"))
FLUSH = os.environ.get("TERN_CHAOS_FLUSH", "ASYNC_FLUSH")


def acked_until_kill(h, b, topic, cycle, rng):
    """One cycle: a producer sends sync until the broker is killed at a random moment; returns acked results."""
    p = h.producer(b, group="P_%s_%d" % (h.tag, cycle), timeout_ms=3000)
    p.send_cmd({"op": "load", "topic": topic, "prefix": "c%03d" % cycle, "count": 1000000, "max_failures": 2})
    want = rng.randint(20, 400)
    acks = lambda: sum(1 for e in list(p.events) if e.get("event") == "ack")  # noqa: E731
    t0 = time.time()
    while acks() < want and time.time() - t0 < 20 and b.alive():
        time.sleep(0.005)
    assert acks() > 0, "cycle %d: no acknowledged send" % cycle
    b.kill9()
    done = p.wait_event(lambda e: e.get("event") == "load_done", 60)
    assert done is not None, "cycle %d: producer did not notice the dead broker" % cycle
    p.kill()
    return {e["body"]: e["result"]["msg_id"] for e in list(p.events) if e.get("event") == "ack"}


def test_chaos_kill9_loop_loses_no_acknowledged_message(h):
    started = time.time()
    rng = random.Random(int(os.environ.get("TERN_CHAOS_SEED", "0")) or None)
    b = h.broker({"flushDiskType": FLUSH})
    topic = "T_" + h.tag.replace("-", "_")
    acked = {}
    for cycle in range(CYCLES):
        if cycle > 0:
            b.start(timeout=60)  # replays the log tail after the previous kill -9
        acked.update(acked_until_kill(h, b, topic, cycle, rng))
    b.start(timeout=60)
    reader = h.pull(b, "R_" + h.tag, topic, expect=len(acked), deadline=240 + CYCLES // 2)
    reader.expect("pulled", 250 + CYCLES // 2)
    got = {}
    for m in reader.messages():
        got.setdefault(m["body"], []).append(m["uniq_key"] or m["id"])
    assert all(acked.values()), "a send was acknowledged without a message id"
    unknown = sorted(body for body in got if not body.startswith("c"))
    assert not unknown, "messages nobody sent: %s" % unknown[:8]
    lost = sorted(body for body in acked if body not in got)
    wrong_id = sorted(body for body, mid in acked.items() if body in got and mid not in got[body])
    dups = sorted(body for body, ids in got.items() if len(ids) > 1)
    h.notes.append("chaos (%s): %d cycles in %.0f s, %d acknowledged, %d read back, lost %d, wrong id %d, duplicated %d" % (
        FLUSH, CYCLES, time.time() - started, len(acked), len(got), len(lost), len(wrong_id), len(dups)))
    print("note:", h.notes[-1])
    assert not lost, "%d of %d acknowledged messages lost over %d kill -9 cycles, e.g. %s" % (
        len(lost), len(acked), CYCLES, lost[:8])
    assert not wrong_id, "ids differ from the acknowledged ones: %s" % [(x, acked[x], got[x]) for x in wrong_id[:5]]
    assert not dups, "stored twice: %s" % dups[:8]
