"""pytest wiring: the `h` fixture (a Harness over a temp dir) and broker/agent logs attached to failures.

TERN_BIN names the tern executable (default: .build/debug/tern in the repository).
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Harness  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="session")
def tern_bin():
    path = os.environ.get("TERN_BIN") or os.path.join(REPO, ".build", "debug", "tern")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("tern executable not found at %s (set TERN_BIN)" % path)
    return path


@pytest.fixture
def h(request, tern_bin, tmp_path):
    harness = Harness(tern_bin, str(tmp_path), request.node.name)
    request.node._tern_harness = harness
    yield harness
    harness.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    harness = getattr(item, "_tern_harness", None)
    if harness is not None and rep.failed and rep.when in ("call", "setup"):
        rep.sections.append(("tern broker and client logs", harness.report()))
