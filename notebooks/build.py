"""Build the notebooks from their percent-format sources, run them, and save them with outputs.

Each notebook's source is a plain Python script in ``notebooks/src/`` (``NN-name.py``): cells
start at ``# %%`` (code) or ``# %% [markdown]`` (markdown, every line commented with ``# ``),
the format jupytext and VS Code read.  Scripts diff and review like code; the ``.ipynb`` beside
this file is generated from them and committed with its outputs, so a reader on GitHub sees the
pictures without running anything.  ``tests/test_notebooks.py`` checks the two never drift.

    python notebooks/build.py            # every notebook
    python notebooks/build.py 03 05      # the ones whose names start with 03 or 05
    python notebooks/build.py --no-run   # convert only (no outputs): quick check of the cells

Cell ids are derived from the notebook's name and the cell's position, no timing metadata is
recorded, memory addresses are dropped from text reprs and split print output is joined, so
rebuilding an unchanged notebook gives the same file.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
CODE_MARK = "# %%"
MARKDOWN_MARK = "# %% [markdown]"
MAGIC = re.compile(r"^# %[A-Za-z]")  # a commented IPython magic, not a cell marker
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+(?=>)")  # in default reprs: <Figure ... at 0x7f...>
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
TIMEOUT = 300  # seconds per cell; a notebook is meant to run in under a minute in all


def parse_cells(text: str) -> list[tuple[str, str]]:
    """[(kind, source)] for a percent-format script; kind is "code" or "markdown"."""
    cells: list[tuple[str, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(CODE_MARK):
            rest = line[len(CODE_MARK) :].strip()
            kind = "markdown" if rest == "[markdown]" else "code"
            if rest.startswith("[") and kind == "code":
                raise ValueError(f"line {number}: unknown cell type {rest!r}")
            cells.append((kind, []))
        elif not cells:
            if line.strip():
                raise ValueError(f"line {number}: text before the first '# %%' cell marker")
        elif cells[-1][0] == "markdown":
            if line and not line.startswith("#"):
                raise ValueError(f"line {number}: a markdown cell's lines must start with '#'")
            cells[-1][1].append(line[2:] if line.startswith("# ") else line[1:])
        else:
            cells[-1][1].append(_magic(line))
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def _magic(line: str) -> str:
    """``# %matplotlib inline`` in a script is ``%matplotlib inline`` in the notebook (jupytext's
    convention: the script stays valid Python)."""
    return line[2:] if MAGIC.match(line) else line


def code_cells(text: str) -> list[str]:
    """The sources of a script's code cells, in order."""
    return [source for kind, source in parse_cells(text) if kind == "code"]


def notebook_path(script: Path) -> Path:
    """Where the notebook built from script goes: notebooks/<same name>.ipynb."""
    return HERE / f"{script.stem}.ipynb"


def to_notebook(script: Path) -> nbformat.NotebookNode:
    """The notebook for a percent-format script, without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNEL)
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, source) in enumerate(parse_cells(script.read_text(encoding="utf-8"))):
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(source, id=f"{script.stem[:2]}-{i:03d}"))
    nbformat.validate(nb)
    return nb


def execute(nb: nbformat.NotebookNode) -> float:
    """Run every cell in notebooks/ (as nbmake does); returns the seconds it took."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name=KERNEL["name"],
        resources={"metadata": {"path": str(HERE)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def _stable(nb: nbformat.NotebookNode) -> None:
    """Same run, same file: drop memory addresses from text reprs (``<Drawing at 0x7f...>``)
    and join the pieces of a stream (how print output is split depends on timing)."""
    for cell in nb.cells:
        outputs = []
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain")
            if text:
                output["data"]["text/plain"] = ADDRESS.sub("", text)
            last = outputs[-1] if outputs else None
            if (
                output["output_type"] == "stream"
                and last is not None
                and last["output_type"] == "stream"
                and last["name"] == output["name"]
            ):
                last["text"] += output["text"]
            else:
                outputs.append(output)
        if cell.cell_type == "code":
            cell.outputs = outputs


def build(script: Path, run: bool = True) -> float | None:
    """Convert script, run it (unless run=False) and write the .ipynb; returns the run time."""
    nb = to_notebook(script)
    seconds = execute(nb) if run else None
    _stable(nb)
    nbformat.write(nb, notebook_path(script))
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="build only notebooks whose names start so")
    parser.add_argument("--no-run", action="store_true", help="convert without running")
    args = parser.parse_args(argv)
    scripts = sorted(SOURCES.glob("*.py"))
    if args.names:
        scripts = [s for s in scripts if any(s.stem.startswith(n) for n in args.names)]
    if not scripts:
        print("no notebook sources match", file=sys.stderr)
        return 1
    for script in scripts:
        seconds = build(script, run=not args.no_run)
        took = "" if seconds is None else f" (ran in {seconds:.1f} s)"
        print(f"{notebook_path(script).relative_to(HERE.parent)}{took}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
