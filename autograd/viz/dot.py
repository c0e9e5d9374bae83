"""``draw``: a computation graph as a Graphviz ``Digraph``, micrograd style.

Each Value is a record-like box (label | data | grad) and each op a small ellipse between its
operands and its result, left to right.  What a drawing shows:

* ``view``: "forward" (data), "gradient" (grad, nodes coloured by its sign and size) or "both".
* gradients: by default each node's ``.grad``, but if every root's ``.grad`` is 0 nothing has
  been computed yet and every gradient shows as "not computed" (a root's gradient after
  ``backward()`` is never 0).  ``grads=`` overrides that: a mapping {Value: gradient} (nodes
  missing from it are "not computed") or "compute" (run a backward pass for the picture only,
  leaving every ``.grad`` as it was).
* ``edge_derivatives``: each edge into an op is labelled with the local derivative
  d(out)/d(in); ``chain_rule``: each node shows its gradient as the sum over its uses of
  upstream grad x local derivative.
* networks (``nn``'s, or any library's that labels its Values as ``groups.py`` says): a
  cluster per layer and per neuron, and ``collapse="neuron"``.

The DOT text depends only on the graph: node ids follow the topological order, so the same
graph gives the same text byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import graphviz

from ..backward import backpropagate, topological_order
from ..files import write_all_atomically, write_atomically
from ..value import Constant, Value
from . import chain, renderer, style
from . import collapse as collapsing
from .escape import dot_string, html
from .style import float_of

VIEWS = ("forward", "gradient", "both")
RANKDIRS = ("LR", "TB", "RL", "BT")
MAX_NODES = 400  # value and op boxes; dot takes long and the picture is unreadable beyond
CHAIN_TERMS_SHOWN = 4  # a node with more uses lists this many terms, then "+ ... (n more)"


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``."""


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders with the renderer chainrule finds (dot or graphviz-pure).

    ``pipe`` and ``render`` work as in the graphviz package; Jupyter shows it inline as SVG.
    """

    def pipe(self, format: str | None = None, *args, encoding: str | None = None, **kwargs):
        """The drawing rendered to `format` (default: this graph's format), as bytes or str."""
        fmt = format or self.format or "svg"
        data = self.source.encode("utf-8") if fmt == "dot" else renderer.render(self.source, fmt)
        return data.decode(encoding) if encoding else data

    def render(
        self,
        filename=None,
        directory=None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        *args,
        outfile=None,
        **kwargs,
    ) -> str:
        """Write the DOT file (unless cleanup) and the rendered file beside it; returns its path.

        As in the graphviz package: ``<directory>/<filename>`` holds the DOT text and
        ``<directory>/<filename>.<format>`` the picture (or ``outfile`` names the picture).
        ``view`` is ignored: open the file yourself.
        """
        if outfile is not None:
            target = os.fspath(outfile)
            fmt = format or os.path.splitext(target)[1].lstrip(".") or self.format
            source_path = os.path.splitext(target)[0] + ".gv"
        else:
            fmt = format or self.format or "svg"
            name = os.fspath(filename) if filename is not None else self.filename
            source_path = os.path.join(directory if directory is not None else self.directory, name)
            target = f"{source_path}.{fmt}"
        picture = self.pipe(fmt)  # rendered before anything is written: a failure writes nothing
        files = [] if cleanup else [(source_path, self.source.encode("utf-8"))]
        write_all_atomically([*files, (target, picture)])  # the DOT text and picture, or neither
        return target

    def svg(self) -> str:
        """The drawing as SVG text."""
        return renderer.svg(self.source)

    def save(self, filename=None, directory=None, **kwargs) -> str:
        """Write one file, its format from the suffix: .svg, .png, .pdf rendered, .dot/.gv the
        DOT text (graphviz's own save wrote DOT text whatever the suffix).  Returns its path."""
        name = os.fspath(filename) if filename is not None else self.filename
        path = os.path.join(directory if directory is not None else self.directory, name)
        fmt = os.path.splitext(path)[1].lstrip(".").lower()
        if fmt not in renderer.FORMATS + ("gv",):
            raise ValueError(
                f"cannot tell the format of {path!r}: use a .dot, .svg, .png or .pdf suffix"
            )
        # rendered in full before anything is written: a failure leaves no file
        data = self.source.encode("utf-8") if fmt in ("dot", "gv") else self.pipe(fmt)
        write_atomically(path, data)
        return path

    def __repr__(self) -> str:
        lines = [line.strip() for line in self.body]
        statements = [x for x in lines if not x.startswith(("graph ", "node ", "edge "))]
        nodes = sum(1 for x in statements if " [" in x and " -> " not in x)
        edges = sum(1 for x in statements if " -> " in x and "invis" not in x)
        return (
            f"<chainrule drawing {self.name!r}: {nodes} nodes, {edges} edges. Jupyter shows it "
            "inline; drawing.save('x.svg') writes a file (.svg, .png, .pdf or .dot); "
            "drawing.source is its DOT text>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        # without a renderer Jupyter shows how to install one, not a traceback
        try:
            return {"image/svg+xml": self.svg()}
        except renderer.RendererNotFoundError as exc:
            return {"text/plain": str(exc)}

    def _repr_svg_(self) -> str:
        return self.svg()


@dataclass(frozen=True)
class Options:
    """How a drawing looks, checked once: what ``draw``'s keyword arguments become."""

    view: str = "both"  # "forward" (data), "gradient" (grad, coloured) or "both"
    edge_derivatives: bool = False  # label each edge into an op with d(out)/d(in)
    chain_rule: bool = False  # show each gradient as its sum of upstream x local terms
    clusters: bool = True  # a cluster per layer and per neuron
    legend: bool = True
    max_nodes: int = MAX_NODES  # value and op boxes; GraphTooLargeError past it
    rankdir: str = "LR"
    title: str | None = None
    grad_scale: float | None = None  # the |grad| drawn darkest (None: the largest shown)

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}; got {self.view!r}")
        if self.rankdir not in RANKDIRS:
            raise ValueError(f"rankdir must be LR, TB, RL or BT; got {self.rankdir!r}")

    @property
    def show_data(self) -> bool:
        return self.view in ("forward", "both")

    @property
    def show_grad(self) -> bool:
        return self.view in ("gradient", "both")


def draw(
    root: Value | Iterable[Value],
    view: str = "both",
    *,
    grads: Mapping | str | None = None,
    edge_derivatives: bool = False,
    chain_rule: bool = False,
    model=None,
    params: Iterable | None = None,
    clusters: bool = True,
    collapse: str | None = None,
    legend: bool = True,
    max_nodes: int = MAX_NODES,
    rankdir: str = "LR",
    highlight=None,
    title: str | None = None,
    grad_scale: float | None = None,
) -> Drawing:
    """The graph behind root (a Value or several) as a ``graphviz.Digraph``.

    What is drawn: ``grads`` (see the module docstring); ``model`` (anything with
    ``named_parameters()``, such as an ``nn`` Module) or ``params`` (Values or (name, Value)
    pairs) say which leaves are parameters; without them, leaves whose label is a
    ``groups.ParameterLabel`` are (``nn`` labels its parameters so); ``collapse="neuron"``;
    ``highlight`` marks a node (or a backward ``Step``: its node and the edges its terms came
    along).  How it looks: the other arguments, the fields of ``Options``.  Raises
    ``GraphTooLargeError`` past ``max_nodes`` boxes.
    """
    options = Options(
        view, edge_derivatives, chain_rule, clusters, legend, max_nodes, rankdir, title, grad_scale
    )
    roots = [root] if isinstance(root, Value) else list(root) if _iterable(root) else []
    if not roots or not all(isinstance(r, Value) for r in roots):
        raise TypeError("draw() needs a Value or a list of Values")
    order = topological_order(roots)
    if collapse is None:
        # a cheap lower bound first (only constants can be folded away), so a huge graph is
        # refused before any other work
        lower = sum(1 if v.is_leaf else 2 for v in order if type(v) is not Constant)
        _check_size(lower, max_nodes, at_least=True, order=order)
    uses = chain.uses(order)
    s = collapsing.analyse(order, uses, model=model, params=params, collapse=collapse)
    folded = _folded_constants(order, uses)
    visible = [v for v in order if v not in s.hidden and v not in folded]
    boxes = sum(1 if v.is_leaf or v in s.collapsed else 2 for v in visible)
    _check_size(boxes, max_nodes, collapse, order=order)
    known = _gradients(roots, order, grads)
    return _Builder(roots, order, uses, s, known, options).build(visible, folded, highlight)


def draw_dot(root: Value | Iterable[Value], format: str = "svg", rankdir: str = "LR", **options):
    """micrograd's ``draw_dot(root, format='svg', rankdir='LR')``: ``draw`` with that format.

    The format is what ``render()`` and ``pipe()`` write by default; other options as ``draw``.
    """
    if format not in renderer.FORMATS:
        raise ValueError(f"format must be one of {', '.join(renderer.FORMATS)}; got {format!r}")
    drawing = draw(root, rankdir=rankdir, **options)
    drawing.format = format
    return drawing


def _check_size(
    boxes: int, max_nodes: int, collapse=None, at_least: bool = False, order=()
) -> None:
    if boxes <= max_nodes:
        return
    if collapse:
        hint = "draw a smaller graph (one sample rather than a batch)"
    elif any(map(collapsing.is_neuron_output, order)):
        hint = "pass collapse='neuron' to draw each neuron as one node, or draw a smaller graph"
    else:  # no neurons: collapsing would change nothing
        hint = "draw a smaller graph"
    raise GraphTooLargeError(
        f"the graph has {'at least ' if at_least else ''}{boxes} nodes (values and ops), "
        f"over max_nodes={max_nodes}: {hint}, or raise max_nodes (dot may then take minutes)"
    )


def _iterable(x) -> bool:
    return isinstance(x, Iterable) and not isinstance(x, (str, bytes))


# ops whose second operand is a plain number that reads best inside the op: x**2, LeakyReLU(0.1)
_FOLDED_LABELS = {"pow": "**{:g}", "leaky_relu": "LeakyReLU({:g})"}


def _folded_constants(order: list[Value], uses) -> set[Value]:
    """Constants shown inside their op's label (a pow's exponent, a leaky_relu's slope)."""
    return {
        v
        for v in order
        if isinstance(v, Constant)
        and len(uses[v]) == 1
        and uses[v][0][1] == 1
        and uses[v][0][0].op in _FOLDED_LABELS
    }


def _op_label(v: Value) -> str:
    template = _FOLDED_LABELS.get(v.op)
    b = v.parents[1] if len(v.parents) == 2 else None
    if template and isinstance(b, Constant):
        return template.format(b.data)
    return v.primitive.symbol


def _gradients(roots: list[Value], order: list[Value], grads) -> dict[Value, float]:
    """{node: gradient as a float} for the nodes whose gradient is known."""
    if grads is None:
        computed = any(isinstance(r.grad, Value) or r.grad != 0 for r in roots)
        found = {v: v.grad for v in order} if computed else {}
    elif isinstance(grads, str):
        if grads != "compute":
            raise ValueError(f"grads must be None, a mapping or 'compute'; got {grads!r}")
        found = backpropagate(roots, [1.0] * len(roots))
    elif isinstance(grads, Mapping):
        found = grads
    else:
        raise TypeError(f"grads must be None, a mapping or 'compute'; got {type(grads).__name__}")
    return {v: float_of(g) for v, g in found.items() if g is not None}


def node_kind(v: Value, roots: Collection[Value], s: collapsing.Structure) -> str:
    """What v's box is drawn as (a legend kind): neuron, output, constant, parameter, input or
    intermediate.  The explorer page uses the same kinds."""
    if v in s.collapsed:
        return style.NEURON
    if v in roots:
        return style.OUTPUT
    if isinstance(v, Constant):
        return style.CONSTANT
    if v.is_leaf:
        return style.PARAMETER if v in s.params else style.INPUT
    return style.INTERMEDIATE


class _Builder:
    """Turns the analysed graph into DOT statements (one instance per draw call)."""

    def __init__(self, roots, order, uses, s: collapsing.Structure, known, options: Options):
        self.roots, self.order, self.uses, self.s = roots, order, uses, s
        self.known = known  # {node: gradient as a float}, for the nodes whose gradient is known
        self.o = options
        self.ids = {v: f"v{i}" for i, v in enumerate(order)}
        scale = options.grad_scale
        if scale is None:  # colours scaled to this graph's largest gradient
            scale = style.grad_scale(known.get(v) for v in order if not isinstance(v, Constant))
        self.scale = float(scale)
        self.root_set = set(roots)

    # ---- one value box ------------------------------------------------------------------------

    def kind(self, v: Value) -> str:
        return node_kind(v, self.root_set, self.s)

    def shown_label(self, v: Value, cluster: str | None) -> str:
        """The model's name for the node (``shown``), else its label relative to the neuron
        cluster the node sits in (``w.0``, ``out``)."""
        if v in self.s.collapsed:
            return v.label.shown or v.label.short
        label = self.s.name(v)
        if label is v.label and getattr(label, "shown", None):
            return label.shown
        if cluster and label == cluster:
            return "out"
        if cluster and label.startswith(cluster + "."):
            return label[len(cluster) + 1 :]
        return label

    def cells(self, v: Value, cluster: str | None) -> tuple[list[str], int | None]:
        """The box's cells (label, activation, data, grad) and which one is the grad's."""
        cells = []
        label = self.shown_label(v, cluster)
        if label:
            cells.append(f"<B>{html(label)}</B>")
        if v in self.s.collapsed:
            activation = "linear" if v.op == "add" else _op_label(v)  # a bare sum: no activation
            cells.append(f'<FONT POINT-SIZE="10">{html(activation)}</FONT>')
        constant = isinstance(v, Constant)
        if self.o.show_data or constant:
            cells.append(f"data {style.number(v.data)}")
        if not self.o.show_grad or constant:
            return cells, None
        if v in self.known:
            cells.append(f"grad {style.number(self.known[v])}")
        else:
            cells.append(f'<FONT COLOR="{style.MUTED}"><I>grad not computed</I></FONT>')
        return cells, len(cells) - 1

    def node_label(self, v: Value, cluster: str | None, highlighted: bool) -> str:
        """The box as an HTML-like table: one row of cells, and the chain rule's row below."""
        kind = style.KINDS[self.kind(v)]
        constant = isinstance(v, Constant)
        grad_fill = (
            style.grad_fill(self.known[v], self.scale)
            if v in self.known
            else style.NOT_COMPUTED_FILL
        )
        body_fill = grad_fill if self.o.view == "gradient" and not constant else kind.fill
        border, width = (style.HIGHLIGHT, 4) if highlighted else (kind.border, kind.width)
        cells, grad_cell = self.cells(v, cluster)
        tds = []
        for i, text in enumerate(cells):
            attrs = ' SIDES="L" BORDER="1"' if i else ""
            if i == grad_cell and self.o.view == "both":
                # a coloured pill inside the cell, clear of the box's rounded corners
                text = (
                    f'<TABLE BORDER="0" CELLPADDING="2" CELLSPACING="0" BGCOLOR="{grad_fill}"'
                    f' STYLE="rounded"><TR><TD>{text}</TD></TR></TABLE>'
                )
                attrs += ' CELLPADDING="2"'
            tds.append(f"<TD{attrs}>{text}</TD>")
        rows = [f"<TR>{''.join(tds)}</TR>"]
        if self.o.chain_rule and grad_cell is not None and v in self.known:
            sum_text = self.chain_text(v)
            if sum_text:
                # a sum of several uses has one term a line (chain_text), left-aligned
                balign = ' BALIGN="LEFT"' if "<BR/>" in sum_text else ""
                rows.append(
                    f'<TR><TD COLSPAN="{len(cells)}" SIDES="T" BORDER="1"{balign}>'
                    f'<FONT POINT-SIZE="10">{sum_text}</FONT></TD></TR>'
                )
        return (
            f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4"'
            f' COLOR="{border}" BGCOLOR="{body_fill}"{style.style_attr(kind.table_style)}>'
            f"{''.join(rows)}</TABLE>>"
        )

    def chain_text(self, v: Value) -> str:
        """``grad = 1.5 × -3 + 2 × 1``: the node's gradient from its uses (HTML), one term a line.

        One line per use keeps the row narrower than the node's 12-point cells above it, so the
        text stays in its box even where the viewer's font is wider than the one Graphviz
        measured with (a two-term sum on one line ran past its box in a DejaVu Sans rendering).
        """
        if v in self.root_set and not self.uses[v]:
            return f"grad = {style.short(self.known[v])} (the seed)"
        terms = chain.terms(self.uses[v], self.known)
        if not terms:
            return ""
        shown = [str(t) for t in terms]
        if len(terms) > CHAIN_TERMS_SHOWN + 1:  # one "more" would take as much room as a term
            kept = CHAIN_TERMS_SHOWN - 1
            shown = shown[:kept] + [f"\u2026 ({len(terms) - kept} more)"]
        return html("grad = " + "\n+ ".join(shown))

    def tooltip(self, v: Value) -> graphviz.quoting.NoHtml:
        name = self.s.name(v)
        shown = getattr(name, "shown", None) if name is v.label else None
        parts = [
            f"{shown} ({name})" if shown else name or (f"{v.op} result" if v.op else "leaf"),
            f"data = {float(v.data)!r}",
        ]
        if self.o.show_grad and not isinstance(v, Constant):
            parts.append(f"grad = {self.known[v]!r}" if v in self.known else "grad not computed")
        if v in self.s.collapsed:
            parts.append(f"one node for the {self.s.size_of[v]} nodes of this neuron")
        return dot_string("\n".join(parts))

    # ---- one op ellipse and the edges into it ------------------------------------------------

    def add_op(self, box: graphviz.Digraph, v: Value, folded, hl_edges) -> list[_Edge]:
        """v's op ellipse (in box), and the edges op -> v and operand -> op."""
        vid = self.ids[v]
        op = f"{vid}op"
        box.node(
            op,
            label=dot_string(_op_label(v)),
            shape="ellipse",
            style="filled",
            fillcolor=style.OP_FILL,
            color=style.EDGE_COLOUR,
            width="0.3",
            height="0.3",
            margin="0.04,0.02",
            fontsize="11",
            tooltip=dot_string(f"{v.op}: {v.primitive.symbol}"),
        )
        edges = [(op, vid, {})]
        derivatives = chain.local_derivatives(v) if self.o.edge_derivatives else ()
        for position, p in enumerate(v.parents):
            if p in folded:
                continue
            attrs = {}
            if derivatives and not isinstance(p, Constant):
                d = derivatives[position]
                text = "undefined" if d is None else style.short(d)
                attrs["label"] = f'<<FONT POINT-SIZE="10" COLOR="#4a5560">\u2202 {text}</FONT>>'
                attrs["tooltip"] = dot_string(f"local derivative d({v.op})/d(operand {position})")
            if (p, v, position) in hl_edges:
                attrs.update(color=style.HIGHLIGHT, penwidth="2.5")
            edges.append((self.ids[p], op, attrs))
        return edges

    # ---- the whole graph -------------------------------------------------------------------

    def build(self, visible: list[Value], folded: set[Value], highlight) -> Drawing:
        g = _new_drawing(self.o.rankdir)
        if self.s.collapsed:
            # little crossing minimisation: a layer's neurons then stay in index order (they are
            # declared that way), where dot would rotate them to save a crossing or two
            g.attr(mclimit="0.01")
        if self.o.title:
            g.attr(label=f"<<B>{html(self.o.title)}</B>>", labelloc="t", fontsize="16")
        hl_node, hl_edges = _highlight(highlight)
        clusters = _Clusters(g, self.s, self.o.clusters)
        edges: list[_Edge] = []
        for v in visible:
            box, cluster = clusters.place(v)
            vid = self.ids[v]
            label = self.node_label(v, cluster, v is hl_node)
            box.node(vid, label=label, shape="plain", tooltip=self.tooltip(v))
            if v in self.s.collapsed:
                edges += [(self.ids[p], vid, {}) for p in self.s.inputs_of[v]]
            elif not v.is_leaf:
                edges += self.add_op(box, v, folded, hl_edges)
        clusters.nest()
        for tail, head, attrs in edges:
            g.edge(tail, head, **attrs)
        if self.o.legend:
            present = {self.kind(v) for v in visible}
            kinds = [k for k in style.KINDS if k in present]
            label = style.legend_label(kinds, self.o.show_grad, self.o.view != "gradient")
            g.node("legend", label=label, shape="plain")
        return g


_Edge = tuple[str, str, dict]  # (tail id, head id, attributes)


def _new_drawing(rankdir: str) -> Drawing:
    return Drawing(
        name="chainrule",
        format="svg",
        graph_attr={
            "rankdir": rankdir,
            "fontname": style.FONT,
            "bgcolor": "white",
            "nodesep": "0.25",
            "ranksep": "0.4",
            "newrank": "true",
            # cap dot's x-placement search at one pass per node: a node with many uses
            # (x in a 60-term x+x+...+x) took seconds to minutes, small graphs are unchanged
            "nslimit": "1",
        },
        node_attr={"fontname": style.FONT, "fontsize": "12", "fontcolor": style.TEXT_COLOUR},
        edge_attr={"color": style.EDGE_COLOUR, "arrowsize": "0.7", "fontname": style.FONT},
    )


class _Clusters:
    """The layer and neuron clusters of a drawing, made as their first node is placed.

    Neuron clusters nest in their layer's; all are added to the drawing by ``nest()``, after
    every node is placed (graphviz copies a subgraph's statements when it is added).
    """

    def __init__(self, g: graphviz.Digraph, s: collapsing.Structure, enabled: bool) -> None:
        self.g, self.s, self.enabled = g, s, enabled
        self.layers: dict[str, graphviz.Digraph] = {}
        self.neurons: dict[str, graphviz.Digraph] = {}
        self.neuron_parent: dict[str, graphviz.Digraph] = {}  # where each neuron cluster nests
        self.collapsed_names = set(s.collapsed.values())

    def place(self, v: Value) -> tuple[graphviz.Digraph, str | None]:
        """The (sub)graph v's boxes go in, and the neuron cluster's name (for short labels)."""
        collapsed = v in self.s.collapsed
        neuron = v.label if collapsed else self.s.neuron_of.get(v)
        if not self.enabled or neuron is None:
            return self.g, None
        if not collapsed and neuron in self.collapsed_names:
            return self.g, None  # a parameter of a collapsed neuron that is also used elsewhere
        parent = self.g if neuron.layer is None else self.layer(neuron)
        if collapsed:
            return parent, None
        if neuron not in self.neurons:
            title = neuron.shown or neuron.short
            self.neurons[neuron] = _cluster(f"cluster_n{len(self.neurons)}", title, "neuron")
            self.neuron_parent[neuron] = parent
        return self.neurons[neuron], neuron

    def layer(self, neuron) -> graphviz.Digraph:
        """The cluster of the neuron's layer, titled with the layer's shown name if it has one."""
        name = neuron.layer
        if name not in self.layers:
            title = neuron.layer_shown or name
            self.layers[name] = _cluster(f"cluster_{len(self.layers)}", title, "layer")
        return self.layers[name]

    def nest(self) -> None:
        """Add the neuron clusters to their layers, then the layers to the drawing."""
        for neuron, sub in self.neurons.items():
            self.neuron_parent[neuron].subgraph(sub)
        for layer in self.layers.values():
            self.g.subgraph(layer)


def _cluster(name: str, label: str, level: str) -> graphviz.Digraph:
    sub = graphviz.Digraph(name=name)
    sub.attr(
        label=f'<<FONT POINT-SIZE="11" COLOR="{style.MUTED}">{html(label)}</FONT>>',
        labeljust="l",
        style="rounded,filled",
        fillcolor=style.CLUSTER_FILL[level],
        color=style.CLUSTER_BORDER,
    )
    return sub


def _highlight(highlight) -> tuple[Value | None, set]:
    """(node, {(parent, child, position)}) to mark: from a Value or a backward Step."""
    if highlight is None:
        return None, set()
    if isinstance(highlight, Value):
        return highlight, set()
    node = highlight.node
    return node, {(node, t.child, t.position) for t in highlight.terms}
