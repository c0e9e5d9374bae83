"""The command line's stdout: a closed pipe, a full disk or a closed fd end in one line on stderr
and status 1, never a traceback (run as real processes: the failure is in the process's exit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "nn"]  # the `chainrule` command
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX pipes and /dev/full")


def _run(args: list[str], stdout, tmp_path: Path, **kwargs) -> tuple[int, str]:
    done = subprocess.run(
        [*CLI, *args], stdout=stdout, stderr=subprocess.PIPE, env=ENV, cwd=tmp_path, **kwargs
    )
    return done.returncode, done.stderr.decode("utf-8", "replace")


def _one_line(err: str) -> str:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


COMMANDS = {
    "lecture --json": ["lecture", "--json", "--no-draw"],
    "lecture": ["lecture", "--no-draw"],
    "draw": ["draw", "tanh(x*w + b)", "x=2", "w=-3", "b=6.88"],
    "help": ["--help"],
}


@posix_only
@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_pipe_closed_by_its_reader_ends_in_one_line_and_status_1(tmp_path, args):
    read, write = os.pipe()
    os.close(read)  # as `| true` does: the reader is gone before anything is written
    try:
        status, err = _run(args, write, tmp_path)
    finally:
        os.close(write)
    assert status == 1
    assert _one_line(err) == (
        "chainrule: standard output was closed before all output was written (the reader exited)"
    )


@posix_only
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_full_disk_on_stdout_ends_in_one_line_and_status_1(tmp_path, args):
    with open("/dev/full", "wb") as full:
        status, err = _run(args, full, tmp_path)
    assert status == 1
    assert _one_line(err) == "chainrule: cannot write to standard output: No space left on device"


@posix_only
def test_a_closed_stdout_descriptor_ends_in_one_line_and_status_1(tmp_path):
    status, err = _run(COMMANDS["lecture --json"], None, tmp_path, preexec_fn=lambda: os.close(1))
    assert status == 1
    assert _one_line(err) == "chainrule: standard output is closed"


def test_a_working_stdout_is_untouched(tmp_path):
    status, err = _run(COMMANDS["lecture --json"], subprocess.PIPE, tmp_path)
    assert status == 0 and err == ""
