"""The committed notebooks match their sources in notebooks/src/ and carry their outputs.

``pytest --nbmake`` runs the notebooks themselves; these tests check what a reader sees on
GitHub without running anything: the .ipynb was built from the current script (same code
cells, so the two cannot drift), it was executed (outputs, no errors), it opens with a
markdown cell saying what it teaches and closes with an exercise.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SCRIPTS = sorted((NOTEBOOKS / "src").glob("*.py"))
EXPECTED = [  # the lectures' order: neuron, perceptron, XOR, MLP, gradient descent, backprop
    "01-neurons-and-perceptrons",
    "02-xor-and-multilayer-networks",
    "03-activations-and-losses",
    "04-gradient-descent",
    "05-computation-graphs",
    "06-worked-example",
    "07-backprop-layer-by-layer",
    "08-training-an-mlp",
    "09-lecture-errata",
    "10-pytorch",  # beyond the lectures: the same network in PyTorch
    "11-real-data-digits",  # beyond the lectures: real data on the tape
]


def _load_build():
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _notebook(script: Path) -> nbformat.NotebookNode:
    return nbformat.read(build.notebook_path(script), as_version=4)


@pytest.fixture(params=SCRIPTS, ids=lambda p: p.stem)
def script(request) -> Path:
    return request.param


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    sources = {p.stem for p in SCRIPTS}
    notebooks = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert sources == notebooks
    assert set(EXPECTED) <= sources


def test_code_cells_equal_the_scripts_code_cells(script):
    expected = build.code_cells(script.read_text(encoding="utf-8"))
    got = [c.source for c in _notebook(script).cells if c.cell_type == "code"]
    assert got == expected, (
        f"{script.name} changed: run python notebooks/build.py {script.stem[:2]}"
    )


def test_markdown_cells_equal_the_scripts_markdown_cells(script):
    expected = [s for k, s in build.parse_cells(script.read_text(encoding="utf-8")) if k != "code"]
    got = [c.source for c in _notebook(script).cells if c.cell_type == "markdown"]
    assert got == expected, (
        f"{script.name} changed: run python notebooks/build.py {script.stem[:2]}"
    )


def test_notebook_was_executed_top_to_bottom_without_errors(script):
    code = [c for c in _notebook(script).cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", f"{script.stem}: {output.get('ename')}"
            assert output.get("name") != "stderr", f"{script.stem}: stderr {output.text[:200]!r}"


def _output_texts(output) -> list[str]:
    """What a reader sees of one output as text: a stream, or the text forms of a result."""
    if output.output_type == "stream":
        return [output.text]
    data = output.get("data", {})
    return [data[kind] for kind in ("text/plain", "text/html", "text/markdown") if kind in data]


def test_notebook_outputs_show_no_warning_and_no_progress_widget(script):
    for cell in _notebook(script).cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            assert output.get("name") != "stderr", f"{script.stem}: stderr {output.text[:200]!r}"
            for text in _output_texts(output):
                for word in ("Warning", "IProgress"):
                    assert word not in text, f"{script.stem}: {word} in output {text[:200]!r}"
            # a tqdm widget saves as a view that GitHub shows as 'HBox(children=...)' junk
            assert not any("widget" in kind for kind in output.get("data", {})), script.stem


def test_notebook_code_does_not_silence_warnings_globally(script):
    # plumbing a student cannot read; a specific, expected warning is caught where it happens
    assert "warnings.filterwarnings" not in script.read_text(encoding="utf-8")


def test_notebook_shows_pictures(script):
    kinds = {
        kind
        for cell in _notebook(script).cells
        if cell.cell_type == "code"
        for output in cell.outputs
        for kind in output.get("data", {})
    }
    assert kinds & {"image/svg+xml", "image/png"}


def test_notebook_opens_with_what_it_teaches_and_ends_with_an_exercise(script):
    cells = _notebook(script).cells
    assert cells[0].cell_type == "markdown"
    assert cells[0].source.startswith("# ")
    assert cells[-1].cell_type == "markdown"
    assert "## Exercise" in cells[-1].source


def test_notebook_runs_on_the_repository_kernel(script):
    assert _notebook(script).metadata.kernelspec.name == "python3"


def test_percent_format_parsing():
    text = (
        "# %% [markdown]\n# # Title\n#\n# text\n\n"
        "# %%\n# %matplotlib inline\nx = 1\n\n\n# %%\n# a comment\ny = 2\n"
    )
    assert build.parse_cells(text) == [
        ("markdown", "# Title\n\ntext"),
        ("code", "%matplotlib inline\nx = 1"),
        ("code", "# a comment\ny = 2"),
    ]


# --------------------------------------------------------------------------------------------
# The course map: README's table of lecture sections, and each notebook's own rows of it
# --------------------------------------------------------------------------------------------

README = NOTEBOOKS.parent / "README.md"
MAP_ROW = re.compile(
    r"^\| (?P<lecture>[^|]+) \| (?P<slide>[^|]+) "
    r"\| \[(?P<n>\d+)\]\((?P<link>[^)]+)\) § (?P<heading>.+) \|$"
)
NOTEBOOK_ROW = re.compile(r"^- (?P<lecture>[^,]+), “(?P<slide>[^”]+)” → § (?P<heading>.+)$")
LECTURES = {
    "backpropagation",
    "feedforward networks",
    "perceptrons and backprop",
    "backpropagation article",
}


def _readme_map() -> list[re.Match]:
    return [
        m for line in README.read_text(encoding="utf-8").splitlines() if (m := MAP_ROW.match(line))
    ]


def test_readme_map_covers_every_notebook_in_order_and_links_to_it():
    rows = _readme_map()
    assert rows, "README has no lecture -> notebook map"
    numbers = [int(m["n"]) for m in rows]
    assert numbers == sorted(numbers)
    assert sorted(set(numbers)) == list(range(1, 10))  # the nine notebooks of the lectures
    by_number = {int(p.stem[:2]): p.stem for p in SCRIPTS}
    for m in rows:
        assert m["lecture"] in LECTURES
        assert m["link"] == f"notebooks/{by_number[int(m['n'])]}.ipynb"


def test_each_notebook_opens_with_its_rows_of_the_map_and_has_those_sections(script):
    cells = _notebook(script).cells
    own = [
        (m["lecture"], m["slide"], m["heading"])
        for m in _readme_map()
        if int(m["n"]) == int(script.stem[:2])
    ]
    listed = [
        (m["lecture"], m["slide"], m["heading"])
        for line in cells[0].source.splitlines()
        if (m := NOTEBOOK_ROW.match(line))
    ]
    assert listed == own, f"{script.stem}: first cell's map differs from README's rows"
    headings = {
        line[3:]
        for c in cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    }
    for _, _, heading in own:
        assert heading in headings, f"{script.stem} has no section '## {heading}'"
