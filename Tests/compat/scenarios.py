#!/usr/bin/env python3
"""Client agents for the compatibility suite; each runs in its own process.

The official C++ client (librocketmq.so inside PyPI rocketmq==0.4.4) keeps global state, may hang and logs
natively, so the pytest process never loads it: it starts these agents instead and talks JSON lines.
Every line meant for the harness starts with "@@ " (the native library may write to stdout too).

  scenarios.py producer <config-json>   reads commands (JSON lines) on stdin, answers one line each
  scenarios.py push <config-json>       push consumer; streams {"event": "msg", ...}; "stop" or EOF on stdin ends it
  scenarios.py pull <config-json>       pull consumer; pulls until `expect` messages or `deadline`, then exits

Every agent exits by itself after its `deadline` (seconds), whatever the client library does.
"""
import json
import os
import sys
import threading
import time

from rocketmq.client import Message, Producer, PullConsumer, PushConsumer, RecvMessage
from rocketmq.exceptions import ffi_check
from rocketmq.ffi import MSG_CALLBACK_FUNC, MessageModel, _CConsumeStatus, dll

_out_lock = threading.Lock()


def emit(obj):
    line = "@@ " + json.dumps(obj, sort_keys=True) + "\n"
    with _out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def finish(code=0):
    """Leaves without running the wrapper's __del__ (a second native shutdown can hang)."""
    with _out_lock:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def watchdog(seconds, what):
    def fire():
        emit({"event": "deadline", "what": what})
        finish(3)
    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


def text(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def describe(msg, prop_names):
    props = {}
    for name in prop_names:
        v = text(msg.get_property(name))
        if v:
            props[name] = v
    return {
        "topic": text(msg.topic),
        "body": text(msg.body),
        "keys": text(msg.keys),
        "tags": text(msg.tags),
        "props": props,
        "id": text(msg.id),
        "uniq_key": text(msg.get_property("UNIQ_KEY")),
        "queue_id": msg.queue_id,
        "queue_offset": msg.queue_offset,
        "reconsume_times": msg.reconsume_times,
    }


# ---------------------------------------------------------------- producer

def build_message(m):
    msg = Message(m["topic"])
    if m.get("keys"):
        msg.set_keys(m["keys"])
    if m.get("tags"):
        msg.set_tags(m["tags"])
    if m.get("delay"):
        msg.set_delay_time_level(int(m["delay"]))
    for k, v in (m.get("props") or {}).items():
        msg.set_property(k, v)
    msg.set_body(m["body"])
    return msg


def result_dict(res):
    return {"ok": int(res.status) == 0, "status": int(res.status), "msg_id": res.msg_id, "offset": res.offset}


def error_dict(exc):
    return {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}


def send_one(producer, mode, m):
    msg = build_message(m)
    try:
        if mode == "sync":
            return result_dict(producer.send_sync(msg))
        if mode == "orderly":
            return result_dict(producer.send_orderly(msg, int(m["shard"])))
        if mode == "oneway":
            producer.send_oneway(msg)
            return {"ok": True}
        raise ValueError("unknown mode %r" % mode)
    except Exception as exc:  # the wrapper raises plain RocketMQException subclasses
        return error_dict(exc)


def send_async_all(producer, msgs, timeout):
    results = [None] * len(msgs)
    done = threading.Semaphore(0)

    def callbacks(i):
        def ok(res):
            results[i] = result_dict(res)
            done.release()

        def failed(exc):
            results[i] = error_dict(exc)
            done.release()
        return ok, failed

    keep = []
    for i, m in enumerate(msgs):
        msg = build_message(m)
        keep.append(msg)  # the native side reads the message until the callback fires
        ok, failed = callbacks(i)
        try:
            producer.send_async(msg, ok, failed)
        except Exception as exc:
            results[i] = error_dict(exc)
            done.release()
    end = time.time() + timeout
    for i in range(len(msgs)):
        if not done.acquire(timeout=max(0.0, end - time.time())):
            break
    return [r if r is not None else {"ok": False, "error": "no callback"} for r in results]


def set_namesrv(client, cfg):
    """A name-server address list, or (cfg "namesrv_domain") the URL of the HTTP address document."""
    if cfg.get("namesrv_domain"):
        client.set_namesrv_domain(cfg["namesrv_domain"])
    else:
        client.set_namesrv_addr(cfg["namesrv"])
    if cfg.get("credentials"):  # [accessKey, secretKey]: the client signs every request (ACL)
        client.set_session_credentials(cfg["credentials"][0], cfg["credentials"][1], "")


def run_producer(cfg):
    watchdog(cfg.get("deadline", 120), "producer")
    p = Producer(cfg.get("group", "compat_producer"))
    set_namesrv(p, cfg)
    if cfg.get("timeout_ms"):
        p.set_timeout(int(cfg["timeout_ms"]))
    if cfg.get("max_message_size"):
        p.set_max_message_size(int(cfg["max_message_size"]))
    if cfg.get("compress_level") is not None:
        p.set_compress_level(int(cfg["compress_level"]))
    p.start()
    emit({"event": "started"})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "quit":
            break
        if op == "send":
            mode = cmd["mode"]
            if mode == "async":
                results = send_async_all(p, cmd["msgs"], cmd.get("timeout", 30))
            elif mode == "batch":
                try:
                    results = [result_dict(p.send_batch([build_message(m) for m in cmd["msgs"]]))]
                except Exception as exc:
                    results = [error_dict(exc)]
            else:
                # Stop at the first failure: a dead broker costs a client timeout per message otherwise.
                results = []
                for m in cmd["msgs"]:
                    if results and not results[-1]["ok"]:
                        results.append({"ok": False, "error": "skipped after a failure"})
                    else:
                        results.append(send_one(p, mode, m))
            emit({"event": "sent", "results": results})
        elif op == "load":
            # Sync sends one after another, reporting each outcome as it happens, so the harness knows
            # exactly which messages were acknowledged even if it kills the broker mid-way.
            failures = 0
            for i in range(int(cmd["count"])):
                body = "%s-%06d" % (cmd["prefix"], i)
                emit({"event": "attempt", "body": body})
                r = send_one(p, "sync", {"topic": cmd["topic"], "body": body, "keys": body})
                emit({"event": "ack" if r["ok"] else "fail", "body": body, "result": r})
                failures = 0 if r["ok"] else failures + 1
                if failures >= int(cmd.get("max_failures", 2)):
                    break
            emit({"event": "load_done"})
        else:
            emit({"event": "error", "error": "unknown op %r" % op})
    p.shutdown()
    emit({"event": "stopped"})
    finish(0)


# ---------------------------------------------------------------- push consumer

def run_push(cfg):
    watchdog(cfg.get("deadline", 120), "push")
    model = MessageModel.BROADCASTING if cfg.get("broadcast") else MessageModel.CLUSTERING
    c = PushConsumer(cfg["group"], orderly=bool(cfg.get("orderly")), message_model=model)
    set_namesrv(c, cfg)
    if cfg.get("threads"):
        c.set_thread_count(int(cfg["threads"]))
    prop_names = cfg.get("props", [])
    delay = float(cfg.get("consume_delay", 0))

    retry_prefix = cfg.get("reconsume_first")  # answer RECONSUME_LATER to the first delivery of these
    failed_once = set()
    # Answer RECONSUME_LATER to these until they come back re-sent from the DLQ (RETRY_TOPIC set, count reset).
    fail_prefix = cfg.get("fail_until_resent")

    def on_message(consumer_handle, msg_handle):
        msg = RecvMessage(msg_handle)
        d = describe(msg, prop_names)
        d["event"] = "msg"
        d["t"] = time.time()
        status = _CConsumeStatus.CONSUME_SUCCESS
        if retry_prefix and d["body"].startswith(retry_prefix) and d["body"] not in failed_once:
            failed_once.add(d["body"])
            status = _CConsumeStatus.RECONSUME_LATER
        if fail_prefix and d["body"].startswith(fail_prefix):
            d["retry_topic"] = text(msg.get_property("RETRY_TOPIC"))
            if not (d["retry_topic"] and d["reconsume_times"] == 0):
                status = _CConsumeStatus.RECONSUME_LATER
        d["status"] = status.name
        emit(d)
        if delay:
            time.sleep(delay)
        return status.value

    # Registered directly: the wrapper's subscribe() turns a listener exception into a ctypes error (status 0 =
    # success), so RECONSUME_LATER is unreachable through it.
    ffi_check(dll.Subscribe(c._handle, cfg["topic"].encode("utf-8"), cfg.get("expression", "*").encode("utf-8")))
    callback = MSG_CALLBACK_FUNC(on_message)
    c._callback_refs.append(callback)
    register = dll.RegisterMessageCallbackOrderly if cfg.get("orderly") else dll.RegisterMessageCallback
    ffi_check(register(c._handle, callback))
    c.start()
    emit({"event": "started"})
    for line in sys.stdin:  # "stop" or EOF ends the consumer
        if line.strip() == "stop":
            break
    c.shutdown()  # persists offsets (UPDATE_CONSUMER_OFFSET) and unregisters
    emit({"event": "stopped"})
    finish(0)


# ---------------------------------------------------------------- pull consumer

def run_pull(cfg):
    watchdog(cfg.get("deadline", 60), "pull")
    c = PullConsumer(cfg["group"])
    set_namesrv(c, cfg)
    c.start()
    topic = cfg["topic"]
    # The wrapper keeps offsets in a class-level table keyed "%s@%s" % (mq.topic, mq.queueId), where mq.topic
    # is bytes under Python 3 ("b'T'@0"); pre-seed it that way to pull from an offset.
    table_key = lambda qid: "%s@%s" % (topic.encode("utf-8"), qid)  # noqa: E731
    for qid, off in (cfg.get("offsets") or {}).items():
        PullConsumer.offset_table[table_key(qid)] = int(off)
    expect = int(cfg.get("expect", 0))
    seen = 0
    rounds = 0
    emit({"event": "started"})
    # pull() walks each queue until NO_NEW_MSG; repeat because records become visible after dispatch.
    while True:
        rounds += 1
        for msg in c.pull(topic, cfg.get("expression", "*"), int(cfg.get("max_num", 32))):
            d = describe(msg, cfg.get("props", []))
            d["event"] = "msg"
            emit(d)
            seen += 1
        if seen >= expect:
            break
        time.sleep(0.2)
    emit({"event": "pulled", "count": seen, "rounds": rounds,
          "offsets": {k.replace(table_key(""), topic + "@"): v for k, v in PullConsumer.offset_table.items()}})
    c.shutdown()
    emit({"event": "stopped"})
    finish(0)


def main():
    kind, cfg = sys.argv[1], json.loads(sys.argv[2])
    try:
        {"producer": run_producer, "push": run_push, "pull": run_pull}[kind](cfg)
    except Exception as exc:
        emit({"event": "crash", "error": "%s: %s" % (type(exc).__name__, exc)})
        finish(2)


if __name__ == "__main__":
    main()
