"""`python3 dev.py notebooks` starts JupyterLab on notebooks/; the server lists every notebook."""

from __future__ import annotations

import importlib.util
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_dev():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_the_notebooks_command_serves_every_notebook(tmp_path):
    dev = _load_dev()
    port, token = _free_port(), secrets.token_hex(8)
    command = dev.notebooks_command(
        [
            "--no-browser",
            "--ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
        ]
    )
    assert command[0] == dev.VENV_PYTHON  # dev.py runs it with the project's venv ...
    command[0] = sys.executable  # ... which is the interpreter running these tests in CI
    env = {"JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "HOME": str(tmp_path)}
    server = subprocess.Popen(
        [str(c) for c in command],
        cwd=ROOT,
        env={**__import__("os").environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/contents/?token={token}"
        deadline, listing = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                listing = _get_json(url)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert listing is not None, server.stdout.read1().decode(errors="replace")
        served = sorted(item["name"] for item in listing["content"] if item["type"] == "notebook")
        on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
        assert served == on_disk and len(on_disk) >= 5
        lab = urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10)
        assert lab.status == 200 and b"JupyterLab" in lab.read()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        server.stdout.close()


def test_dev_includes_the_notebooks_extra_so_no_second_install_is_needed():
    dev = _load_dev()
    assert "notebooks" in dev.IMPLIED_EXTRAS["dev"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"chainrule[notebooks]"' in pyproject and '"ipywidgets"' in pyproject
