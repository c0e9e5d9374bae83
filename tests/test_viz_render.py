"""Rendering: SVG and PNG really produced, files written, the renderer found (dot, else
graphviz-pure), the message when there is none, and Jupyter's inline SVG."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import injection
import pytest

from autograd import Value
from autograd.viz import (
    GraphTooLargeError,
    RendererNotFoundError,
    RenderError,
    draw,
    find_renderer,
    jupyter,
    render,
    renderer,
    save,
    write_graph,
)

needs_renderer = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer")
SVG = "{http://www.w3.org/2000/svg}"


def neuron():
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    o = (x * w + b).tanh()
    o.label = "o"
    o.backward()
    return o


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # also proves the SVG is well-formed XML
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.fixture
def no_renderer(monkeypatch):
    monkeypatch.setattr(renderer.shutil, "which", lambda name, path=None: None)


# --------------------------------------------------------------------------------------------
# Real output
# --------------------------------------------------------------------------------------------


@needs_renderer
def test_svg_is_rendered_and_shows_the_numbers():
    texts = svg_texts(draw(neuron(), edge_derivatives=True).svg())
    for expected in ("x", "data 2.0000", "grad -1.5029", "tanh", "\u2202 -3", "legend"):
        assert expected in texts, expected


@needs_renderer
def test_png_is_rendered(tmp_path):
    (path,) = write_graph(neuron(), tmp_path / "g", formats=("png",))
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@needs_renderer
def test_write_graph_writes_each_format_in_order(tmp_path):
    paths = write_graph(neuron(), tmp_path / "graph.v1", view="gradient", formats=("svg", "dot"))
    assert paths == [tmp_path / "graph.v1.svg", tmp_path / "graph.v1.dot"]
    assert paths[0].read_text().lstrip().startswith(("<?xml", "<svg"))
    assert paths[1].read_text() == draw(neuron(), view="gradient").source


def test_write_graph_dot_needs_no_renderer(tmp_path, no_renderer):
    (path,) = write_graph(neuron(), tmp_path / "g", formats=("dot",))
    assert path.read_text().startswith("digraph")


def test_write_graph_refuses_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'gif'"):
        write_graph(neuron(), tmp_path / "g", formats=("gif",))


@needs_renderer
def test_save_takes_the_format_from_the_suffix(tmp_path):
    assert save(neuron(), tmp_path / "a.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert save(draw(neuron()), tmp_path / "a.png").read_bytes().startswith(b"\x89PNG")
    assert save(neuron(), tmp_path / "a.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match="suffix"):
        save(neuron(), tmp_path / "a.jpeg")


@needs_renderer
def test_drawing_pipe_and_render_use_our_renderer(tmp_path):
    drawing = draw(neuron())
    assert drawing.pipe("svg").lstrip().startswith((b"<?xml", b"<svg"))
    assert drawing.pipe("svg", encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
    target = drawing.render(tmp_path / "r", format="png")
    assert target.endswith("r.png") and (tmp_path / "r").read_text() == drawing.source
    assert open(target, "rb").read().startswith(b"\x89PNG")


def test_a_renderer_error_carries_its_message():
    if find_renderer() is None:
        pytest.skip("no Graphviz renderer")
    with pytest.raises(RenderError, match="failed"):
        render.render("digraph { a -> }", "svg")


# --------------------------------------------------------------------------------------------
# Finding a renderer
# --------------------------------------------------------------------------------------------


def test_dot_is_preferred_then_graphviz_pure(monkeypatch):
    found = {"dot": "/usr/bin/dot", "graphviz-pure": "/venv/bin/graphviz-pure"}
    monkeypatch.setattr(renderer.shutil, "which", lambda name, path=None: found.get(name))
    assert find_renderer() == "/usr/bin/dot"
    del found["dot"]
    assert find_renderer() == "/venv/bin/graphviz-pure"


def test_a_dot_beside_the_running_python_is_found_without_it_on_path(tmp_path, monkeypatch):
    # an unactivated .venv/bin/chainrule: dev.py linked dot into .venv/bin, which is not on PATH
    venv_bin, elsewhere = tmp_path / "venv-bin", tmp_path / "empty"
    venv_bin.mkdir(), elsewhere.mkdir()
    dot = venv_bin / "dot"
    dot.write_text("#!/bin/sh\n")
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", str(elsewhere))
    monkeypatch.setattr(renderer.sys, "executable", str(venv_bin / "python"))
    assert find_renderer() == str(dot)
    monkeypatch.setattr(renderer.sys, "executable", str(elsewhere / "python"))
    assert find_renderer() is None


@needs_renderer
def test_graphviz_pure_is_run_the_same_way(monkeypatch):
    real_dot = shutil.which("dot") or shutil.which("graphviz-pure")
    monkeypatch.setattr(
        renderer.shutil,
        "which",
        lambda name, path=None: real_dot if name == "graphviz-pure" else None,
    )
    assert svg_texts(draw(neuron()).svg())


def test_no_renderer_says_how_to_get_one(no_renderer, tmp_path):
    with pytest.raises(RendererNotFoundError) as info:
        draw(neuron()).svg()
    message = str(info.value)
    for hint in (
        "apt-get install graphviz",
        "brew install graphviz",
        "conda install -c conda-forge graphviz",
        "pip install graphviz-pure",
    ):
        assert hint in message
    assert isinstance(info.value, RuntimeError)
    for attempt in (
        lambda: write_graph(neuron(), tmp_path / "g", formats=("dot", "svg")),
        lambda: draw(neuron()).pipe("png"),
        lambda: draw(neuron()).render(tmp_path / "r"),
        lambda: save(neuron(), tmp_path / "x.png"),
    ):
        with pytest.raises(RendererNotFoundError, match="apt-get"):
            attempt()
    assert (tmp_path / "g.dot").exists()  # the DOT file is written before rendering


def test_no_renderer_is_not_graphviz_executable_not_found(no_renderer):
    import graphviz

    with pytest.raises(RendererNotFoundError) as info:
        draw(neuron()).pipe("svg")
    assert not isinstance(info.value, graphviz.ExecutableNotFound)


# --------------------------------------------------------------------------------------------
# Jupyter
# --------------------------------------------------------------------------------------------


@needs_renderer
def test_a_value_displays_as_svg_in_jupyter():
    svg = neuron()._repr_svg_()
    assert "grad -1.5029" in svg_texts(svg)
    bundle = draw(neuron())._repr_mimebundle_()
    assert "grad -1.5029" in svg_texts(bundle["image/svg+xml"])


def test_value_falls_back_to_its_repr_without_a_renderer(no_renderer):
    assert neuron()._repr_svg_() is None


def test_a_drawing_without_a_renderer_shows_how_to_get_one_in_jupyter(no_renderer):
    bundle = draw(neuron())._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "apt-get install graphviz" in bundle["text/plain"]


@needs_renderer
def test_a_network_too_large_to_show_in_full_displays_collapsed():
    import nn

    model = nn.MLP(2, [8, 8, 1], seed=0)
    loss = (model([Value(1.0, label="x0"), Value(-1.0, label="x1")]) - 1.0) ** 2
    loss.backward()
    texts = svg_texts(loss._repr_svg_())
    assert "h1_8" in texts and "W1[1][1]" not in texts


def test_a_large_graph_without_neurons_falls_back_at_once(monkeypatch):
    monkeypatch.setattr(
        renderer.shutil, "which", lambda name, path=None: "/usr/bin/dot"
    )  # never run
    x = Value(1.0, label="x")
    y = x
    for _ in range(300):
        y = y + 1.0
    assert y._repr_svg_() is None


def test_more_neurons_than_an_inline_picture_holds_falls_back_without_collapsing(monkeypatch):
    import nn

    model = nn.MLP(2, [4, 1], seed=0)  # 5 neurons per sample: 40 for 8 samples
    loss = sum((model([float(i), 1.0]) for i in range(8)), Value(0.0))
    monkeypatch.setattr(jupyter, "MAX_NODES", 30)
    monkeypatch.setattr(renderer.shutil, "which", lambda name, path=None: "/usr/bin/dot")
    import autograd.viz.dot as dot

    drawn, real_draw = [], dot.draw
    monkeypatch.setattr(dot, "draw", lambda *a, **k: drawn.append(k) or real_draw(*a, **k))
    assert loss._repr_svg_() is None
    assert [k.get("collapse") for k in drawn] == [None]  # collapsing could not get under 30


@needs_renderer
def test_value_too_large_even_collapsed_falls_back(monkeypatch):
    monkeypatch.setattr(jupyter, "MAX_NODES", 3)
    assert neuron()._repr_svg_() is None
    with pytest.raises(GraphTooLargeError):
        draw(neuron(), max_nodes=3)


# --------------------------------------------------------------------------------------------
# Failed writes and renders create or change nothing
# --------------------------------------------------------------------------------------------


def test_a_failed_render_leaves_an_existing_picture_unchanged(tmp_path, no_renderer):
    old = tmp_path / "g.svg"
    old.write_text("old picture")
    with pytest.raises(RendererNotFoundError):
        write_graph(neuron(), tmp_path / "g", formats=("svg",))
    with pytest.raises(RendererNotFoundError):
        save(neuron(), tmp_path / "new.svg")
    assert old.read_text() == "old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


def test_a_failed_write_leaves_an_existing_file_unchanged(tmp_path):
    import graphviz

    graph = graphviz.Digraph()
    graph.node("a", label="\ud800")  # a lone surrogate: not encodable as UTF-8
    old = tmp_path / "g.dot"
    old.write_text("old text")
    with pytest.raises(UnicodeEncodeError):
        write_graph(graph, tmp_path / "g", formats=("dot",))
    assert old.read_text() == "old text"
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]


def test_writing_into_a_missing_folder_names_the_file_not_a_temp_file(tmp_path):
    target = tmp_path / "nodir" / "g.dot"
    with pytest.raises(FileNotFoundError) as info:
        save(neuron(), target)
    assert str(info.value) == f"cannot write {target}: directory {target.parent} does not exist"
    assert list(tmp_path.iterdir()) == []


def test_drawing_render_without_a_renderer_creates_no_picture(tmp_path, no_renderer):
    with pytest.raises(RendererNotFoundError):
        draw(neuron()).render(tmp_path / "r", format="svg")
    assert not (tmp_path / "r.svg").exists()


def test_drawing_render_interrupted_anywhere_writes_the_dot_file_and_picture_or_neither(
    tmp_path, monkeypatch
):
    from autograd import files

    drawing = draw(neuron())
    monkeypatch.setattr(drawing, "pipe", lambda fmt: b"<svg/>")  # the writing is under test
    drawing.render(tmp_path / "r", format="svg")
    new = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    old = {name: b"old " + name.encode() for name in new}
    k = 0
    while True:
        k += 1
        for name, data in old.items():
            (tmp_path / name).write_bytes(data)
        call = lambda: drawing.render(tmp_path / "r", format="svg")  # noqa: E731
        if injection.run_interrupted_at(k, KeyboardInterrupt, call, files.__file__) < k:
            break
        now = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        assert now in (old, new), f"interrupted at bytecode {k}: a DOT file and another picture"
    assert k > 50 and sorted(new) == ["r", "r.svg"]
