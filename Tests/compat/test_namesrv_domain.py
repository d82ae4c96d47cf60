"""Clients that know only a name-server *domain*: the C++ client fetches the address list from the name
server's HTTP document (`GET /rocketmq/nsaddr`) and then works as usual."""
from harness import assert_exact, free_port, warm_topic


def test_clients_find_name_server_through_http_address_document(h):
    b = h.broker(http_port=free_port())
    url = "http://127.0.0.1:%d/rocketmq/nsaddr" % b.http_port
    topic = "T_" + h.tag.replace("-", "_")
    p = h.producer(b, namesrv_domain=url)
    warm_topic(h, p, topic)  # the first sends auto-create the topic (and prove the producer found the name server)
    c = h.push(b, "G_" + topic, topic, namesrv_domain=url)
    h.wait_ready(p, topic, [c])
    msgs = h.make(topic, "dom", 20)
    h.send_ok(p, "sync", msgs)
    got = h.collect([c], "dom", [m["body"] for m in msgs])[0]
    assert_exact(got, [m["body"] for m in msgs], "sync send -> push consumer, both via the nsaddr document")
