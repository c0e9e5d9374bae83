"""The explorer page in a real browser: headless Chromium driven by Playwright.

Every test opens a page written by ``autograd.explore`` (or ``chainrule lecture --html``) from
disk and checks what a student sees against the engine: the step counter, each value and
gradient as it appears, the chain-rule card, the panel of a clicked node, the keyboard, and
that labels are shown as text and never run.  Without Chromium or Playwright these tests skip
with "no Chromium browser"; CI (``CHAINRULE_REQUIRE_BROWSER=1``) turns that into a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import autograd
import nn
from autograd import Constant, Value, topological_order
from autograd.viz.render import find_renderer
from autograd.viz.style import number, short
from nn import lecture
from nn.cli import main

# Debian's package is `chromium`; other systems name the binary differently.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

pytestmark = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer")

# {value node id: [data text, grad text]} as the boxes of the SVG show them now
BOXES = """root => {
  const out = {};
  for (const g of root.querySelectorAll("g.cr-node[data-id]")) {
    if (g.dataset.id.endsWith("op")) continue;
    const texts = [...g.querySelectorAll("text")]
      .filter(t => t.getAttribute("font-weight") !== "bold").map(t => t.textContent);
    out[g.dataset.id] = [texts.find(t => t.startsWith("data ")) || null,
                         texts.find(t => t.startsWith("grad ")) || null];
  }
  return out;
}"""


@pytest.fixture(scope="module")
def browser():
    path = os.environ.get("CHAINRULE_CHROMIUM") or next(
        filter(None, map(shutil.which, CHROMIUM_NAMES)), None
    )
    if path is None:
        pytest.skip(
            f"no Chromium browser on PATH (looked for {', '.join(CHROMIUM_NAMES)}; "
            "`python3 dev.py setup` installs it as root on Debian)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no Chromium browser driver: playwright is not installed (the dev extra)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A browser tab; dialogs (alert, confirm) and script errors are recorded and must not occur."""
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.dialogs, tab.errors = [], []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    yield tab
    assert tab.errors == []
    tab.close()


def open_page(tab, path):
    tab.goto(path.resolve().as_uri())
    tab.wait_for_selector(".cr-explore[data-ready=true]")


def counter(tab) -> str:
    return tab.inner_text(".cr-explore .cr-counter")


def lecture_graph():
    """The lecture's loss, built as `chainrule lecture` builds it, and differentiated."""
    model = lecture.build_network()
    _, _, loss = lecture.loss_of(model)
    loss.backward()
    return model, loss


def expected_steps(root):
    """(kind, node) per step after the start: values in topological order, then gradients in
    reverse (constants have none)."""
    order = topological_order(root)
    return [("forward", v) for v in order if not v.is_leaf] + [
        ("backward", v) for v in reversed(order) if not isinstance(v, Constant)
    ]


def expected_boxes(root, steps, k):
    """What each box must show after step k, from the engine's .data and .grad."""
    done = {(kind, v) for kind, v in steps[:k]}
    boxes = {}
    for i, v in enumerate(topological_order(root)):
        data = number(v.data) if v.is_leaf or ("forward", v) in done else "?"
        grad = None if isinstance(v, Constant) else "?"
        if ("backward", v) in done:
            grad = number(v.grad)
        boxes[f"v{i}"] = [f"data {data}", None if grad is None else f"grad {grad}"]
    return boxes


def test_lecture_page_clicked_through_shows_the_engines_values_and_gradients(
    page, tmp_path, capsys
):
    assert main(["lecture", "--html", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    model, loss = lecture_graph()
    steps = expected_steps(loss)
    n = len(steps)
    open_page(page, tmp_path / "explore.html")
    root = page.query_selector(".cr-explore")
    network = page.eval_on_selector(".cr-network img", "i => [i.complete, i.naturalWidth]")
    assert network[0] and network[1] > 0  # the network diagram is there and loads
    shown = root.evaluate(BOXES)
    order = topological_order(loss)
    (folded,) = [v for i, v in enumerate(order) if f"v{i}" not in shown]
    assert isinstance(folded, Constant) and folded.data == 2  # drawn inside its op: **2

    def check(k):
        assert counter(page) == f"step {k} / {n}"
        want = expected_boxes(loss, steps, k)
        assert root.evaluate(BOXES) == {i: want[i] for i in shown}
        card = page.inner_text(".cr-explore .cr-step")
        if k == 0:
            assert "Start" in card
            return
        kind, v = steps[k - 1]
        if kind == "forward":
            assert card.startswith("Forward") and f"= {short(v.data)}" in card
        else:
            assert card.startswith("Backward") and short(v.grad) in card

    check(0)
    assert page.is_disabled(".cr-back")
    for k in range(1, n + 1):
        page.click(".cr-next")
        check(k)
    assert page.is_disabled(".cr-next")
    page.click(".cr-back")
    check(n - 1)
    page.click(".cr-reset")
    check(0)


def test_backward_step_highlights_the_edges_its_terms_come_along(page, tmp_path):
    model, loss = lecture_graph()
    order = topological_order(loss)
    open_page(page, autograd.explore(loss, model=model).save(tmp_path / "p.html"))
    steps = expected_steps(loss)
    w = model.layers[0].neurons[0].w[0]
    k = steps.index(("backward", w)) + 1
    page.focus(".cr-explore")
    page.keyboard.press("End")
    for _ in range(len(steps) - k):
        page.keyboard.press("ArrowLeft")
    assert counter(page) == f"step {k} / {len(steps)}"
    lit = page.eval_on_selector_all("g.edge.cr-lit", "gs => gs.map(g => g.dataset.id)")
    (use,) = [c for c in order if w in c.parents]
    assert lit == [f"v{order.index(w)}->v{order.index(use)}op"]
    assert page.locator("rect.cr-frame-current").count() == 1


def test_clicking_a_node_shows_name_op_value_gradient_and_its_chain_rule_sum(page, tmp_path):
    model, loss = lecture_graph()
    order = topological_order(loss)
    names = {p: name for name, p in model.named_parameters()}
    w = model.layers[0].neurons[0].w[0]
    (use,) = [c for c in order if w in c.parents]  # w * x0
    x0 = next(p for p in use.parents if p is not w)
    open_page(page, autograd.explore(loss, model=model).save(tmp_path / "p.html"))

    page.click(f'g.node[data-id="v{order.index(w)}"]')
    panel = page.inner_text(".cr-explore .cr-panel")
    assert panel.startswith(w.label.shown or names[w])  # the name the graph shows
    assert names[w] in panel and "parameter" in panel and "none (a leaf)" in panel
    assert repr(w.data) in panel
    assert "not yet (backward step" in panel  # at step 0 the gradient is still to come

    page.focus(".cr-explore")
    page.keyboard.press("End")
    panel = page.inner_text(".cr-explore .cr-panel")
    assert repr(w.data) in panel and repr(w.grad) in panel
    assert "summed over its 1 use" in panel
    row = page.eval_on_selector_all(
        ".cr-panel table.cr-terms tr", "rows => rows.map(r => r.innerText.split('\\t'))"
    )
    assert row[1] == [
        f"{w.label.shown or names[w]} \u00d7 {x0.label}",
        short(use.grad),
        "\u00d7",
        short(x0.data),
        "=",
        short(w.grad),
    ]
    assert row[2][-1] == short(w.grad)

    # an op's ellipse stands for the value it makes; the output's gradient is the seed
    page.click(f'g.node[data-id="v{order.index(loss)}op"]')
    panel = page.inner_text(".cr-explore .cr-panel")
    assert panel.startswith(loss.label) and "the seed" in panel and repr(loss.data) in panel


def test_keyboard_arrows_home_and_end_move_through_the_steps(page, tmp_path):
    out = (Value(2.0, label="x") * Value(-3.0, label="w")).tanh()
    open_page(page, autograd.explore(out).save(tmp_path / "p.html"))
    n = len(expected_steps(out))  # forward: mul, tanh; backward: tanh, mul, w, x
    assert n == 6
    page.click(".cr-explore .cr-graph")  # focus goes to the page's root
    for key, want in [
        ("ArrowRight", 1),
        ("ArrowRight", 2),
        ("ArrowLeft", 1),
        ("End", n),
        ("ArrowRight", n),
        ("Home", 0),
        ("ArrowLeft", 0),
    ]:
        page.keyboard.press(key)
        assert counter(page) == f"step {want} / {n}"


def test_labels_and_title_show_as_text_and_run_nothing(page, tmp_path):
    nasty = "</script><script>alert(1)</script>"
    quotes = '" onmouseover="alert(2)" x="'
    a, b = Value(2.0, label=nasty), Value(3.0, label=quotes)
    c = a * b
    c.label = "<img src=x onerror=alert(3)>"
    path = autograd.explore(c, title="<b onclick=alert(4)>t</b>").save(tmp_path / "p.html")
    open_page(page, path)
    assert page.title().startswith("<b onclick=alert(4)>t</b>")
    assert page.inner_text(".cr-explore .cr-title") == "<b onclick=alert(4)>t</b>"
    order = topological_order(c)
    for v in order:
        node = page.locator(f'g.node[data-id="v{order.index(v)}"]')
        node.hover()
        node.click()
        assert page.inner_text(".cr-explore .cr-panel").startswith(v.label)
    page.focus(".cr-explore")
    for _ in range(len(expected_steps(c))):
        page.keyboard.press("ArrowRight")
        assert page.locator(".cr-step h3").inner_text().split(" of ", 1)[1] in {
            v.label for v in order
        }
    assert page.locator("img, b").count() == 0  # nothing of the labels became an element
    assert page.dialogs == []


def test_two_pages_in_one_notebook_keep_their_own_state(page):
    """Inserted the way JupyterLab shows HTML output: innerHTML, then each script re-created."""
    fragments = [
        autograd.explore((Value(float(i), label="x") * 2).tanh())._repr_html_() for i in (1, 2)
    ]
    page.set_content("<div id=out1></div><div id=out2></div>")
    for i, fragment in enumerate(fragments, 1):
        page.evaluate(
            """([id, html]) => {
              const out = document.getElementById(id);
              out.innerHTML = html;
              for (const old of out.querySelectorAll("script:not([type])")) {
                const s = document.createElement("script");
                s.textContent = old.textContent;
                old.replaceWith(s);
              }
            }""",
            [f"out{i}", fragment],
        )
    page.wait_for_selector("#out2 .cr-explore[data-ready=true]")
    page.click("#out1 .cr-next")
    page.click("#out1 .cr-next")
    assert page.inner_text("#out1 .cr-counter").startswith("step 2 /")
    assert page.inner_text("#out2 .cr-counter").startswith("step 0 /")
    page.click("#out2 .cr-explore g.node[data-id='v0']")
    assert "x" in page.inner_text("#out2 .cr-panel")
    assert "Click a node" in page.inner_text("#out1 .cr-panel")


def mlp_loss(hidden=(16, 16)):
    model = nn.MLP(2, [*hidden, 1], seed=0)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    loss = nn.functional.mse(out, Value(1.0, label="y"))
    loss.label = "L"
    return model, loss


# Click Next through every step inside the page (one round trip to the browser rather than
# thousands), checking the counter and the box of each step's node as it changes.
CLICK_THROUGH = """(root) => {
  const next = root.querySelector(".cr-next"), counter = root.querySelector(".cr-counter");
  const n = Number(counter.textContent.split(" / ")[1]);
  const wrong = [];
  for (let k = 1; k <= n; k++) {
    next.click();
    if (counter.textContent !== "step " + k + " / " + n) wrong.push([k, counter.textContent]);
  }
  return [n, wrong, next.disabled];
}"""


def test_mlp_page_opens_in_full_and_is_clicked_through(page, tmp_path):
    model, loss = mlp_loss()
    path = autograd.explore(loss, model=model).save(tmp_path / "mlp.html")
    loss.backward()
    open_page(page, path)
    assert page.is_hidden(".cr-explore .cr-notice")
    steps = expected_steps(loss)
    root = page.query_selector(".cr-explore")
    assert len(root.evaluate(BOXES)) == len(topological_order(loss)) - 1  # less pow's exponent
    n, wrong, at_end = root.evaluate(CLICK_THROUGH)
    assert (n, wrong, at_end) == (len(steps), [], True)
    want = expected_boxes(loss, steps, n)
    shown = root.evaluate(BOXES)
    assert shown == {i: want[i] for i in shown}
    page.focus(".cr-explore")
    page.keyboard.press("ArrowLeft")
    assert counter(page) == f"step {n - 1} / {n}"


def test_graph_over_the_limit_shows_the_per_neuron_view_and_says_so(page, tmp_path):
    model, loss = mlp_loss(hidden=(4, 4))
    path = autograd.explore(loss, model=model, max_nodes=100).save(tmp_path / "big.html")
    loss.backward()
    open_page(page, path)
    assert "too large to show in full" in page.inner_text(".cr-explore .cr-notice")
    root = page.query_selector(".cr-explore")
    n, wrong, _ = root.evaluate(CLICK_THROUGH)
    assert wrong == []
    order = topological_order(loss)
    shown = root.evaluate(BOXES)
    assert len(shown) < len(order) / 2
    for node_id, (data, grad) in shown.items():
        v = order[int(node_id[1:])]
        assert data == f"data {number(v.data)}"
        assert grad == (None if isinstance(v, Constant) else f"grad {number(v.grad)}")
    name = next(name for name, m in model.named_modules() if m is model.layers[0].neurons[0])
    (out,) = [v for v in order if v.label == name]
    page.click(f'g.node[data-id="v{order.index(out)}"]')
    panel = page.inner_text(".cr-explore .cr-panel")
    assert "neuron" in panel and "nodes in one" in panel and repr(out.grad) in panel


@pytest.mark.slow
def test_page_works_inside_a_real_jupyterlab_output(page, tmp_path):
    """JupyterLab runs a cell that returns a page; its output is stepped with a click and a key."""
    pytest.importorskip("jupyterlab")
    source = [
        "import autograd\n",
        "from autograd import Value\n",
        "x = Value(2.0, label='x')\n",
        "autograd.explore((x * 3).tanh(), title='in a notebook')",
    ]
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "c1",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "explore.ipynb").write_text(json.dumps(notebook))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={tmp_path}", "--no-browser"]
    if getattr(os, "geteuid", lambda: -1)() == 0:  # Jupyter refuses root without it
        command.append("--allow-root")
    command += ["--ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    command.append(f"--IdentityProvider.token={token}")
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "HOME": str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    server = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 90
        while server.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5
                )
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        else:
            pytest.fail(
                f"JupyterLab did not start: {server.stdout.read1().decode(errors='replace')}"
            )
        page.goto(f"http://127.0.0.1:{port}/lab/tree/explore.ipynb?token={token}")
        # run the cell only once its kernel is up (a Shift+Enter before that can be lost)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=180_000)
        page.click(".jp-Notebook .jp-Cell .cm-content", timeout=120_000)
        page.keyboard.press("Shift+Enter")
        output = ".jp-OutputArea .cr-explore"
        page.wait_for_selector(f"{output}[data-ready=true]", timeout=120_000)
        page.click(f"{output} .cr-next")
        page.keyboard.press("ArrowRight")  # the page, not JupyterLab, takes the arrow
        assert page.inner_text(f"{output} .cr-counter") == "step 2 / 5"
        assert page.inner_text(f"{output} .cr-step").startswith("Forward")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
