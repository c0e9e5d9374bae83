"""The command line as a learner types it: expressions starting with '-', no -o in a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from autograd.viz.render import find_renderer
from nn.cli import main

ROOT = Path(__file__).resolve().parent.parent
needs_renderer = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer")


@pytest.mark.parametrize(
    "argv",
    [
        ["-x**2", "x=3"],
        ["--view", "forward", "-x**2", "x=3"],
        ["-x**2", "--view", "forward", "x=3"],
        ["-x**2", "x=3", "--view=forward"],
    ],
)
def test_an_expression_starting_with_minus_needs_no_double_dash(argv, tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["draw", *argv, "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "-x**2 = -9.0000" in text and "d/dx = -6.0000" in text
    assert out.read_text().startswith("digraph")


def test_an_unknown_option_is_still_an_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["draw", "--bogus", "x=1"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--w1", "-0.78,0.13;0.85,0.23", "--x", "-2,3"],
        ["--w1=-0.78,0.13;0.85,0.23", "--x=-2,3"],
        ["--x", "-2,3", "--bias", "-0.1,0.2;-0.05"],
    ],
)
def test_a_negative_number_after_an_option_is_its_value(args, capsys):
    assert main(["lecture", "--no-draw", "--json", *args]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["x"] == [-2, 3] and result["W1"][0] == [-0.78, 0.13]


def test_dash_o_dash_prints_the_dot_text(capsys):
    assert main(["draw", "x*y", "x=2", "y=3", "-o", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("digraph") and "x*y = 6.0000" in captured.err


def _run_in_a_terminal(args: list[str], cwd: Path) -> str:
    """Run `python -m nn ARGS` with stdout on a pseudo-terminal; what it printed there."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "nn", *args],
        cwd=cwd,
        stdout=follower,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the program has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode()


@needs_renderer
def test_in_a_terminal_without_o_a_picture_is_written_not_dot_text(tmp_path):
    shown = _run_in_a_terminal(["draw", "x**2+3*x", "x=2"], tmp_path)
    assert "digraph" not in shown and "wrote graph.svg" in shown and "-o FILE" in shown
    assert (tmp_path / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


def test_through_a_pipe_without_o_the_dot_text_comes_out_as_before(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "nn", "draw", "x**2+3*x", "x=2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0 and done.stdout.startswith("digraph")
    assert not (tmp_path / "graph.svg").exists()
