#!/usr/bin/env python3
"""Writes the hand-made seed inputs of every fuzz target into Fuzz/Corpus/<target>/seed-*.

Seeds are valid (or nearly valid) inputs, so libFuzzer starts past the first length checks. Inputs found by
fuzzing (crashes once fixed, interesting cases) sit beside them under other names and are never regenerated.
"""
import json
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def props(pairs):
    return b"".join(k.encode() + b"\x01" + v.encode() + b"\x02" for k, v in pairs)


def json_header(code, opaque, flag, ext, remark=None):
    return json.dumps({"code": code, "language": "JAVA", "version": 317, "opaque": opaque, "flag": flag,
                       "remark": remark, "extFields": ext, "serializeTypeCurrentRPC": "JSON"}).encode()


def binary_header(code, opaque, flag, ext, remark=b""):
    out = struct.pack(">hbhii", code, 0, 317, opaque, flag) + struct.pack(">i", len(remark)) + remark
    fields = b"".join(struct.pack(">h", len(k)) + k.encode() + struct.pack(">i", len(v)) + v.encode()
                      for k, v in ext.items())
    return out + struct.pack(">i", len(fields)) + fields


def frame(header, body=b"", kind=0):
    return struct.pack(">iI", 4 + len(header) + len(body), kind << 24 | len(header)) + header + body


def record(body, topic, properties, queue_offset=0, physical=0):
    size = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 4 + len(body) + 1 + len(topic) + 2 + len(properties)
    crc = zlib.crc32(body) & 0x7FFFFFFF
    return (struct.pack(">iIIiiqqiq", size, 0xDAA320A7, crc, 1, 0, queue_offset, physical, 0, 1700000000000)
            + bytes([127, 0, 0, 1]) + struct.pack(">i", 5555) + struct.pack(">q", 1700000000001)
            + bytes([127, 0, 0, 1]) + struct.pack(">i", 10911) + struct.pack(">iq", 0, 0)
            + struct.pack(">i", len(body)) + body + bytes([len(topic)]) + topic
            + struct.pack(">h", len(properties)) + properties)


def batch_item(body, properties):
    size = 4 + 4 + 4 + 4 + 4 + len(body) + 2 + len(properties)
    return (struct.pack(">iIIii", size, 0xAABBCCDD ^ 0x1234, zlib.crc32(body) & 0x7FFFFFFF, 0, len(body)) + body
            + struct.pack(">h", len(properties)) + properties)


send_ext = {"producerGroup": "PG", "topic": "T", "defaultTopic": "TBW102", "defaultTopicQueueNums": "4",
            "queueId": "1", "sysFlag": "0", "bornTimestamp": "1700000000000", "flag": "0",
            "properties": "KEYS\x01k1\x02TAGS\x01a\x02", "reconsumeTimes": "0", "unitMode": "false", "batch": "false"}
pull_ext = {"consumerGroup": "G", "topic": "T", "queueId": "0", "queueOffset": "0", "maxMsgNums": "32",
            "sysFlag": "2", "commitOffset": "0", "suspendTimeoutMillis": "15000", "subscription": "*", "subVersion": "0"}

put("json-header", "send", json_header(10, 1, 0, send_ext))
put("json-header", "pull", json_header(11, 2, 0, pull_ext))
put("json-header", "response", json_header(0, 3, 1, {"msgId": "AB", "queueId": "1"}, "ok \u00e9"))
put("json-header", "nested", b'{"code":105,"extFields":{},"x":[1,{"a":[true,null,-1.5e3]}],"opaque":7}')
put("binary-header", "send", binary_header(10, 1, 0, send_ext))
put("binary-header", "response", binary_header(0, 3, 1, {"msgId": "AB"}, b"remark"))
put("frame", "json-send", frame(json_header(10, 1, 0, send_ext), b"hello body"))
put("frame", "binary-pull", frame(binary_header(11, 2, 0, pull_ext), b"", 1))
put("frame", "two-frames", frame(json_header(105, 4, 0, {})) + frame(binary_header(34, 5, 2, {"a": "b"}), b"x", 1))
put("frame", "heartbeat-body", frame(json_header(34, 6, 0, {}), json.dumps({"clientID": "c", "consumerDataSet": []}).encode()))
p = props([("KEYS", "k1"), ("TAGS", "a"), ("UNIQ_KEY", "7F0000010000000000000001")])
put("record", "one", record(b"body-1", b"TopicA", p))
put("record", "two", record(b"b" * 40, b"T", b"", 1, 0) + record(b"", b"TopicB", props([("a", "1")]), 2, 100))
put("properties", "common", p)
put("properties", "odd", b"a\x01\x02\x01b\x02c\x01d\x01e\x02\x02")
put("batch", "two", batch_item(b"one", props([("KEYS", "k")])) + batch_item(b"two-two", b""))
put("sql92", "compare", b"a > 1 AND b = 'x'")
put("sql92", "between-in", b"(n BETWEEN 1 AND 10 OR TAGS IN ('t', 'u')) AND NOT c IS NULL")
put("sql92", "bool", b"flag = TRUE OR x <> 3.5e2 AND y IS NOT NULL")
put("fastjson", "topic-stats", b'{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:'
    b'{"lastUpdateTimestamp":1700000000000,"maxOffset":9,"minOffset":0}}}')
put("fastjson", "consume-stats", b'{"consumeTps":0.0,"offsetTable":{{"brokerName":"b","queueId":1,"topic":"t"}:'
    b'{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":5}}}')
put("fastjson", "kv-table", b'{"table":{"putTps":"0.0 0.0 0.0","esc":"a\\"\\\\\\u0001\\ud83d\\ude00/\xc3\xa9"}}')
put("fastjson", "int-keys", b'{"offsetTable":{"t@g":{0:5,1:-3}},"x":[1.5e3,-0,true,false,null,[],{}]}\x00')
