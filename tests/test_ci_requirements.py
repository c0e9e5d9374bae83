"""CI's CHAINRULE_REQUIRE_* variables turn a test skipped for want of a tool into a failure
(checked here for the browser the explorer page's tests need; run as a separate pytest)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")


def test_a_browser_test_skipped_without_chromium_fails_under_ci(tmp_path):
    variable, reason = "CHAINRULE_REQUIRE_BROWSER", "no Chromium browser on PATH"
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_needs_tool.py").write_text(
        f"import pytest\n\ndef test_it():\n    pytest.skip({reason!r})\n"
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINRULE_REQUIRE_")}
    relaxed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert relaxed.returncode == 0 and "1 skipped" in relaxed.stdout
    strict = subprocess.run(
        command, cwd=tmp_path, env={**env, variable: "1"}, capture_output=True, text=True
    )
    assert strict.returncode == 1 and "1 failed" in strict.stdout
    assert f"{variable}=1 requires" in strict.stdout
