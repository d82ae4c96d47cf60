"""Environment isolation with the C++ client: environments are chosen by group name (`<group>%env%<name>`)
and by the message property `__ENV` (README "SQL92 filters, environment isolation, message trace")."""
import pytest

from harness import assert_exact

pytestmark = pytest.mark.issue4

CONF = {"environmentIsolationEnable": "true"}


def test_two_environments_and_a_base_consumer_each_see_their_share(h):
    b, topic, p = h.setup(conf=CONF)
    base_group = "G_" + topic
    dev = h.push(b, base_group + "%env%dev", topic)
    qa = h.push(b, base_group + "%env%qa", topic)
    # The base group is not online yet: each environment group stands in for it, so untagged probes reach it.
    h.wait_ready(p, topic, [dev])
    h.wait_ready(p, topic, [qa])
    base = h.push(b, base_group, topic)
    h.wait_ready(p, topic, [base])  # from now on untagged messages go to the base group only

    msgs = (h.make(topic, "env-base", 6)
            + h.make(topic, "env-dev", 5, props={"__ENV": "dev"})
            + h.make(topic, "env-qa", 4, props={"__ENV": "qa"})
            + h.make(topic, "env-other", 3, props={"__ENV": "other"}))
    h.send_ok(p, "sync", msgs)
    want = {name: [m["body"] for m in msgs if m["body"].startswith("env-" + name)] for name in ("base", "dev", "qa")}
    got = h.collect([base, dev, qa], "env-", [x for v in want.values() for x in v], timeout=30, grace=2.0)
    assert_exact(got[0], want["base"], "base group")
    assert_exact(got[1], want["dev"], "dev group")
    assert_exact(got[2], want["qa"], "qa group")
