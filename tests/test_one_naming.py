"""One naming: the lecture network's names agree in the table, both pictures and notebook 6."""

from __future__ import annotations

import re
from pathlib import Path

from nn.cli import main

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = {"W1[1][1]", "W1[1][2]", "W1[2][1]", "W1[2][2]", "W2[1]", "W2[2]"}
VALUES = {"x_1", "x_2", "h_1", "h_2", "ŷ", "L"}


def bold(source: str) -> set[str]:
    """The names a DOT text draws in bold (every node's name)."""
    return set(re.findall(r"<B>([^<]+)</B>", source))


def test_table_pictures_and_notebook_name_the_network_alike(tmp_path, capsys):
    assert main(["lecture", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    rows = {line.split()[0] for line in table.splitlines() if line.endswith("✓")}
    assert rows == WEIGHTS
    for name in ("x_1", "x_2", "h_1", "h_2", "ŷ", "L"):
        assert re.search(rf"(?<![\w\[]){re.escape(name)}(?![\w\]])", table), name
    # the computation graphs: every weight and value node under its name
    for view in ("forward", "gradient"):
        drawn = bold((tmp_path / f"{view}.dot").read_text(encoding="utf-8"))
        assert WEIGHTS | VALUES <= drawn, view
        assert not {n for n in drawn if "neurons" in n or n == "out"}
    # the network diagram: the values as its circles, each weight on its edge
    network = (tmp_path / "network.dot").read_text(encoding="utf-8")
    assert VALUES <= bold(network)
    assert {m for m in re.findall(r"(W\d\[[^=]*\]) = ", network)} == WEIGHTS
    # notebook 6 (the worked example) labels its hand-built Values with the same names (no others)
    script = (ROOT / "notebooks" / "src" / "06-worked-example.py").read_text(encoding="utf-8")
    labels = {
        text
        for line in script.splitlines()
        if "label" in line and not line.lstrip().startswith(("#", "print"))
        for text in re.findall(r'"([^"]+)"', line)
    }
    assert WEIGHTS | VALUES <= labels
    assert labels - WEIGHTS - VALUES <= {"y", "ŷ - y"}
