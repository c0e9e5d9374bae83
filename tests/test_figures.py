"""The committed figures (notebooks/figures/) are what the code draws today."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURES_DIR = ROOT / "notebooks" / "figures"


def _build_module():
    spec = importlib.util.spec_from_file_location("figures_build", FIGURES_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIGURES = _build_module().FIGURES


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_committed_figure_is_what_the_code_draws(name):
    committed = (FIGURES_DIR / f"{name}.dot").read_text(encoding="utf-8")
    assert committed == FIGURES[name]().source, (
        f"notebooks/figures/{name}.dot is stale: run python notebooks/figures/build.py"
    )
    assert (FIGURES_DIR / f"{name}.svg").is_file()  # rendered beside it


def test_every_figure_the_readme_shows_is_built_from_the_code():
    shown = re.findall(r"\(notebooks/figures/([\w-]+)\.svg\)", (ROOT / "README.md").read_text())
    assert shown and set(shown) <= set(FIGURES)
