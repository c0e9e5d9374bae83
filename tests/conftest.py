"""Shared pytest configuration.

* The ``slow`` marker: selected by default; ``-m "not slow"`` skips those tests.
* ``CHAINRULE_REQUIRE_RENDERER=1`` (set by ``.ci/run``) turns a test skipped for want of a
  Graphviz renderer into a failure, so CI cannot pass without actually rendering SVG.
* ``CHAINRULE_REQUIRE_TORCH=1`` (also set by ``.ci/run``) does the same for a test skipped
  because torch is not installed (``dev.py test`` installs it), so the PyTorch oracle and
  bridge tests cannot silently drop out of CI.
* ``CHAINRULE_REQUIRE_BROWSER=1`` (also set by ``.ci/run``) does the same for the explorer
  page's tests, skipped without Chromium or Playwright (``dev.py test`` installs both).
"""

from __future__ import annotations

import os

import pytest

NO_RENDERER = "no Graphviz renderer"  # the skip reason every rendering test uses
NO_TORCH = "could not import 'torch'"  # pytest.importorskip("torch")'s skip reason
NO_BROWSER = "no Chromium browser"  # the skip reason of the tests that drive a browser


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes 10 s or more (selected by default; deselect with -m 'not slow')"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    required = os.environ.get("CHAINRULE_REQUIRE_RENDERER") == "1"
    if required and report.skipped and NO_RENDERER in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid}: {NO_RENDERER} on PATH, and CHAINRULE_REQUIRE_RENDERER=1 requires one"
        )
    torch_required = os.environ.get("CHAINRULE_REQUIRE_TORCH") == "1"
    if torch_required and report.skipped and NO_TORCH in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid}: torch is not installed, and CHAINRULE_REQUIRE_TORCH=1 requires it"
        )
    browser_required = os.environ.get("CHAINRULE_REQUIRE_BROWSER") == "1"
    if browser_required and report.skipped and NO_BROWSER in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid}: {NO_BROWSER} (or no Playwright), and CHAINRULE_REQUIRE_BROWSER=1 "
            "requires one"
        )
