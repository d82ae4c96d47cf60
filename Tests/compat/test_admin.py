"""Admin API with the real client: the C++ client produces and consumes, then `tern admin` commands (the codes
Apache's mqadmin sends: 28, 26, 202, 208, 200, 201, 207, 222, 315, 317, 203, 204, 314, 307, 300, and the pulls of
queryMsgByOffset / printMsg: 11, 29, 30, 31) are checked against the real broker.
Body shapes themselves are golden-tested in Swift (FastJSONTests, AdminRuntimeTests)."""
import json
import subprocess
import time

from harness import wait_for


def admin(h, b, *args, ok=True):
    r = subprocess.run([h.binary, "admin", *args, "-n", b.namesrv, "--json"], capture_output=True, text=True, timeout=30)
    if not ok:
        return r
    assert r.returncode == 0, "tern admin %s failed: %s %s" % (args[0], r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_admin_commands_against_a_live_broker(h):
    b, topic, p = h.setup()
    addr = "127.0.0.1:%d" % b.broker_port
    group = "G_" + topic
    c = h.push(b, group, topic)
    h.wait_ready(p, topic, [c])
    msgs = h.make(topic, "adm", 20)
    h.send_ok(p, "sync", msgs)
    h.collect([c], "adm", [m["body"] for m in msgs])

    # brokerStatus (clusterList reads the same table): every figure parses as mqadmin parses it.
    status = admin(h, b, "brokerStatus", "-b", addr)[addr]
    assert all(float(x) >= 0 for x in status["putTps"].split(" ")), status
    assert len(status["getTransferedTps"].split(" ")) == 3, status
    assert 0 < float(status["commitLogDiskRatio"]) <= 1, status
    assert int(status["msgPutTotalTodayNow"]) >= 28 and int(status["earliestMessageTimeStamp"]) > 0, status
    assert status["brokerVersionDesc"].startswith("V4_"), status

    config = admin(h, b, "getBrokerConfig", "-b", addr)[addr]
    assert config["listenPort"] == str(b.broker_port) and config["autoCreateSubscriptionGroup"] == "true", config
    r = admin(h, b, "updateBrokerConfig", "-b", addr, "-k", "defaultGroupPullRateLimit", "-v", "5000", ok=False)
    assert r.returncode == 0, r.stderr
    assert admin(h, b, "getBrokerConfig", "-b", addr)[addr]["defaultGroupPullRateLimit"] == "5000.0"
    # The async flush interval changes live (the store's flush thread takes it) and is reported back.
    assert admin(h, b, "getBrokerConfig", "-b", addr)[addr]["flushIntervalCommitLog"] == "500"
    r = admin(h, b, "updateBrokerConfig", "-b", addr, "-k", "flushIntervalCommitLog", "-v", "200", ok=False)
    assert r.returncode == 0, r.stderr
    assert admin(h, b, "getBrokerConfig", "-b", addr)[addr]["flushIntervalCommitLog"] == "200"
    r = admin(h, b, "updateBrokerConfig", "-b", addr, "-k", "flushIntervalCommitLog", "-v", "0", ok=False)
    assert r.returncode != 0 and "flushIntervalCommitLog" in r.stderr, r.stderr
    r = admin(h, b, "updateBrokerConfig", "-b", addr, "-k", "brokerName", "-v", "x", ok=False)
    assert r.returncode != 0 and "cannot change at runtime" in r.stderr, r.stderr

    # topicStatus: the object-keyed TopicStatsTable, decoded by the admin client.
    stats = admin(h, b, "topicStatus", "-t", topic)
    assert sum(q["maxOffset"] for q in stats["queues"]) >= 28, stats

    # consumerProgress: the object-keyed ConsumeStats; the group catches up.
    def caught_up():
        progress = admin(h, b, "consumerProgress", "-g", group, "-t", topic)
        return progress["diffTotal"] == 0 and sum(q["consumerOffset"] for q in progress["queues"]) >= 28
    assert wait_for(caught_up, 30, 0.5)

    # Subscription groups: create, read back, delete.
    admin(h, b, "updateSubGroup", "-g", "SUB_" + topic, "-b", addr, "-r", "3", "-d", "false")
    got = admin(h, b, "getConsumerConfig", "-g", "SUB_" + topic, "-b", addr)[addr]
    assert got["retryMaxTimes"] == 3 and got["consumeBroadcastEnable"] is False, got
    assert admin(h, b, "getConsumerConfig", "-g", group, "-b", addr)[addr]["consumeEnable"] is True  # auto-created
    r = admin(h, b, "deleteSubGroup", "-g", "SUB_" + topic, "-b", addr, ok=False)
    assert r.returncode == 0, r.stderr
    assert admin(h, b, "getConsumerConfig", "-g", "SUB_" + topic, "-b", addr) == {}

    # resetOffsetByTime to the beginning while the consumer runs: the broker moves the offsets and tells the
    # C++ client (RESET_CONSUMER_CLIENT_OFFSET), which consumes the messages again.
    before = len(h.bodies(c, "adm"))
    table = admin(h, b, "resetOffsetByTime", "-g", group, "-t", topic, "-s", "0")
    assert table and all(row["offset"] == 0 for row in table), table
    assert wait_for(lambda: len(h.bodies(c, "adm")) >= before + len(msgs), 60, 0.5), (before, len(h.bodies(c, "adm")))


def test_admin_stats_connections_and_clone(h):
    b, topic, p = h.setup()
    addr = "127.0.0.1:%d" % b.broker_port
    group = "G_" + topic
    c = h.push(b, group, topic)
    h.wait_ready(p, topic, [c])
    msgs = h.make(topic, "st", 10)
    h.send_ok(p, "sync", msgs)
    h.collect([c], "st", [m["body"] for m in msgs])
    assert wait_for(lambda: admin(h, b, "consumerProgress", "-g", group, "-t", topic)["diffTotal"] == 0, 30, 0.5)

    # consumerConnection (203): the C++ consumer, as its heartbeats registered it.
    conns = admin(h, b, "consumerConnection", "-g", group)
    assert len(conns["connectionSet"]) == 1 and topic in conns["subscriptionTable"], conns
    # consumerStatus (307): relayed to the C++ client, which answers with its own ConsumerRunningInfo.
    infos = admin(h, b, "consumerStatus", "-g", group)
    assert len(infos) == 1 and topic in list(infos.values())[0], infos

    # statsAll (315 per topic and topic@group) and brokerConsumeStats (317).
    rows = admin(h, b, "statsAll", "-t", topic)
    put = [r for r in rows if r["group"] == ""]
    got = [r for r in rows if r["group"] == group]
    assert put and put[0]["total"] >= 10 and got and got[0]["total"] >= 10, rows
    queues = [r for r in admin(h, b, "brokerConsumeStats", "-b", addr) if r["group"] == group and r["topic"] == topic]
    assert queues and sum(r["consumerOffset"] for r in queues) >= 10 and all(r["diff"] == 0 for r in queues), queues

    # cloneGroupOffset (314): a new group starts where the source group is.
    dest = "CLONE_" + topic
    r = admin(h, b, "cloneGroupOffset", "-s", group, "-d", dest, "-t", topic, "-o", "true", ok=False)
    assert r.returncode == 0, r.stderr
    cloned = admin(h, b, "consumerProgress", "-g", dest, "-t", topic)
    assert sum(q["consumerOffset"] for q in cloned["queues"]) == sum(q["consumerOffset"] for q in queues), cloned


def test_admin_message_queries_producer_connection_and_offset_removal(h):
    """queryMsgByOffset / printMsg pull as TOOLS_CONSUMER; producerConnection shows the C++ producer;
    deleteSubGroup --remove-offset (207, removeOffset=true) removes the group's offsets, still gone after kill -9."""
    b, topic, p = h.setup()
    addr = "127.0.0.1:%d" % b.broker_port
    group = "G_" + topic
    c = h.push(b, group, topic)
    h.wait_ready(p, topic, [c])
    msgs = h.make(topic, "qo", 12, tags="TagQ")
    h.send_ok(p, "sync", msgs)
    h.collect([c], "qo", [m["body"] for m in msgs])
    got = [m for m in c.messages() if m["body"].startswith("qo-")]

    broker_name = admin(h, b, "topicStatus", "-t", topic)["queues"][0]["brokerName"]
    for m in got[:3]:
        found = admin(h, b, "queryMsgByOffset", "-t", topic, "-b", broker_name, "-i", str(m["queue_id"]),
                      "-o", str(m["queue_offset"]))
        assert found["body"] == m["body"] and found["tags"] == "TagQ" and found["queueOffset"] == m["queue_offset"], found
    r = admin(h, b, "queryMsgByOffset", "-t", topic, "-b", broker_name, "-i", "0", "-o", "1000000", ok=False)
    assert r.returncode != 0 and "no message at offset" in r.stderr, r.stderr
    printed = admin(h, b, "printMsg", "-t", topic, "-s", "TagQ")
    assert sorted(x["body"] for x in printed) == sorted(m["body"] for m in msgs), printed

    # producerConnection (204): the C++ producer's group, as its heartbeats registered it. The C++ client
    # names its group in a heartbeat that may come only with its 30 s heartbeat timer: wait for it.
    def producer_connections():
        r = admin(h, b, "producerConnection", "-g", "P_" + h.tag, "-t", topic, ok=False)
        return json.loads(r.stdout) if r.returncode == 0 else None
    assert wait_for(lambda: producer_connections() is not None, 45, 1.0), "producer group never registered"
    conns = producer_connections()
    assert len(conns) == 1 and conns[0]["language"] == "CPP", conns

    assert wait_for(lambda: admin(h, b, "consumerProgress", "-g", group, "-t", topic)["diffTotal"] == 0, 30, 0.5)
    c.stop()
    before = admin(h, b, "consumerProgress", "-g", group)
    assert sum(q["consumerOffset"] for q in before["queues"]) >= len(msgs), before
    r = admin(h, b, "deleteSubGroup", "-g", group, "-b", addr, "--remove-offset", ok=False)
    assert r.returncode == 0, r.stderr
    b.kill9()  # answered once removed: no graceful stop needed to keep the removal
    b.start(timeout=60)
    after = admin(h, b, "consumerProgress", "-g", group)
    assert after["queues"] == [], after
