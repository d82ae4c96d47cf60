"""TLS on the broker's and name server's ports (`tern standalone` with RocketMQ's tls.* keys).

Certificates are made with `openssl` in the test's directory; nothing secret is committed. The official C++
client of PyPI rocketmq==0.4.4 has no TLS option (its C API exports none), so it plays the plain client:
refused in enforcing mode, served in permissive mode. `openssl s_client`, `tern admin --tls` and
`tern-bench --tls` are the TLS clients.
"""
import os
import ssl
import subprocess
import urllib.request

import pytest

from harness import Broker, assert_exact, free_port, tail, wait_for, warm_topic


def openssl(cwd, *args):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def certs(tmp_path):
    d = str(tmp_path / "certs")
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "rogue-ca"):
        openssl(d, "req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2", "-subj", "/CN=" + ca)
    for name, ca in (("server", "ca"), ("client", "ca"), ("rogue", "rogue-ca")):
        openssl(d, "req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl(d, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    return d


def tls_conf(certs, mode, **extra):
    conf = {"tls.server.mode": mode, "tls.server.certPath": os.path.join(certs, "server.pem"),
            "tls.server.keyPath": os.path.join(certs, "server.key")}
    conf.update({k.replace("_", "."): v for k, v in extra.items()})
    return conf


def s_client(port, certs, *extra):
    return subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", os.path.join(certs, "ca.pem"),
         "-verify_return_error"] + list(extra),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)


def tool(h, name, *args, timeout=60):
    binary = os.path.join(os.path.dirname(h.binary), name)
    return subprocess.run([binary] + list(args), capture_output=True, text=True, timeout=timeout)


def test_openssl_handshakes_with_broker_and_name_server(h, certs):
    b = h.broker(tls_conf(certs, "enforcing"))
    for port in (b.broker_port, b.namesrv_port):
        r = s_client(port, certs)
        assert r.returncode == 0 and "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr


def test_tern_admin_and_bench_with_tls_enforcing(h, certs):
    # The broker registers with the name server over TLS too (tls.enable); without it, it could not register.
    b = h.broker(tls_conf(certs, "enforcing", tls_enable="true",
                          tls_client_trustCertPath=os.path.join(certs, "ca.pem")))
    ca = os.path.join(certs, "ca.pem")
    topic = "T_" + h.tag.replace("-", "_")
    r = tool(h, "tern", "admin", "updateTopic", "-n", b.namesrv, "-t", topic, "-c", "DefaultCluster",
             "--tls", "--tls-trust-cert", ca)
    assert r.returncode == 0, r.stdout + r.stderr
    r = tool(h, "tern-bench", "produce", "--namesrv", b.namesrv, "--topic", topic, "--count", "200", "--json",
             "--tls", "--tls-trust-cert", ca)
    assert r.returncode == 0 and '"errors":0' in r.stdout.replace(" ", ""), r.stdout + r.stderr
    r = tool(h, "tern-bench", "consume", "--namesrv", b.namesrv, "--topic", topic, "--count", "200", "--json",
             "--tls", "--tls-trust-cert", ca)
    assert r.returncode == 0, r.stdout + r.stderr
    # Without --tls the name server closes the connection: the admin command fails.
    r = tool(h, "tern", "admin", "topicList", "-n", b.namesrv, timeout=30)
    assert r.returncode != 0
    assert wait_for(lambda: "tls.server.mode is enforcing" in tail(b.log_path, 400), 10), tail(b.log_path)
    # An untrusted CA fails the handshake, and both sides say so.
    r = tool(h, "tern", "admin", "topicList", "-n", b.namesrv, "--tls",
             "--tls-trust-cert", os.path.join(certs, "rogue-ca.pem"), timeout=30)
    assert r.returncode != 0 and "TLS handshake failed" in r.stderr, r.stdout + r.stderr
    assert wait_for(lambda: "TLS handshake failed" in tail(b.log_path, 400), 10), tail(b.log_path)


def test_plain_cpp_client_refused_in_enforcing(h, certs):
    b = h.broker(tls_conf(certs, "enforcing"))
    p = h.producer(b)
    topic = "T_" + h.tag.replace("-", "_")
    res = h.send(p, "sync", [{"topic": topic, "body": "plain-1"}], timeout=90)[0]
    assert not res.get("ok"), "a plain client sent through an enforcing broker: %s" % res


def test_plain_cpp_client_served_in_permissive(h, certs):
    b, topic, p = h.setup(tls_conf(certs, "permissive"))
    c = h.push(b, "G_" + topic, topic)
    h.wait_ready(p, topic, [c])
    msgs = h.make(topic, "perm", 10)
    h.send_ok(p, "sync", msgs)
    got = h.collect([c], "perm", [m["body"] for m in msgs])[0]
    assert_exact(got, [m["body"] for m in msgs], "plain C++ client on a permissive TLS broker")
    r = s_client(b.broker_port, certs)  # and TLS on the same port
    assert r.returncode == 0, r.stdout + r.stderr


def test_mutual_auth_refuses_client_without_certificate(h, certs):
    b = h.broker(tls_conf(certs, "enforcing", **{"tls_server_need_client_auth": "require",
                                                "tls_server_trustCertPath": os.path.join(certs, "ca.pem")}))
    # TLS 1.2: the server's refusal ends the handshake itself (1.3 would report it only after the client's Finished).
    r = s_client(b.broker_port, certs, "-tls1_2")
    assert r.returncode != 0, r.stdout + r.stderr
    assert wait_for(lambda: "TLS handshake failed" in tail(b.log_path, 400), 10), tail(b.log_path)
    r = s_client(b.broker_port, certs, "-cert", os.path.join(certs, "client.pem"),
                 "-key", os.path.join(certs, "client.key"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_https_address_document(h, certs):
    port = free_port()
    b = h.broker(tls_conf(certs, "enforcing"), http_port=port)
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    with urllib.request.urlopen("https://127.0.0.1:%d/rocketmq/nsaddr" % port, context=ctx, timeout=10) as r:
        assert r.read().decode() == b.namesrv


def test_unreadable_certificate_stops_startup(h, certs, tmp_path):
    missing = os.path.join(certs, "missing.pem")
    conf = tls_conf(certs, "enforcing")
    conf["tls.server.certPath"] = missing
    broker = Broker(h.binary, str(tmp_path / "bad"), conf)
    with pytest.raises(AssertionError) as failed:
        broker.start(timeout=30)
    assert "tls.server.certPath" in str(failed.value) and missing in str(failed.value), str(failed.value)
