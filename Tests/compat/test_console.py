"""The built-in console (`tern standalone --http-port`) in a real browser: Debian's headless Chromium driven by
selenium through Debian's chromedriver, against a broker filled by the official C++ client (messages with keys, a
lagging consumer group, a dead letter). Asserts what a person sees, creates a topic and re-pushes a dead letter
through the UI and checks through the broker that both happened. Screenshots: console-*.png in the test's workdir
(kept only when the test fails, see pytest.ini), or in $TERN_ARTIFACTS when set (always kept)."""
import base64
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from harness import free_port, wait_for

# Retries one second apart, two of them: a failing consumer's message reaches %DLQ% quickly.
FAST = {"messageDelayLevel": " ".join(["1s"] * 18), "retryMaxTimes": "2"}


def chromium(workdir):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed in the test venv (tools/test installs it)")
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("Debian's chromium / chromium-driver are not installed (tools/setup installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000",
              "--user-data-dir=" + os.path.join(workdir, "chromium-profile")):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(driver, log_output=os.path.join(workdir, "chromedriver.log")), options=opts)


def admin(h, b, *args):
    r = subprocess.run([h.binary, "admin", *args, "-n", b.namesrv, "--json"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "tern admin %s failed: %s %s" % (args[0], r.stdout, r.stderr)
    return json.loads(r.stdout)


class Page:
    """The browser on one console: open a path, read an element's text, keep a screenshot."""

    def __init__(self, driver, base, workdir):
        self.driver, self.base, self.workdir = driver, base, workdir
        from selenium.webdriver.common.by import By
        self.by = By

    def open(self, path, shot=None):
        self.driver.get(self.base + path)
        if shot:
            self.shot(shot)
        return self

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.workdir, "console-%s.png" % name))

    def text(self, element_id):
        return self.driver.find_element(self.by.ID, element_id).text

    def texts(self, css):
        return [e.text for e in self.driver.find_elements(self.by.CSS_SELECTOR, css)]

    def fill(self, form_id, **fields):
        form = self.driver.find_element(self.by.ID, form_id)
        for name, value in fields.items():
            box = form.find_element(self.by.NAME, name)
            box.clear()
            box.send_keys(str(value))
        return form

    def submit(self, form_id, **fields):
        self.follow(self.fill(form_id, **fields).find_element(self.by.CSS_SELECTOR, "button[type=submit]"))

    def follow(self, element, timeout=30):
        """Clicks a link or submit button and waits until the page it leads to has loaded. A click returns once the
        browser took it, which can be before the navigation began: reading then finds the old page (a form's
        answer looked like a page without its notice)."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait
        old = self.driver.find_element(self.by.TAG_NAME, "html")
        element.click()

        def left(_):
            try:
                old.is_enabled()
                return False
            except WebDriverException:  # stale, or (mid-navigation) "does not belong to the document"
                return True
        wait = WebDriverWait(self.driver, timeout)
        wait.until(left)
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def eventually(self, path, element_id, pred, timeout=30):
        """Reloads `path` until `pred(text of element_id)` holds; returns the last text."""
        seen = []

        def check():
            self.open(path)
            try:
                seen[:] = [self.text(element_id)]
            except Exception as e:  # not on the page yet (an error page while the route propagates)
                seen[:] = ["<%s>" % type(e).__name__]
                return False
            return pred(seen[0])
        assert wait_for(check, timeout, 0.5), "%s #%s: last seen %r" % (path, element_id, seen)
        return seen[0]


def test_console_pages_and_actions_in_a_real_browser(h):
    b = h.broker(FAST, http_port=free_port())
    base = "http://127.0.0.1:%d" % b.http_port
    # One HTTP server: the name-server address document is still served on the same port.
    with urllib.request.urlopen(base + "/rocketmq/nsaddr", timeout=10) as r:
        assert r.read().decode() == b.namesrv

    tag = h.tag.replace("-", "_")
    topic, dead_topic, lag_group, dead_group = "TC_" + tag, "TD_" + tag, "GL_" + tag, "GD_" + tag
    p = h.producer(b)
    # The searched topic: exactly 10 messages with keys and recognisable bodies.
    msgs = [{"topic": topic, "body": "console body %d <b>&" % i, "keys": "ck-%d" % i, "tags": "TagA"} for i in range(10)]
    h.send_ok(p, "sync", msgs)

    # A dead letter: a consumer that fails every delivery until it was re-sent.
    h.send_ok(p, "sync", [{"topic": dead_topic, "body": "warmup-%d" % i} for i in range(4)])
    dc = h.push(b, dead_group, dead_topic, fail_until_resent="dead-", props=["RETRY_TOPIC"])
    h.wait_ready(p, dead_topic, [dc])
    h.send_ok(p, "sync", [{"topic": dead_topic, "body": "dead-0", "keys": "dk0"}])

    # A lagging group: consumes, stops (committing its offsets), then 7 more messages arrive.
    lc = h.push(b, lag_group, topic)
    h.wait_ready(p, topic, [lc])
    lc.stop()
    h.send_ok(p, "sync", [{"topic": topic, "body": "late-%d" % i} for i in range(7)])
    stored = sum(q["maxOffset"] - q["minOffset"] for q in admin(h, b, "topicStatus", "-t", topic)["queues"])

    assert wait_for(lambda: len(admin(h, b, "dlq", "-g", dead_group)) >= 1, 120, 1.0), "no dead letter for %s" % dead_group

    driver = chromium(h.workdir)
    shots = os.environ.get("TERN_ARTIFACTS") or h.workdir
    os.makedirs(shots, exist_ok=True)
    try:
        ui = Page(driver, base, shots)
        # Cluster: the broker, its role and version.
        ui.open("/", shot="cluster")
        rows = ui.texts("#brokers tbody tr")
        assert len(rows) == 1 and "MASTER" in rows[0] and "V4_" in rows[0], rows

        # Topics: the list's message count and the topic's own page agree with the broker.
        ui.open("/topics?filter=" + urllib.parse.quote(topic), shot="topics")
        row = [r for r in ui.texts("#topics tbody tr") if r.startswith(topic + " ")]
        assert row and row[0].split()[4] == str(stored), (row, stored)
        ui.open("/topic?name=" + urllib.parse.quote(topic), shot="topic")
        assert ui.text("topic-messages") == str(stored)

        # Message search by key: the found message's body, then its page (text and hex) and its trace page.
        ui.open("/messages", shot="messages-empty")
        ui.submit("search-key", topic=topic, key="ck-3")
        ui.shot("messages-found")
        assert ui.texts("#results .body-preview") == ["console body 3 <b>&"]
        ui.follow(driver.find_element(ui.by.CSS_SELECTOR, "#results tbody a"))
        assert ui.text("body-text") == "console body 3 <b>&"
        assert "63 6f 6e 73 6f 6c 65" in ui.text("body-hex")
        ui.shot("message")
        offset_id = [r for r in ui.texts("#headers tr") if r.startswith("Offset message id")][0].split()[-1]
        ui.open("/messages?id=" + offset_id)
        assert ui.texts("#results .body-preview") == ["console body 3 <b>&"]
        ui.open("/messages?topic=%s&queue=%s&offset=0" % (topic, 0))
        assert len(ui.texts("#results tbody tr")) == 1
        ui.follow(driver.find_element(ui.by.CSS_SELECTOR, "#results tbody a"))
        ui.follow(driver.find_element(ui.by.LINK_TEXT, "Trace of this message"))
        ui.shot("trace")
        assert ui.text("trace-path")

        # Consumer group: the lag a person reads is what the broker reports: at least the 7 messages sent after
        # the group stopped (more if the client had not committed its last probes).
        lag = admin(h, b, "consumerProgress", "-g", lag_group)["diffTotal"]
        assert lag >= 7, lag
        assert ui.eventually("/group?name=" + lag_group, "group-lag", lambda t: t == str(lag)) == str(lag)
        ui.shot("group")
        per_queue = sorted(int(t) for t in ui.texts("#progress .queue-lag"))
        assert sum(per_queue) == lag, per_queue
        ui.open("/groups?filter=" + lag_group, shot="groups")
        assert [r.split()[-2] for r in ui.texts("#groups tbody tr")] == [str(lag)]

        # Dead letters: the group is listed; re-push its one message through the UI.
        ui.open("/dlq", shot="dlq")
        assert any(r.startswith(dead_group) for r in ui.texts("#dlq-groups tbody tr"))
        ui.open("/dlq?group=" + dead_group)
        assert "dead-0" in ui.text("dead-letters")
        ui.follow(driver.find_element(ui.by.CSS_SELECTOR, "#dead-letters form button"))
        ui.shot("dlq-repushed")
        assert ui.text("notice").startswith("Re-pushed 1 dead letter"), ui.text("notice")
        # Through the broker: the message is back in its topic and the consumer got it and accepted it.
        assert wait_for(lambda: any(m["body"] == "dead-0" and m["status"] == "CONSUME_SUCCESS" for m in dc.messages()), 30, 0.2)

        # Create a topic through the UI; the broker and the name server know it.
        created = "UI_" + tag
        ui.open("/topics")
        ui.submit("create-topic", name=created, readQueues=3, writeQueues=3)
        ui.shot("topic-created")
        assert "saved on" in ui.text("notice"), ui.text("notice")
        assert created in admin(h, b, "topicList")
        assert len(admin(h, b, "topicStatus", "-t", created)["queues"]) == 3

        # Flow limits and replication pages render the broker's answers.
        ui.open("/flow", shot="flow")
        assert "defaultTopicRate" in driver.page_source
        ui.open("/replication", shot="replication")
        assert "1 broker group(s), 0 slave(s)." == ui.text("replication-summary")
        # Set a topic's rate through the form: the answer names it and lists it, and the broker applied it.
        ui.open("/flow")
        ui.submit("set-flow", name=topic, value="123")
        ui.shot("flow-set")
        assert ui.text("notice").startswith("topicRate %s = 123" % topic), ui.text("notice")
        assert "topicRate %s 123 msg/s" % topic in ui.text("flow-127.0.0.1:%d" % b.broker_port)
        limits = admin(h, b, "flowLimits")
        assert [l["topicRateLimits"].get(topic) for l in limits.values()] == [123.0], limits
    finally:
        driver.quit()


ACL = """
accounts:
  - accessKey: readerAK
    secretKey: reader-secret
    defaultTopicPerm: SUB
    defaultGroupPerm: SUB
  - accessKey: operatorAK
    secretKey: operator-secret
    admin: true
"""


def post(url, fields, account=None, origin=None):
    req = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    if origin:
        req.add_header("Origin", origin)
    if account:
        req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % account).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def test_console_writes_need_an_acl_admin_account(h):
    acl = os.path.join(h.workdir, "plain_acl.yml")
    with open(acl, "w") as f:
        f.write(ACL)
    b = h.broker({"aclEnable": "true", "aclFilePath": acl}, http_port=free_port())
    base = "http://127.0.0.1:%d" % b.http_port
    # Reads use the broker's own admin account: no login for pages.
    with urllib.request.urlopen(base + "/", timeout=10) as r:
        assert "MASTER" in r.read().decode()
    topic = "UA_" + h.tag.replace("-", "_")
    status, headers, _ = post(base + "/topic/update", {"name": topic, "readQueues": 2, "writeQueues": 2})
    assert status == 401 and headers.get("WWW-Authenticate", "").startswith("Basic "), (status, headers)
    status, _, page = post(base + "/topic/update", {"name": topic, "readQueues": 2, "writeQueues": 2},
                           ("readerAK", "reader-secret"))
    assert status == 403, (status, page[-500:])
    # A form another site's page sent (the browser names that site in Origin) is refused even with an account.
    status, _, page = post(base + "/topic/update", {"name": topic, "readQueues": 2, "writeQueues": 2},
                           ("operatorAK", "operator-secret"), origin="http://evil.example")
    assert status == 403 and "another site" in page, (status, page[-500:])
    status, _, page = post(base + "/topic/update", {"name": topic, "readQueues": 2, "writeQueues": 2},
                           ("operatorAK", "operator-secret"), origin=base)
    assert status == 200 and "saved on" in page, (status, page[-800:])
    assert wait_for(lambda: topic in urllib.request.urlopen(base + "/topics?filter=" + topic, timeout=10).read().decode(), 15, 0.3)

    # The admin's secret is rotated in the ACL file: the broker reloads it, and the console's page reads (signed
    # with that admin account) follow the reload instead of failing with the old secret.
    with open(acl, "w") as f:
        f.write(ACL.replace("operator-secret", "operator-secret-2"))
    later = time.time() + 5
    os.utime(acl, (later, later))  # a modification time the broker sees as new even within the same second

    def old_secret_refused():
        status, _, _ = post(base + "/topic/update", {"name": topic, "readQueues": 2, "writeQueues": 2},
                            ("operatorAK", "operator-secret"), origin=base)
        return status == 403
    assert wait_for(old_secret_refused, 15, 0.3), "the broker did not reload the ACL file"
    with urllib.request.urlopen(base + "/flow", timeout=10) as r:  # GET_FLOW_LIMITS: refused to an unknown signature
        assert "defaultTopicRate" in r.read().decode()
