"""Committed offsets and stored messages across consumer restarts, SIGTERM and kill -9 of the broker."""
import os
import time

import pytest

from harness import assert_exact


def consume_first_half(h, conf, prefix, n=20):
    b, topic, p = h.setup(conf)
    group = "G_" + topic
    c1 = h.push(b, group, topic)
    # Probes cover every queue, so after this each queue has a consumed entry and thus a committed offset.
    h.wait_ready(p, topic, [c1])
    first = h.make(topic, prefix + "a", n)
    h.send_ok(p, "sync", first)
    got = h.collect([c1], prefix + "a", [m["body"] for m in first])[0]
    assert_exact(got, [m["body"] for m in first], "first half")
    # Clean shutdown persists the consume offsets (UPDATE_CONSUMER_OFFSET) before unregistering.
    assert c1.stop() == 0, c1.logs()
    return b, topic, group, p, first


def expect_only_rest(h, c2, prefix, rest):
    expected = [m["body"] for m in rest]
    h.collect([c2], prefix, expected, timeout=40, grace=3)
    all_bodies = [m["body"] for m in c2.messages()]
    stale = [x for x in all_bodies if not x.startswith(prefix + "b")]
    assert not stale, "restarted consumer re-received %d already-consumed messages, e.g. %s" % (len(stale), stale[:8])
    assert_exact(all_bodies, expected, "restarted consumer")


def test_offsets_survive_consumer_restart(h):
    b, topic, group, p, _ = consume_first_half(h, None, "ofs")
    rest = h.make(topic, "ofsb", 20)
    h.send_ok(p, "sync", rest)  # while no consumer of the group runs
    c2 = h.push(b, group, topic)
    expect_only_rest(h, c2, "ofs", rest)


def test_sigterm_restart_keeps_messages_and_offsets(h):
    b, topic, group, p, first = consume_first_half(h, None, "trm")
    assert p.stop() == 0, p.logs()
    t0 = time.time()
    code = b.stop()
    assert code == 0, "tern exit code on SIGTERM: %s after %.1fs" % (code, time.time() - t0)
    b.start()
    p2 = h.producer(b)
    rest = h.make(topic, "trmb", 20)
    h.send_ok(p2, "sync", rest)
    c2 = h.push(b, group, topic)
    expect_only_rest(h, c2, "trm", rest)
    # Everything stored before the restart is still there for a new reader.
    reader = h.pull(b, "R_" + topic, topic, expect=len(first) + len(rest), deadline=60)
    reader.expect("pulled", 70)
    bodies = {m["body"] for m in reader.messages()}
    missing = [m["body"] for m in first + rest if m["body"] not in bodies]
    assert not missing, "lost across SIGTERM restart: %s" % missing[:8]


@pytest.mark.parametrize("write_through", [False, True], ids=["mapped", "write-through"])
def test_kill9_under_load_sync_flush(h, write_through):
    """`transientStorePoolEnable=true`: records reach the log by pwrite instead of stores through the mapping."""
    conf = {"flushDiskType": "SYNC_FLUSH"}
    if write_through:
        conf["transientStorePoolEnable"] = "true"
    b, topic, group, p, _ = consume_first_half(h, conf, "k9")

    p.send_cmd({"op": "load", "topic": topic, "prefix": "k9b", "count": 1000000, "max_failures": 2})
    acks = lambda: sum(1 for e in list(p.events) if e.get("event") == "ack")  # noqa: E731
    t0 = time.time()
    while acks() < 300 and time.time() - t0 < 20 and b.alive():
        time.sleep(0.02)
    n_before = acks()
    assert n_before > 0, "no acknowledged send under load"
    b.kill9()
    h.notes.append("kill -9 after %d acks in %.1fs" % (n_before, time.time() - t0))
    done = p.wait_event(lambda e: e.get("event") == "load_done", 60)
    assert done is not None, "producer did not notice the dead broker"
    p.kill()
    events = list(p.events)
    acked = [e["body"] for e in events if e.get("event") == "ack"]
    attempted = {e["body"] for e in events if e.get("event") == "attempt"}

    b.start(timeout=60)  # replays the log tail
    c2 = h.push(b, group, topic)
    h.collect([c2], "k9", acked, timeout=60, grace=3)
    got = [m["body"] for m in c2.messages()]
    lost = sorted(set(acked) - set(got))
    assert not lost, "%d of %d acknowledged messages lost after kill -9 (SYNC_FLUSH), e.g. %s" % (
        len(lost), len(acked), lost[:8])
    stale = [x for x in got if not x.startswith("k9b")]
    assert not stale, "committed offsets lost: re-received %d, e.g. %s" % (len(stale), stale[:8])
    unknown = [x for x in got if x not in attempted]
    assert not unknown, unknown[:8]
    dups = sorted(x for x in set(got) if got.count(x) > 1)
    assert not dups, "duplicates after restart: %s" % dups[:8]
    # Unacknowledged in-flight sends may or may not have been stored: both are correct.
    h.notes.append("acked %d, in-flight/failed stored %d" % (len(acked), len(set(got) - set(acked))))


def test_kill9_with_live_consumer_and_two_producers(h):
    """kill -9 while two producers send and a consumer of the group consumes and commits.

    Redelivery after the restart is allowed only for what the consumer may not have committed yet: the C++
    client commits offsets every 5 s (UPDATE_CONSUMER_OFFSET) and with each pull (commit flag), so anything it
    consumed more than COMMIT_WINDOW seconds before the kill must not come back."""
    COMMIT_WINDOW = 8.0
    b, topic, group, p, _ = consume_first_half(h, {"flushDiskType": "SYNC_FLUSH"}, "kl")
    c1 = h.push(b, group, topic)
    p2 = h.producer(b, group="P2_" + h.tag)
    for i, prod in enumerate((p, p2)):
        prod.send_cmd({"op": "load", "topic": topic, "prefix": "klb%d" % i, "count": 1000000, "max_failures": 2})
    time.sleep(12)
    acks = sum(1 for prod in (p, p2) for e in list(prod.events) if e.get("event") == "ack")
    consumed = len(c1.messages())
    assert b.alive()
    kill_time = time.time()
    b.kill9()
    h.notes.append("kill -9 after %d acks, %d consumed" % (acks, consumed))
    acked, attempted = set(), set()
    for prod in (p, p2):
        assert prod.wait_event(lambda e: e.get("event") == "load_done", 60) is not None, "producer hangs"
        prod.kill()
        acked |= {e["body"] for e in prod.events if e.get("event") == "ack"}
        attempted |= {e["body"] for e in prod.events if e.get("event") == "attempt"}
    c1.kill()  # its broker is gone: nothing more to commit
    before = {m["body"]: m["t"] for m in c1.messages() if m["body"].startswith("klb")}

    b.start(timeout=60)
    c2 = h.push(b, group, topic)
    h.collect([c2], "klb", acked - set(before), timeout=60, grace=3)
    after = [m["body"] for m in c2.messages()]
    lost = sorted(acked - set(before) - set(after))
    assert not lost, "%d of %d acknowledged messages lost after kill -9 (SYNC_FLUSH), e.g. %s" % (
        len(lost), len(acked), lost[:8])
    assert not [x for x in after if not x.startswith("klb")], "first-phase messages redelivered"
    assert not [x for x in after if x not in attempted], "messages nobody sent"
    old = sorted(x for x in after if x in before and before[x] < kill_time - COMMIT_WINDOW)
    assert not old, "%d messages consumed more than %ss before the kill came back, e.g. %s" % (
        len(old), COMMIT_WINDOW, old[:8])
    h.notes.append("redelivered %d (consumed within the last %ss), new %d" % (
        len([x for x in after if x in before]), COMMIT_WINDOW, len([x for x in after if x not in before])))


def test_commit_log_in_its_own_directory_survives_kill9(h):
    """`storePathCommitLog` (the log on another disk): the official client's acknowledged sync-flushed sends are in
    that directory, none under the store root, and all of them are read back after kill -9."""
    log_dir = os.path.join(h.workdir, "disk2", "commitlog")
    b, topic, p = h.setup({"flushDiskType": "SYNC_FLUSH", "storePathCommitLog": log_dir})
    msgs = h.make(topic, "cl", 30)
    h.send_ok(p, "sync", msgs)
    segments = [n for n in os.listdir(log_dir) if n.isdigit() and len(n) == 20]
    assert segments, "no segment in %s: %s" % (log_dir, os.listdir(log_dir))
    assert not os.path.exists(os.path.join(b.store, "commitlog")), os.listdir(b.store)
    b.kill9()
    b.start(timeout=60)
    reader = h.pull(b, "R_" + topic, topic, expect=len(msgs) + 8, deadline=60)  # + the 8 warm-up sends
    reader.expect("pulled", 70)
    bodies = {m["body"] for m in reader.messages()}
    missing = [m["body"] for m in msgs if m["body"] not in bodies]
    assert not missing, "lost across kill -9 with storePathCommitLog: %s" % missing[:8]
