"""The README says what is true: its REPL session prints what it shows (run as a doctest), and
its counts match the repository."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks(text: str) -> list[str]:
    """The ```python blocks that hold a REPL session (lines starting with >>>)."""
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    return [block for block in blocks if ">>> " in block]


def test_the_readme_repl_session_prints_what_it_shows():
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "the README has no REPL session"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs: dict = {}
    for number, block in enumerate(blocks):
        test = parser.get_doctest(block, globs, f"README block {number}", str(README), 0)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} README example(s) print something else (above)"


NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def test_the_readme_counts_the_notebooks_the_test_suite_runs():
    notebooks = sorted((README.parent / "notebooks").glob("*.ipynb"))
    said = re.search(r"and the (\w+) notebooks", README.read_text(encoding="utf-8"))
    assert said, "the README no longer says how many notebooks `dev.py test` runs"
    assert said.group(1) == NUMBER_WORDS[len(notebooks)], [n.name for n in notebooks]


def test_the_readme_says_which_imports_replace_micrograds_and_they_work():
    text = " ".join(README.read_text(encoding="utf-8").split())
    swaps = re.findall(
        r"`(from micrograd\.\w+ import [^`]+)` becomes `(from \w+ import [^`]+)`", text
    )
    assert [theirs for theirs, _ in swaps] == [
        "from micrograd.engine import Value",
        "from micrograd.nn import Neuron, Layer, MLP",
    ]
    for _, ours in swaps:
        exec(ours, {})  # noqa: S102 - the README's own import line
