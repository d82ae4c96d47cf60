"""Consumption patterns: group split, broadcasting, tag filters, ordered consumption, pull from an offset."""
from collections import defaultdict

from harness import assert_exact


def test_two_consumers_split_queues(h):
    b, topic, p = h.setup()
    group = "G_" + topic
    c1 = h.push(b, group, topic)
    c2 = h.push(b, group, topic)
    h.wait_ready(p, topic, [c1, c2], mode="split")
    msgs = h.make(topic, "split", 40)
    h.send_ok(p, "sync", msgs)
    expected = [m["body"] for m in msgs]
    got1, got2 = h.collect([c1, c2], "split", expected)
    assert_exact(got1 + got2, expected, "two consumers of one group together")
    assert got1 and got2, "one consumer got nothing: %d / %d" % (len(got1), len(got2))
    q1 = {m["queue_id"] for m in c1.messages() if m["body"].startswith("split")}
    q2 = {m["queue_id"] for m in c2.messages() if m["body"].startswith("split")}
    assert not (q1 & q2), "queues consumed by both: %s / %s" % (q1, q2)


def test_broadcasting(h):
    b, topic, p = h.setup()
    group = "B_" + topic
    c1 = h.push(b, group, topic, broadcast=True)
    c2 = h.push(b, group, topic, broadcast=True)
    h.wait_ready(p, topic, [c1, c2], mode="all")
    msgs = h.make(topic, "bcast", 30, tags="T1")
    h.send_ok(p, "sync", msgs)
    expected = [m["body"] for m in msgs]
    got = h.collect([c1, c2], "bcast", expected)
    wait_each = [set(g) >= set(expected) for g in got]
    assert all(wait_each), "not every consumer got everything: %s" % [len(g) for g in got]
    assert_exact(got[0], expected, "broadcast consumer 1")
    assert_exact(got[1], expected, "broadcast consumer 2")


def test_tag_filter(h):
    b, topic, p = h.setup()
    c = h.push(b, "G_" + topic, topic, expression="TagA || TagB")
    h.wait_ready(p, topic, [c], tags="TagA")
    tags = ["TagA", "TagB", "TagC", None, "TagAB", "taga"]
    msgs = [{"topic": topic, "body": "flt-%03d-%s" % (i, tags[i % len(tags)]), "tags": tags[i % len(tags)]}
            for i in range(36)]
    # The last 8 match, so every queue's filtered-out entries lie before something the consumer must get.
    msgs += [{"topic": topic, "body": "flt-%03d-tail" % (100 + i), "tags": "TagB" if i % 2 else "TagA"} for i in range(8)]
    h.send_ok(p, "sync", msgs)
    expected = [m["body"] for m in msgs if m["tags"] in ("TagA", "TagB")]
    got = h.collect([c], "flt-", expected)[0]
    assert_exact(got, expected, "subscription 'TagA || TagB'")
    for m in c.messages():
        if m["body"].startswith("flt-"):
            assert m["tags"] in ("TagA", "TagB"), m


def test_orderly_send_and_consume(h):
    b, topic, p = h.setup()
    c = h.push(b, "G_" + topic, topic, orderly=True, threads=4)
    h.wait_ready(p, topic, [c])
    keys = 5
    per_key = 16
    msgs = []
    for seq in range(per_key):
        for k in range(keys):
            msgs.append({"topic": topic, "body": "ord-k%d-%03d" % (k, seq), "keys": "k%d" % k, "shard": k})
    results = h.send_ok(p, "orderly", msgs)
    assert all(r.get("msg_id") for r in results)
    expected = [m["body"] for m in msgs]
    got = h.collect([c], "ord-", expected)[0]
    assert_exact(got, expected, "orderly consumer")
    seqs = defaultdict(list)
    queues = defaultdict(set)
    for m in c.messages():
        if m["body"].startswith("ord-"):
            k = m["body"].split("-")[1]
            seqs[k].append(int(m["body"].split("-")[2]))
            queues[k].add(m["queue_id"])
    for k, s in seqs.items():
        assert s == list(range(per_key)), "key %s consumed out of order: %s" % (k, s)
        assert len(queues[k]) == 1, "key %s spread over queues %s" % (k, queues[k])


def test_pull_consumer_from_offset(h):
    b, topic, p = h.setup(warm=False)
    msgs = h.make(topic, "pl", 30, tags="TagP")
    results = h.send_ok(p, "sync", msgs)
    expected = [m["body"] for m in msgs]
    sent_offset = {m["body"]: r["offset"] for m, r in zip(msgs, results)}

    full = h.pull(b, "PULL_" + topic, topic, expect=len(msgs), deadline=60)
    full.expect("stopped", 70)
    got = full.messages()
    assert_exact([m["body"] for m in got], expected, "pull from offset 0")
    per_queue = defaultdict(list)
    for m in got:
        per_queue[m["queue_id"]].append(m["queue_offset"])
        assert m["queue_offset"] == sent_offset[m["body"]], m
        assert m["tags"] == "TagP", m
    for q, offs in per_queue.items():
        assert offs == list(range(len(offs))), "queue %s offsets %s" % (q, offs)

    start = 3
    want = [m["body"] for m in got if m["queue_offset"] >= start]
    part = h.pull(b, "PULL2_" + topic, topic, expect=len(want), deadline=60,
                  offsets={str(q): start for q in per_queue})
    done = part.expect("pulled", 70)
    assert_exact([m["body"] for m in part.messages()], want, "pull from offset %d" % start)
    for q, offs in per_queue.items():
        assert done["offsets"]["%s@%s" % (topic, q)] == len(offs), done
