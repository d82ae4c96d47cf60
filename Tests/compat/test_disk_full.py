"""A full disk under a real broker (a tmpfs mounted as its store): sends are refused with a clear "disk full"
remark, the broker stays up and serves reads, every acknowledged message stays readable, and sends succeed again
once the file system grows, with no restart and no manual step."""
import os
import subprocess

import pytest

from harness import Broker, warm_topic, wait_for


def test_full_disk_refuses_sends_then_recovers_without_restart(h):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    # 4 MiB segments on a 64 MiB tmpfs: the broker refuses once less than its reserve (32 MiB) plus the next
    # segment is free, long before the file system itself runs out.
    b = Broker(h.binary, os.path.join(h.workdir, "fullbroker"), {"mappedFileSizeCommitLog": str(4 << 20), "maxMessageSize": str(1 << 20)})
    os.makedirs(b.store)
    subprocess.check_call(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", b.store])
    try:
        h.brokers.append(b)
        b.start()
        pid = b.proc.pid
        topic = "T_" + h.tag.replace("-", "_")
        p = h.producer(b, compress_level=0)
        warm_topic(h, p, topic)
        pad = "x" * 4000
        acked, refusal = [], None
        for rnd in range(100):
            msgs = [{"topic": topic, "body": "full-%03d-%03d-%s" % (rnd, i, pad)} for i in range(100)]
            for m, r in zip(msgs, h.send(p, "sync", msgs)):
                if r.get("ok"):
                    acked.append(m["body"])
                elif refusal is None:
                    refusal = r
            if refusal:
                break
        assert refusal is not None, "64 MiB disk never reported full after %d messages" % len(acked)
        # The C++ client retries SERVICE_NOT_AVAILABLE and then reports "No route info"; the broker's remark is
        # in its log.
        assert "disk full" in refusal.get("error", "") or "remark:disk full" in p.logs(), refusal
        assert len(acked) > 1000, len(acked)
        assert b.alive() and b.proc.pid == pid, "broker died on a full disk"

        subprocess.check_call(["mount", "-o", "remount,size=256m", b.store])
        after = []

        def resumed():
            body = "after-%03d" % len(after)
            r = h.send(p, "sync", [{"topic": topic, "body": body}])[0]
            if r.get("ok"):
                after.append(body)
            return bool(after)
        assert wait_for(resumed, 30, 0.5), "sends did not resume after the disk grew"
        assert b.proc.pid == pid

        reader = h.pull(b, "R_" + topic, topic, expect=len(acked) + len(after), deadline=120)
        reader.expect("pulled", 130)
        got = {m["body"] for m in reader.messages()}
        missing = [x[:16] for x in acked + after if x not in got]
        assert not missing, "%d acknowledged messages lost, e.g. %s" % (len(missing), missing[:5])
        assert b.stop() == 0
    finally:
        if b.alive():
            b.stop()
        subprocess.call(["umount", "-l", b.store])
