"""``explore``: one self-contained HTML page that steps through a graph's forward and backward pass.

The page holds three things, all inline (no network, no server): the graph exactly as ``draw``
lays it out (its SVG, rendered by Graphviz when the page is made), a JSON description of every
node and step (``_Steps`` below), and a small script (``explorer.js``) that maps the SVG's nodes
(their ``<title>`` is draw's node id ``v<topological index>``) to that description.  The
forward steps reveal each value in topological order; the backward steps, from
``steps.backward_steps``, reveal each gradient in reverse topological order with its chain-rule
terms (upstream grad x local derivative = contribution), so the numbers are the engine's own.

Safety: user text (labels, names, the title) reaches the page only as JSON inside a
``<script type="application/json">`` with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, and
the script builds the DOM with ``textContent``; the SVG's labels are escaped by ``draw``.  A
graph with more than ``max_nodes`` boxes is shown with one node per nn neuron instead.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import os
import re
import uuid
from importlib import resources
from pathlib import Path

from ..backward import topological_order
from ..files import write_atomically
from ..value import Value
from . import chain, collapse, style
from .dot import GraphTooLargeError, draw, node_kind
from .steps import backward_steps

MAX_NODES = 4000  # boxes drawn in full: MLP(2, [16, 16, 1]) on one sample has about 1,700

# SVG clean-up (on the MLP(2, [16, 16, 1]) page: 2.2 -> 1.8 MB of SVG, 39,000 -> 22,000 tags):
# graphviz's XML prologue and comments (node ids only), its element ids (they would clash
# between two pages in one notebook), the tooltip anchors (they would show a gradient before the
# backward pass reaches it), each group's <title> (a node's id, moved into data-id; the browser
# would show it as a tooltip) and the font repeated on every text (set once in explorer.css).
# Graphviz writes a quote inside an attribute as &quot;, so `"[^"]*"` cannot run past the end
# of a value.  Output that does not match these patterns (another Graphviz version) still
# works: the script also reads <title>.
_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)
_TOOLTIP = re.compile(r'<g id="a_[^"]*"><a xlink:title="[^"]*">\n(.*?)</a>\n</g>\n', re.S)
_TITLED = re.compile(r'<g id="[^"]*" class="(node|edge|cluster|graph)">\n<title>([^<]*)</title>\n')
_ID = re.compile(r' id="[^"]*"')
_FONT = re.compile(r' font-family="Helvetica,sans-Serif"')
_GRAPH_TITLE = re.compile(r"<title>chainrule</title>\n")  # would be the whole graph's tooltip
# graphviz ends every element with a line break, which the browser keeps as a text node: half
# the MLP(2, [16, 16, 1]) page's 39,000 DOM nodes (its load: 1.8 -> 1.5 s of browser work,
# medians of 6 on the busy 2-core machine)
_BETWEEN_TAGS = re.compile(r">\n+<")
_NODE_ID = re.compile(r'(?:data-id="|<title>)(v\d+)(op)?(?:"|</title>)')  # either form


class Page:
    """An explorer page: ``save(path)`` writes it, Jupyter shows it inline (``_repr_html_``)."""

    def __init__(self, title: str, svg: str, data: dict, network_svg: str | None = None):
        self.title = title
        self.svg = svg
        self.data = data
        self.network_svg = network_svg

    def __repr__(self) -> str:
        return (
            f"<explorer page: {self.data['title']!r}, {len(self.data['steps']) - 1} steps, "
            f"{len(self.data['nodes'])} nodes{' (per-neuron view)' if self.data['notice'] else ''}>"
        )

    def html(self, uid: str | None = None) -> str:
        """The page as an HTML fragment (a ``<div>``, its style and script); ``uid`` scopes it."""
        if uid is None:  # the same graph gives the same file, byte for byte
            uid = hashlib.sha256(self._json().encode("utf-8")).hexdigest()[:12]
        if not re.fullmatch(r"[A-Za-z0-9_-]+", uid):
            raise ValueError(f"uid must be letters, digits, '-' or '_', got {uid!r}")
        network = ""
        if self.network_svg is not None:
            # an <img> cannot run scripts, whatever the picture holds, and its ids stay its own
            encoded = base64.b64encode(self.network_svg.encode("utf-8")).decode("ascii")
            network = (
                '<details class="cr-network" open><summary>The network</summary>'
                f'<img alt="the network diagram" src="data:image/svg+xml;base64,{encoded}">'
                "</details>"
            )
        return _TEMPLATE.format(
            uid=uid,
            css=_asset("explorer.css"),
            js=_asset("explorer.js"),
            svg=self.svg,
            network=network,
            data=_script_json(self._json()),
        )

    def document(self) -> str:
        """The page as a whole HTML document, to open from disk."""
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html_lib.escape(self.title)} \u2014 chainrule explorer</title>\n"
            '</head>\n<body style="margin:0;background:#f6f7f9">\n'
            f"{self.html()}\n</body>\n</html>\n"
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to path (atomically: a failure leaves the file as it was)."""
        path = Path(path)
        write_atomically(path, self.document().encode("utf-8"))
        return path

    def _repr_html_(self) -> str:
        # a fresh id each time: the same page shown twice in a notebook keeps two states
        return self.html(uid=uuid.uuid4().hex[:12])

    def _json(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))


def explore(
    root: Value,
    path: str | os.PathLike | None = None,
    *,
    model=None,
    params=None,
    network=None,
    title: str | None = None,
    max_nodes: int = MAX_NODES,
) -> Page:
    """An HTML page that steps through root's forward and backward pass; written to path if given.

    The gradients are computed for the page (``root``'s graph keeps its ``.grad`` as it was).
    ``model``/``params`` name the parameters as ``draw`` does; ``network`` is an extra picture
    shown under the graph (anything with an ``svg()`` method, such as ``nn.draw_network``'s
    drawing, or SVG text).  Past ``max_nodes`` boxes each nn neuron is drawn as one node.
    """
    if not isinstance(root, Value):
        raise TypeError(f"explore() needs a Value, got {type(root).__name__}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a whole number of at least 1, got {max_nodes!r}")
    network_svg = _network_svg(network)
    steps = list(backward_steps(root))
    grads = {s.node: s.grad for s in steps}
    options = {"view": "both", "grads": grads, "model": model, "params": params}
    notice = None
    collapsed = None
    try:
        drawing = draw(root, max_nodes=max_nodes, **options)
    except GraphTooLargeError as exc:
        size = str(exc).partition(":")[0]
        try:
            drawing = draw(root, max_nodes=max_nodes, collapse="neuron", **options)
        except GraphTooLargeError:
            raise GraphTooLargeError(
                f"{size}, and drawing each neuron as one node does not bring it under the "
                "limit: explore a smaller graph (one sample rather than a batch), or raise "
                "max_nodes"
            ) from None
        collapsed = "neuron"
        notice = (
            f"This graph is too large to show in full ({size.removeprefix('the graph has ')}), "
            "so each neuron is drawn as one node and the steps go through the nodes shown."
        )
    svg = _clean_svg(drawing.svg())
    shown = {m.group(1) for m in _NODE_ID.finditer(svg)}
    with_op = {m.group(1) for m in _NODE_ID.finditer(svg) if m.group(2)}
    data = _Steps(root, steps, shown, with_op, model, params, collapsed).data()
    page_title = title if title is not None else (root.label or "computation graph")
    data.update(title=str(page_title), notice=notice, collapsed=collapsed is not None)
    page = Page(str(page_title), svg, data, network_svg)
    if path is not None:
        page.save(path)
    return page


def _network_svg(network) -> str | None:
    if network is None:
        return None
    if isinstance(network, str):
        return network
    if callable(getattr(network, "svg", None)):
        return network.svg()
    raise TypeError(
        f"network must be a drawing with an svg() method or SVG text, got {type(network).__name__}"
    )


def _clean_svg(svg: str) -> str:
    svg = _PROLOGUE.sub("", svg, count=1)
    svg = _COMMENT.sub("", svg)
    svg = _TOOLTIP.sub(r"\1", svg)
    svg = _TITLED.sub(_data_id, svg)
    svg = _ID.sub("", svg)
    svg = _GRAPH_TITLE.sub("", svg, count=1)
    svg = _FONT.sub("", svg)
    return _BETWEEN_TAGS.sub("><", svg)


def _data_id(match: re.Match) -> str:
    kind, name = match.groups()
    if kind in ("node", "edge"):  # (the name is graphviz's escaped text: v0&#45;&gt;v2op)
        return f'<g class="{kind}" data-id="{name}">\n'
    return f'<g class="{kind}">\n'  # a cluster's or the graph's name is not needed


class _Steps:
    """The JSON the script reads: every node shown, and every step (forward, then backward)."""

    def __init__(self, root, steps, shown, with_op, model, params, collapsed):
        self.root = root
        self.order = topological_order(root)
        self.ids = {v: f"v{i}" for i, v in enumerate(self.order)}  # draw's node ids
        self.uses = chain.uses(self.order)
        self.s = collapse.analyse(
            self.order, self.uses, model=model, params=params, collapse=collapsed
        )
        self.steps = steps
        self.shown = [v for v in self.order if self.ids[v] in shown]
        self.with_op = with_op  # ids of the nodes drawn with an op ellipse
        self.grads = {s.node: s.grad for s in steps}
        # a hidden node (inside a collapsed neuron) -> the neuron's output, which stands for it
        by_name = {name: out for out, name in self.s.collapsed.items()}
        self.stands_for = {
            v: by_name[self.s.neuron_of[v]]
            for v in self.s.hidden
            if self.s.neuron_of.get(v) in by_name
        }
        self._names: dict[Value, str] = {}

    # ---- names -------------------------------------------------------------------------------

    def name(self, v: Value) -> str:
        """What the page calls a node: its (parameter) name, else its expression, shortened."""
        if v not in self._names:
            self._names[v] = self._describe(v, 2)
        return self._names[v]

    def given(self, v: Value) -> str:
        """The name the drawing shows: a model's ``shown`` name (``W1[1][2]``), else the node's
        (parameter) name, else ""."""
        name = self.s.name(v)
        shown = getattr(name, "shown", None) if name is v.label else None
        return str(shown or name)

    def _describe(self, v: Value, depth: int) -> str:
        given = self.given(v)
        if given:
            return given
        if v.is_leaf:
            return style.short(v.data)
        if depth == 0:
            return "\u2026"
        return _formula(v, [self._describe(p, depth - 1) for p in v.parents])

    def kind(self, v: Value) -> str:
        return node_kind(v, (self.root,), self.s)

    def op_text(self, v: Value) -> str:
        if v.is_leaf:
            return ""
        if v in self.s.collapsed:
            inside = (
                "a weighted sum" if v.op == "add" else f"{v.primitive.symbol} of a weighted sum"
            )
            return f"neuron: {inside} ({self.s.size_of[v]} nodes in one)"
        return f"{v.op} ({v.primitive.symbol})"

    # ---- the description -------------------------------------------------------------------

    def data(self) -> dict:
        index = {v: i for i, v in enumerate(self.shown)}
        nodes = []
        for v in self.shown:
            grad = self.grads.get(v)
            nodes.append(
                {
                    "id": self.ids[v],
                    "name": self.name(v),
                    "path": str(self.s.name(v)) if self.given(v) != self.s.name(v) else None,
                    "kind": self.kind(v),
                    "op": self.op_text(v),
                    "leaf": v.is_leaf,
                    "data": style.number(v.data),
                    "dataExact": repr(float(v.data)),
                    "grad": None if grad is None else style.number(grad),
                    "gradExact": None if grad is None else repr(float(grad)),
                }
            )
        steps: list[dict] = [{"kind": "start"}]
        for v in self.shown:
            if not v.is_leaf:
                steps.append(self.forward_step(v, index))
        for s in self.steps:
            if s.node in index:
                steps.append(self.backward_step(s, index))
        for k, step in enumerate(steps):
            if step["kind"] != "start":
                nodes[step["node"]]["fwd" if step["kind"] == "forward" else "bwd"] = k
        return {"nodes": nodes, "steps": steps, "root": index[self.root]}

    def forward_step(self, v: Value, index) -> dict:
        vid = self.ids[v]
        if v in self.s.collapsed:
            inputs = self.s.inputs_of[v]
            return {
                "kind": "forward",
                "node": index[v],
                "title": f"the value of {self.name(v)}",
                "formula": f"{self.name(v)} = its activation of a weighted sum of "
                + ", ".join(self.name(p) for p in inputs),
                "numbers": f"= {style.short(v.data)}",
                "edges": [f"{self.ids[p]}->{vid}" for p in inputs],
                "from": [index[p] for p in inputs if p in index],
            }
        shown_parents = [p for p in v.parents if p in index]
        symbolic = _formula(v, [self.name(p) for p in v.parents])
        numbers = _formula(v, [style.short(p.data) for p in v.parents])
        head = self.given(v)
        return {
            "kind": "forward",
            "node": index[v],
            "title": f"the value of {head}" if head else f"a {v.op} node's value",
            "formula": f"{head} = {symbolic}" if head else symbolic,
            "numbers": f"= {numbers} = {style.short(v.data)}",
            "edges": [f"{self.ids[p]}->{vid}op" for p in shown_parents] + [f"{vid}op->{vid}"],
            "from": [index[p] for p in shown_parents],
        }

    def backward_step(self, s, index) -> dict:
        v = s.node
        vid = self.ids[v]
        terms, edges, to = [], [], []
        for t in s.terms:
            child = t.child
            target = child if child in index else self.stands_for.get(child)
            via = self.name(child)
            if target is not None and target is not child:
                via = f"{via}, inside {self.name(target)}"
            if target is not None:
                tid = self.ids[target]
                edges.append(f"{vid}->{tid}op" if tid in self.with_op else f"{vid}->{tid}")
                to.append(index[target])
            terms.append(
                {
                    "via": via,
                    "upstream": style.short(t.upstream),
                    "local": "undefined" if t.local is None else style.short(t.local),
                    "product": style.short(t.product),
                }
            )
        return {
            "kind": "backward",
            "node": index[v],
            "seed": not s.terms,
            "terms": terms,
            "grad": style.short(s.grad),
            "edges": edges,
            "to": to,
        }


def _wrap(text: str) -> str:
    """text in parentheses when it is a compound expression (so ``a × (b + c)`` reads right)."""
    plain = text.replace(".", "").replace("[", "").replace("]", "").replace("_", "")
    if plain.isalnum() or text == "\u2026" or _is_number(text):
        return text
    return f"({text})"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_SHOWN_SYMBOL = {"*": "\u00d7"}  # how an infix symbol reads in the page


def _formula(v: Value, args: list[str]) -> str:
    """v's op applied to args: ``a × b``, ``-a``, ``tanh(a)``, ``LeakyReLU(a, 0.01)``."""
    symbol = v.primitive.symbol
    if len(args) == 2 and not symbol[0].isalpha():
        return f"{_wrap(args[0])} {_SHOWN_SYMBOL.get(symbol, symbol)} {_wrap(args[1])}"
    if len(args) == 1 and not symbol[0].isalpha():
        return f"{symbol}{_wrap(args[0])}"
    return f"{symbol}({', '.join(args)})"


def _script_json(text: str) -> str:
    """JSON text safe inside <script>: no ``</script>``, ``<!--``, or line separators."""
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


_TEMPLATE = (
    """<div class="cr-explore" id="cr-{uid}" tabindex="0">
<style>{css}</style>
<div class="cr-bar">
<button type="button" class="cr-reset" title="back to the start (Home)">\u27f2 Reset</button>
<button type="button" class="cr-back" title="previous step (\u2190)">\u25c0 Back</button>
<button type="button" class="cr-next" title="next step (\u2192)">Next \u25b6</button>
<span class="cr-counter" aria-live="polite">step 0 / 0</span>
<span class="cr-phase"></span>
<span class="cr-title"></span>
<span class="cr-zoom"><button type="button" class="cr-zoom-out" title="zoom out">\u2212</button>"""
    """<button type="button" class="cr-zoom-fit" title="fit the width">fit</button>"""
    """<button type="button" class="cr-zoom-in" title="zoom in">+</button></span>
</div>
<div class="cr-notice" hidden></div>
<div class="cr-cards">
<section class="cr-card cr-step"></section>
<section class="cr-card cr-panel"><p class="cr-muted">Click a node to see its value, """
    """its gradient and where the gradient comes from.</p></section>
</div>
<div class="cr-graph">{svg}</div>
{network}
<script type="application/json" class="cr-data">{data}</script>
<script>
(function () {{
{js}
explore(document.getElementById("cr-{uid}"));
}})();
</script>
</div>"""
)
