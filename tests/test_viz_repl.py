"""Drawings in a REPL: what their repr says, save() by suffix, dir() with lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

import autograd
import nn
from autograd import Value


def small_drawing():
    a = Value(2.0, label="a")
    return autograd.draw((a * a).tanh())


def test_repr_says_what_it_is_and_how_to_save_it():
    text = repr(small_drawing())
    assert text.startswith("<chainrule drawing ")
    assert "5 edges" in text and "drawing.save('x.svg')" in text and " at 0x" not in text


@pytest.mark.parametrize(
    "suffix, start", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".dot", b"digraph")]
)
def test_save_writes_the_format_its_suffix_names(tmp_path, suffix, start):
    path = tmp_path / f"graph{suffix}"
    assert small_drawing().save(str(path)) == str(path)
    assert path.read_bytes().startswith(start)


def test_save_of_an_unknown_suffix_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"\.dot, \.svg, \.png or \.pdf"):
        small_drawing().save(str(tmp_path / "graph.jpg"))
    assert list(tmp_path.iterdir()) == []


def test_network_drawing_saves_by_suffix_too(tmp_path):
    drawing = nn.draw_network(nn.xor_network(), x=[0, 1])
    assert repr(drawing).startswith("<chainrule drawing 'network': ")
    drawing.save(tmp_path / "net.svg")
    assert (tmp_path / "net.svg").read_text().lstrip().startswith("<?xml")


def test_dir_lists_the_lazily_loaded_names_without_loading_them():
    code = (
        "import sys, autograd, nn, autograd.viz as v; "
        "assert {'draw', 'draw_dot'} <= set(dir(autograd)); "
        "assert {'plot', 'draw_network'} <= set(dir(nn)); "
        "assert {'draw', 'save', 'Drawing'} <= set(dir(v)); "
        "assert 'graphviz' not in sys.modules and 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
