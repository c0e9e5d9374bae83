"""``draw_network``: a network drawn as the lectures draw it, one circle per input, unit and output.

Columns left to right: the inputs ``x_i``, each layer's units (``h_j``, then ``ŷ``), and the loss
``L`` when a target is given.  Each edge carries its weight under the lecture's name
(``W1[i][j]``), each unit its bias.  Given an input ``x`` every unit shows its weighted sum ``z``
and its output; given a target ``y`` too, the drawing computes that sample's loss and every
gradient for itself (with ``autograd.grad``, so no ``.grad`` changes): each edge shows ∂L/∂w and
each unit its output's gradient and its δ = ∂L/∂z, coloured by sign and size as the gradient
graphs are.  Without a target, edges show the ``.grad`` the last ``backward()`` left.

Big networks stay readable: past ``LABEL_LIMIT`` (20) edges the edges are thin and unlabelled (their
weight and gradient are in each edge's tooltip: hover in an SVG viewer), ``labels=True`` puts
the labels back.  The names come from ``nn.notation``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autograd import Value, enable_grad, grad
from autograd.viz import style
from autograd.viz.dot import Drawing
from autograd.viz.escape import dot_string, html

from . import notation
from .functional import get_loss

VIEWS = ("forward", "gradient", "both")
LABEL_LIMIT = 20  # edges; beyond this labels are off unless asked for (they would overlap)
EDGE_WIDTH = (0.4, 3.0)  # penwidth of the weakest and the strongest edge
LABEL_DISTANCE, LABEL_ANGLE = ("9", "12")  # a weight's label: 90 points back from the head, 12° up


@dataclass
class _Unit:
    """One drawn unit: its neuron, names, and (when known) its numbers."""

    neuron: object
    name: str  # h_1, ŷ ...
    sum_name: str  # z_1, z ...
    z: Value | None = None
    out: Value | None = None
    grads: dict[str, float] = field(default_factory=dict)  # "out", "z" -> dL/d...


def draw_network(
    model,
    x: Sequence[float] | None = None,
    y: float | Sequence[float] | None = None,
    loss: str | Callable[..., Value] | None = None,
    *,
    view: str | None = None,
    labels: bool | None = None,
    grad_scale: float | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Drawing:
    """The network as circles in columns, a weight on every edge (see the module docstring).

    ``x``: one input vector (numbers); ``y``: its target, with ``loss`` a name from
    ``nn.functional.LOSSES`` or a function ``loss(prediction, target)`` (default ``"mse"``).
    ``view``: "forward" (weights, z and outputs), "gradient" or "both" (default: "both" when
    gradients are known, else "forward").  ``labels``: edge labels on or off (default: on up to
    ``LABEL_LIMIT`` edges).  ``grad_scale``: the |gradient| drawn strongest.
    """
    layers = notation.units_of(model)
    if view is not None and view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}; got {view!r}")
    if y is not None and x is None:
        raise ValueError("y needs x: give the input whose target y is")
    if loss is not None and y is None:
        raise ValueError("loss needs a target: give y (and x)")
    nin = len(layers[0][0].w)
    xs = _input_values(x, nin) if x is not None else None
    sizes = [len(units) for units in layers]
    units = [
        [
            _Unit(n, notation.unit_name(k, j, sizes), notation.sum_name(k, j, sizes))
            for j, n in enumerate(ns)
        ]
        for k, ns in enumerate(layers)
    ]
    names = notation.matrix_names(model)
    param_name = {
        id(p): str(names[dotted]) for dotted, p in model.named_parameters() if dotted in names
    }
    loss_value = None
    with enable_grad():  # the picture records its own graph, also inside a caller's no_grad()
        if xs is not None:
            _forward(model, xs, units)
            if y is not None:
                loss_value = _loss(loss, [u.out for u in units[-1]], y)
        param_grads = _gradients(model, xs, units, loss_value)
    known = bool(param_grads)
    if view is None:
        view = "both" if known else "forward"
    edges = sum(len(n.w) for ns in layers for n in ns)
    if labels is None:
        labels = edges <= LABEL_LIMIT
    builder = _Diagram(
        model, units, xs, y, loss_value, param_name, param_grads, view, labels, grad_scale
    )
    return builder.build(title, legend)


def _input_values(x, nin: int) -> list[Value]:
    values = list(x) if not isinstance(x, (numbers.Real, Value)) else [x]
    if len(values) != nin:
        raise ValueError(f"the network has {nin} inputs, x has {len(values)}")
    out = []
    for i, v in enumerate(values):
        data = v.data if isinstance(v, Value) else v
        if isinstance(data, bool) or not isinstance(data, numbers.Real) or not math.isfinite(data):
            raise ValueError(f"x[{i}] must be a finite number, got {v!r}")
        out.append(Value(float(data), label=notation.input_name(i)))
    return out


def _forward(model, xs: list[Value], units: list[list[_Unit]]) -> None:
    """Each unit's z and output, computed with the model's own net() and activate()."""
    stages = model.layers if hasattr(model, "layers") else [model]
    a: list[Value] = xs
    for stage, row in zip(stages, units, strict=True):
        zs = [u.neuron.net(a) for u in row]
        if hasattr(stage, "neurons"):  # a Layer: its activation may act on all units (softmax)
            outs = stage.activate(zs)
        else:
            outs = [stage.activate(zs[0])]
        for u, z, out in zip(row, zs, outs, strict=True):
            u.z, u.out = z, out
        a = outs


def _loss(loss, outputs: list[Value], y) -> Value:
    fn = get_loss(loss or "mse") if loss is None or isinstance(loss, str) else loss
    if not callable(fn):
        raise TypeError(f"loss must be a name or a function, got {loss!r}")
    prediction = outputs[0] if len(outputs) == 1 else outputs
    value = fn(prediction, y)
    if not isinstance(value, Value):
        raise TypeError(f"loss must return a Value, got {type(value).__name__}")
    return value


def _gradients(model, xs, units, loss_value) -> dict[int, float]:
    """{id(parameter): dL/dw}: this sample's when a loss was computed (and every unit's
    dL/dh, dL/dz and each input's dL/dx filled in), else the .grad left by the last backward."""
    params = model.parameters()
    if loss_value is None:
        if any(p.grad != 0 for p in params):
            return {id(p): style.float_of(p.grad) for p in params}
        return {}
    flat = [u for row in units for u in row]
    wrt = params + xs + [u.z for u in flat] + [u.out for u in flat]
    found = grad(loss_value, wrt, allow_unused=True)
    found = [0.0 if g is None else style.float_of(g) for g in found]
    n, m, k = len(params), len(xs), len(flat)
    for i, xv in enumerate(xs):
        xv.grad = found[n + i]  # (our own input Values: no user object changes)
    for i, u in enumerate(flat):
        u.grads = {"z": found[n + m + i], "out": found[n + m + k + i]}
    return {id(p): g for p, g in zip(params, found[:n], strict=True)}


class _Diagram:
    """Turns the computed network into DOT (one instance per draw_network call)."""

    def __init__(
        self, model, units, xs, y, loss_value, param_name, param_grads, view, labels, scale
    ):
        self.model, self.units, self.xs, self.y = model, units, xs, y
        self.loss_value = loss_value
        self.param_name, self.param_grads = param_name, param_grads
        self.view, self.labels = view, labels
        self.show_data = view in ("forward", "both")
        self.show_grad = view in ("gradient", "both") and bool(param_grads)
        self.deltas = loss_value is not None
        if scale is None:
            scale = style.grad_scale(
                list(param_grads.values())
                + [u.grads.get("z") for row in units for u in row]
                + ([xv.grad for xv in xs] if self.deltas else [])
            )
        self.scale = float(scale)
        weights = [abs(p.data) for p in model.parameters()]
        self.weight_scale = max(weights) if weights else 0.0
        n_edges = sum(len(u.neuron.w) for row in units for u in row)
        self.compact = n_edges > LABEL_LIMIT

    # ---- nodes ------------------------------------------------------------------------------

    def _circle(self, rows: list[str], fill: str, border: str, width: int) -> dict:
        if self.compact:  # the name only, in circles of one size: the numbers are in tooltips
            rows = rows[:1]
        body = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
        fixed = {"fixedsize": "true", "width": "0.56", "fontsize": "9"} if self.compact else {}
        return fixed | {
            "label": (
                f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'
            ),
            "shape": "circle",
            "style": "filled",
            "fillcolor": fill,
            "color": border,
            "penwidth": str(width),
            "margin": "0.02",
        }

    def _small(self, text: str) -> str:
        return f'<FONT POINT-SIZE="10">{html(text)}</FONT>'

    def input_node(self, i: int) -> dict:
        name = notation.input_name(i)
        fill, border, width, _, _ = style.KINDS[style.INPUT]
        rows = [f"<B>{html(name)}</B>"]
        tip = [name]
        if self.xs is not None:
            xv = self.xs[i]
            if self.show_data:
                rows.append(self._small(style.short(xv.data)))  # (its name is above it)
            tip.append(f"{name} = {xv.data!r}")
            if self.show_grad and self.deltas:
                rows.append(self._small(f"∂L/∂{name} = {style.short(xv.grad)}"))
                tip.append(f"dL/d{name} = {xv.grad!r}")
                if self.view == "gradient":
                    fill = style.grad_fill(xv.grad, self.scale)
        return self._circle(rows, fill, border, width) | {"tooltip": dot_string("\n".join(tip))}

    def unit_node(self, u: _Unit, output: bool) -> dict:
        kind = style.OUTPUT if output and self.loss_value is None else style.NEURON
        fill, border, width, _, _ = style.KINDS[kind]
        n = u.neuron
        rows = [f"<B>{html(u.name)}</B>"]
        tip = [f"{u.name}: {_activation(n)} unit"]
        bias_grad_row = None
        if not self.compact:
            rows.append(f'<FONT POINT-SIZE="9" COLOR="{style.MUTED}">{html(_activation(n))}</FONT>')
        if n.b is not None:
            bname = self.param_name.get(id(n.b), "b")
            if not self.compact and self.show_data:
                rows.append(self._small(f"{bname} = {style.short(n.b.data)}"))
            tip.append(f"{bname} = {n.b.data!r}")
            g = self.param_grads.get(id(n.b))
            if g is not None and self.show_grad:
                if not self.compact:
                    bias_grad_row = self._small(f"∂L/∂{bname} = {style.short(g)}")
                tip.append(f"dL/d{bname} = {g!r}")
        if u.z is not None:
            if self.show_data and not self.compact:
                rows.append(self._small(f"{u.sum_name} = {style.short(u.z.data)}"))
                rows.append(self._small(f"{u.name} = {style.short(u.out.data)}"))
            tip += [f"{u.sum_name} = {u.z.data!r}", f"{u.name} = {u.out.data!r}"]
        if bias_grad_row:
            rows.append(bias_grad_row)
        if u.grads and self.show_grad:
            if not self.compact:
                rows.append(self._small(f"∂L/∂{u.name} = {style.short(u.grads['out'])}"))
                delta = style.short(u.grads["z"])
                rows.append(f"<B>{self._small(f'δ = {delta}')}</B>")
            tip += [
                f"dL/d{u.name} = {u.grads['out']!r}",
                f"δ = dL/d{u.sum_name} = {u.grads['z']!r}",
            ]
            if self.view == "gradient" or self.view == "both":
                fill = style.grad_fill(u.grads["z"], self.scale)
        return self._circle(rows, fill, border, width) | {"tooltip": dot_string("\n".join(tip))}

    def loss_node(self) -> dict:
        fill, border, width, _, _ = style.KINDS[style.OUTPUT]
        rows = [f"<B>{notation.LOSS}</B>"]
        if self.show_data:
            rows.append(self._small(style.short(self.loss_value.data)))
        target = self.y if isinstance(self.y, numbers.Real) else list(self.y)
        rows.append(f'<FONT POINT-SIZE="9" COLOR="{style.MUTED}">{html(f"y = {target}")}</FONT>')
        tip = f"L = {self.loss_value.data!r}\ntarget y = {target}"
        return self._circle(rows, fill, border, width) | {"tooltip": dot_string(tip)}

    # ---- edges ------------------------------------------------------------------------------

    def weight_edge(self, w: Value) -> tuple[dict, str | None]:
        """The edge's attributes and its label (HTML; None without labels)."""
        name = self.param_name.get(id(w), w.label)
        g = self.param_grads.get(id(w))
        tip = [f"{name} = {w.data!r}"]
        if g is not None:
            tip.append(f"dL/d{name} = {g!r}")
        attrs = {"tooltip": dot_string("\n".join(tip)), "labeltooltip": dot_string("\n".join(tip))}
        text = []
        if self.show_data:
            text.append(f"{name} = {style.short(w.data)}")
        elif self.labels:
            text.append(name)
        if self.show_grad and g is not None:
            text.append(f"∂L/∂w = {style.short(g)}")
            colour, penwidth = _stroke(g, self.scale)
        elif self.show_data:
            colour, penwidth = _stroke(w.data, self.weight_scale)
        else:
            colour, penwidth = style.EDGE_COLOUR, EDGE_WIDTH[0]
        if self.compact:  # thin, and no arrowheads to pile up at each unit
            penwidth = min(penwidth, 1.2)
            attrs["arrowhead"] = "none"
        attrs.update(color=colour, penwidth=f"{penwidth:.2f}")
        label = None
        if self.labels and text:
            label = "<BR/>".join(html(t) for t in text)
        return attrs, label

    # ---- the whole picture ------------------------------------------------------------------

    def build(self, title: str | None, legend: bool) -> Drawing:
        g = Drawing(
            name="network",
            format="svg",
            graph_attr={
                "rankdir": "LR",
                "fontname": style.FONT,
                "bgcolor": "white",
                "nodesep": "0.08" if self.compact else "0.2",
                "ranksep": "1.6" if self.compact else "0.5",
                "splines": "line",
                "newrank": "true",
                "ordering": "out",
            },
            node_attr={"fontname": style.FONT, "fontsize": "11", "fontcolor": style.TEXT_COLOUR},
            edge_attr={"arrowsize": "0.5", "fontname": style.FONT},
        )
        if title or legend:  # above the picture, where no edge runs
            g.attr(label=self.heading(title, legend), labelloc="t", labeljust="l")
        nin = len(self.units[0][0].neuron.w)
        columns = [[(f"x{i}", self.input_node(i)) for i in range(nin)]]
        for k, row in enumerate(self.units):
            last = k == len(self.units) - 1
            columns.append([(f"u{k}_{j}", self.unit_node(u, last)) for j, u in enumerate(row)])
        if self.loss_value is not None:
            columns.append([("loss", self.loss_node())])
        for c, column in enumerate(columns):
            with g.subgraph(name=f"col{c}") as sub:
                sub.attr(rank="same")
                for node_id, attrs in column:
                    sub.node(node_id, **attrs)
                # invisible edges down each column keep its units in index order
                for (a, _), (b, _) in zip(column, column[1:], strict=False):
                    sub.edge(a, b, style="invis")
        previous = [node_id for node_id, _ in columns[0]]
        for k, row in enumerate(self.units):
            boxes = []
            for j, u in enumerate(row):
                head = f"u{k}_{j}"
                for i, w in enumerate(u.neuron.w):
                    attrs, label = self.weight_edge(w)
                    if label is None:
                        g.edge(previous[i], head, **attrs)
                        continue
                    # the label is a box on the edge, in a column of its own between the two
                    # layers: where the edges cross (every input feeds every unit), a label
                    # beside an edge could belong to either of two
                    box = f"w{k}_{j}_{i}"
                    boxes.append(box)
                    g.node(box, **self._label_box(label, attrs))
                    g.edge(previous[i], box, **(attrs | {"arrowhead": "none"}))
                    g.edge(box, head, **attrs)
            if boxes:
                with g.subgraph(name=f"weights{k}") as sub:
                    sub.attr(rank="same")
                    for a, b in zip(boxes, boxes[1:], strict=False):
                        sub.edge(a, b, style="invis")
            previous = [f"u{k}_{j}" for j in range(len(row))]
        if self.loss_value is not None:
            for node_id in previous:
                g.edge(
                    node_id,
                    "loss",
                    color=style.EDGE_COLOUR,
                    penwidth="1",
                    minlen="1" if self.compact else "2",
                )
        return g

    def _label_box(self, label: str, edge: dict) -> dict:
        return {
            "label": f'<<FONT POINT-SIZE="10">{label}</FONT>>',
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": "white",
            "color": edge["color"],
            "penwidth": "0.8",
            "margin": "0.05,0.02",
            "width": "0",
            "height": "0",
            "tooltip": edge["tooltip"],
        }

    def heading(self, title: str | None, legend: bool) -> str:
        """The graph's label: the title (if any) over the legend (if wanted), as HTML."""
        rows = (
            f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="16"><B>{html(title)}</B></FONT></TD></TR>'
            if title
            else ""
        )
        if legend:
            rows += f'<TR><TD ALIGN="LEFT">{self.legend_table()}</TD></TR>'
        return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">{rows}</TABLE>>'

    def legend_table(self) -> str:
        lines = ["edge: weight" + (" (blue +, red −, wider: larger)" if not self.labels else "")]
        if self.show_grad:
            lines = ["edge: ∂L/∂w (blue +, red −, wider: larger)"]
            if self.deltas:
                lines.append("unit fill: δ = ∂L/∂z (blue +, red −, darker: larger)")
        elif self.loss_value is None and self.view != "forward":
            lines.append("gradients: not computed (give y, or call backward())")
        if self.xs is not None and self.show_data and not self.compact:
            has_bias = any(u.neuron.b is not None for row in self.units for u in row)
            lines.append(f"unit: z = weighted sum{' + bias' if has_bias else ''}, then its output")
        if self.compact and not self.labels:
            lines.append("hover an edge or unit for its numbers")
        rows = "".join(f'<TR><TD ALIGN="LEFT">{html(t)}</TD></TR>' for t in lines)
        return (
            f'<FONT POINT-SIZE="10"><TABLE BORDER="1" CELLBORDER="0" CELLSPACING="1"'
            f' CELLPADDING="2" COLOR="{style.CLUSTER_BORDER}" BGCOLOR="#ffffff">'
            f"{rows}</TABLE></FONT>"
        )


def _activation(neuron) -> str:
    return getattr(neuron, "activation", None) or "custom"


def _stroke(value: float, scale: float) -> tuple[str, float]:
    """An edge's colour (hue by sign, strength by |value| / scale) and width."""
    if not math.isfinite(value) or scale == 0 or value == 0:
        return style.EDGE_COLOUR, EDGE_WIDTH[0]
    t = min(abs(value) / scale, 1.0)
    colour = style.grad_line(value, scale)
    lo, hi = EDGE_WIDTH
    return colour, lo + (hi - lo) * math.sqrt(t)
