"""``autograd.explore`` and ``chainrule explore`` without a browser: what the page file holds.

The page's behaviour in a browser is tested in test_explore_page.py.
"""

from __future__ import annotations

import json
import re

import pytest

import autograd
from autograd import Value, topological_order
from autograd.viz import explorer
from autograd.viz.render import find_renderer
from nn.cli import main

pytestmark = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer")

NASTY = "</script><script>alert(1)</script>"
QUOTES = '" onmouseover="alert(2)" x="'


def neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    out = (x * w + b).tanh()
    out.label = "out"
    return out


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" class="cr-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_explore_computes_gradients_without_touching_grad():
    out = neuron()
    page = autograd.explore(out)
    assert all(v.grad == 0 for v in topological_order(out))
    grads = {n["id"]: n["gradExact"] for n in page.data["nodes"]}
    out.backward()
    for i, v in enumerate(topological_order(out)):
        assert grads[f"v{i}"] == repr(v.grad)


def test_steps_are_forward_in_topological_order_then_backward_in_reverse():
    out = neuron()
    page = autograd.explore(out)
    order = topological_order(out)
    ids = {v: f"v{i}" for i, v in enumerate(order)}
    nodes = page.data["nodes"]
    kinds = [(s["kind"], nodes[s["node"]]["id"]) for s in page.data["steps"][1:]]
    assert kinds == [("forward", ids[v]) for v in order if not v.is_leaf] + [
        ("backward", ids[v]) for v in reversed(order)
    ]
    assert page.data["steps"][0] == {"kind": "start"}


def test_backward_step_lists_upstream_times_local_derivative():
    out = neuron()
    page = autograd.explore(out)
    out.backward()
    x = next(v for v in topological_order(out) if v.label == "x")
    nodes = page.data["nodes"]
    step = next(
        s for s in page.data["steps"] if s["kind"] == "backward" and nodes[s["node"]]["name"] == "x"
    )
    (term,) = step["terms"]
    product = x.grad  # one use: x * w, local derivative w = -3
    assert term["local"] == "-3"
    assert term["product"] == f"{product:.4g}" == step["grad"]
    assert term["via"] == "x \u00d7 w"


def test_page_is_one_file_that_needs_no_network(tmp_path):
    path = tmp_path / "page.html"
    autograd.explore(neuron(), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # the only URLs are the SVG namespaces, which browsers never fetch
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert not re.search(r"<(link|iframe|object|embed)\b", text)
    assert not re.search(r"\bsrc=\"(?!data:)", text)


def test_same_graph_gives_the_same_file_byte_for_byte(tmp_path):
    autograd.explore(neuron(), tmp_path / "a.html")
    autograd.explore(neuron(), tmp_path / "b.html")
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def test_notebook_display_gets_a_fresh_scope_each_time():
    page = autograd.explore(neuron())
    first, second = page._repr_html_(), page._repr_html_()
    ids = [re.search(r'id="(cr-[^"]+)"', h).group(1) for h in (first, second)]
    assert ids[0] != ids[1]
    assert f'getElementById("{ids[0]}")' in first
    with pytest.raises(ValueError, match="uid"):
        page.html(uid='x" onload="alert(1)')


def test_labels_reach_the_page_only_as_escaped_text():
    a, b = Value(2.0, label=NASTY), Value(3.0, label=QUOTES)
    c = a * b + Value(1.0, label="line\u2028break & <b>")
    c.label = "<img src=x onerror=alert(3)>"
    html = autograd.explore(c, title=NASTY).document()
    assert html.count("<script") == 2  # the JSON and the page's own script, nothing more
    assert html.count("</script>") == 2
    assert "<img src=x" not in html and 'onmouseover="alert' not in html
    json_text = re.search(r'class="cr-data">(.*?)</script>', html, re.S).group(1)
    assert not set("<>&\u2028\u2029") & set(json_text)  # (in the SVG's text a U+2028 is harmless)
    data = page_data(html)
    names = {n["name"] for n in data["nodes"]}
    assert {NASTY, QUOTES, "line\u2028break & <b>", "<img src=x onerror=alert(3)>"} <= names
    assert data["title"] == NASTY
    assert "<title>&lt;/script&gt;" in html


def test_script_json_escapes_what_could_end_the_script():
    text = json.dumps({"a": "</script><!-- & \u2028\u2029 >"}, ensure_ascii=False)
    safe = explorer._script_json(text)
    assert not set("<>&\u2028\u2029") & set(safe)
    assert json.loads(safe) == json.loads(text)


def test_large_graph_is_shown_one_node_per_neuron():
    import nn

    model = nn.MLP(2, [4, 4, 1], seed=0)
    loss = (model([Value(0.5, label="x0"), Value(-1.0, label="x1")]) - 1.0) ** 2
    page = autograd.explore(loss, max_nodes=100)
    assert page.data["collapsed"] is True
    assert "too large to show in full" in page.data["notice"]
    kinds = {n["kind"] for n in page.data["nodes"]}
    assert "neuron" in kinds
    assert len(page.data["nodes"]) < 100
    full = autograd.explore(loss)
    assert full.data["collapsed"] is False and full.data["notice"] is None


def test_graph_too_large_even_per_neuron_is_refused_clearly():
    x = Value(1.0, label="x")
    total = x
    for _ in range(60):
        total = total * x
    with pytest.raises(autograd.viz.GraphTooLargeError, match="smaller graph"):
        autograd.explore(total, max_nodes=50)


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(TypeError, match="needs a Value"):
        autograd.explore(3.0)
    with pytest.raises(ValueError, match="max_nodes"):
        autograd.explore(neuron(), max_nodes=0)
    with pytest.raises(TypeError, match="network"):
        autograd.explore(neuron(), network=42)


def test_network_picture_is_embedded_as_an_image_that_cannot_run_scripts():
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = autograd.explore(neuron(), network=svg).html()
    assert 'src="data:image/svg+xml;base64,' in html
    assert "alert(1)" not in html


def test_interrupted_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    path.write_text("old page")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(explorer, "_clean_svg", interrupted)
    with pytest.raises(KeyboardInterrupt):
        autograd.explore(neuron(), path)
    monkeypatch.undo()
    page = autograd.explore(neuron())
    monkeypatch.setattr(explorer, "_TEMPLATE", None)  # .format on None: fails mid-save
    with pytest.raises(AttributeError):
        page.save(path)
    assert path.read_text() == "old page"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_cli_writes_the_page(tmp_path, capsys):
    path = tmp_path / "sub" / "neuron.html"
    code = main(["explore", "tanh(x*w + b)", "x=2", "w=-3", "b=6.88", "-o", str(path)])
    assert code == 0
    assert "wrote" in capsys.readouterr().out
    data = page_data(path.read_text(encoding="utf-8"))
    assert data["title"] == "tanh(x*w + b)"
    assert len(data["steps"]) == 1 + 3 + 6  # start, 3 ops forward, 6 nodes backward


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x+", "x=1", "-o", "p.html"], "not a valid expression"),
        (["x", "x=1", "-o", "p.svg"], "name it with .html"),
        (["x*y", "x=1", "-o", "p.html"], "y"),
        (["log(x)", "x=-1", "-o", "p.html"], "log"),
    ],
)
def test_cli_refuses_bad_input_with_status_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["explore", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule explore: ") and message in err
    assert list(tmp_path.iterdir()) == []


def test_lecture_html_writes_explore_beside_the_pictures(tmp_path, capsys):
    assert main(["lecture", "--html", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    page = tmp_path / "explore.html"
    assert str(page) in out
    assert {p.name for p in tmp_path.iterdir()} >= {"gradient.svg", "explore.html"}
    text = page.read_text(encoding="utf-8")
    data = page_data(text)
    assert data["title"] == "the lecture's worked example"
    assert not data["collapsed"]
    assert '<details class="cr-network" open>' in text  # nn.draw_network's picture, under it


def test_lecture_html_without_dot_skips_the_page_with_a_note(tmp_path, capsys, monkeypatch):
    from autograd.viz import renderer

    monkeypatch.setattr(renderer.shutil, "which", lambda name, path=None: None)
    assert main(["lecture", "--html", "--out", str(tmp_path)]) == 0
    svg_note, page_note = capsys.readouterr().err.splitlines()
    assert "SVG pictures skipped" in svg_note
    assert page_note == (
        "chainrule lecture: explore.html skipped: its graph is drawn by Graphviz's `dot` too"
    )
    assert not (tmp_path / "explore.html").exists()


def test_svg_whose_titles_were_not_rewritten_still_maps_every_node(monkeypatch):
    """Another Graphviz's output may not match the clean-up patterns; the ids are still read."""
    monkeypatch.setattr(explorer, "_TITLED", re.compile("(?!)"))  # matches nothing
    page = autograd.explore(neuron())
    assert "<title>v0</title>" in page.svg
    assert len(page.data["nodes"]) == len(topological_order(neuron()))
