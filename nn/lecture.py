"""The backpropagation lecture's worked example, recomputed: ``chainrule lecture``.

The slide's network has inputs x = [2, 3], target y = 1, weights W1 (W1[i][j] from input i to
hidden unit j) and W2, linear activations and no bias.  Its forward pass gives h = [0.99, 0.95],
y_hat = 2.162 and L = 1/2 (y_hat - y)^2 = 0.675122.  The slide then derives every gradient by
hand with the chain rule:

    dL/dW2[j]    = (y_hat - y) h_j                       h_j = sum_i x_i W1[i][j]
    dL/dW1[i][j] = (y_hat - y) W2[j] f'(z_j) x_i         (f' = 1 for a linear unit)
    dL/db2       = (y_hat - y)
    dL/db1[j]    = (y_hat - y) W2[j] f'(z_j)

Here those formulas are evaluated directly (``slide_gradients``), independently of the engine,
and shown beside what ``backward()`` computed and beside central finite differences.  Options:
``--bias`` (a bias at every layer), ``--activation`` (a hidden activation), ``--lr`` (one
gradient-descent step), ``--out`` (where the graphs go), ``--json`` (machine-readable output).
Without Graphviz the DOT files are still written and the SVG pictures skipped, with a note on
stderr; the exit statuses are in ``EPILOG``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograd import Value, no_grad

from .functional import mse
from .layers import MLP

HELP = "recompute, explain and draw the backpropagation lecture's worked example"

EPILOG = """graph files: forward.dot, gradient.dot and, if Graphviz's `dot` is installed,
forward.svg and gradient.svg in --out.  Without `dot` the pictures are skipped with a note
on stderr saying how to install it; the DOT files are written all the same.

exit status:
  0  every gradient agrees (even if the SVG pictures were skipped for lack of `dot`)
  1  some gradient disagrees, or `dot` was found but failed
  2  bad options, or the --out folder cannot be created or written"""

X = [2.0, 3.0]
Y = 1.0
W1 = [[-0.78, 0.13], [0.85, 0.23]]
W2 = [[1.8], [0.40]]
# The slide gives no bias values; these are ours, for the --bias variant.
B1 = [0.1, -0.2]
B2 = [0.05]

# The hidden activation f and its derivative f' as the lecture tabulates them: written out by
# hand here (not taken from the engine), since they are what the engine is checked against.
ACTIVATIONS = {
    "linear": (lambda z: z, lambda z: 1.0),
    "sigmoid": (lambda z: 1 / (1 + math.exp(-z)), lambda z: math.exp(-z) / (1 + math.exp(-z)) ** 2),
    "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2),
    "relu": (lambda z: max(z, 0.0), lambda z: 1.0 if z > 0 else 0.0),
}


@dataclass
class Example:
    """The worked example, computed: forward values and three sets of gradients."""

    activation: str
    bias: bool
    h: list[float]
    y_hat: float
    loss: float
    grad: dict[str, list] = field(default_factory=dict)  # from backward()
    formula_grad: dict[str, list] = field(default_factory=dict)  # the slide's formulas
    numeric_grad: dict[str, list] = field(default_factory=dict)  # central differences

    def match(self, tol: float = 1e-9, numeric_tol: float = 1e-6) -> bool:
        """Whether backward() agrees with the formulas (and with finite differences)."""
        return all(
            _close(self.grad[name], self.formula_grad[name], tol)
            and _close(self.grad[name], self.numeric_grad[name], numeric_tol)
            for name in self.grad
        )


def build_network(activation: str = "linear", bias: bool = False) -> MLP:
    """The slide's 2-2-1 network from its explicit weights."""
    return MLP.from_weights(
        [W1, W2],
        biases=[B1, B2] if bias else None,
        activation=activation,
        output_activation="linear",
    )


def loss_of(model: MLP) -> tuple[list[Value], Value, Value]:
    """Hidden outputs, y_hat and L = 1/2 (y_hat - y)^2 for the slide's sample."""
    x = [Value(xi, label=f"x{i}") for i, xi in enumerate(X)]
    h = model.layers[0](x)
    y_hat = model.layers[1](h)
    loss = mse(y_hat, Value(Y, label="y"), half=True)
    loss.label = "L"
    return h, y_hat, loss


def parameter_table(model: MLP) -> dict[str, list]:
    """The model's parameters shaped like the slide: W1[i][j], W2[j][0], b1[j], b2[0]."""
    hidden, output = model.layers
    table = {
        "W1": [[n.w[i] for n in hidden.neurons] for i in range(len(X))],
        "W2": [[n.w[j]] for n in output.neurons for j in range(len(hidden.neurons))],
    }
    if hidden.neurons[0].b is not None:
        table["b1"] = [n.b for n in hidden.neurons]
        table["b2"] = [n.b for n in output.neurons]
    return table


def slide_gradients(weights: dict[str, list], activation: str) -> dict[str, list]:
    """dL/dw for every weight, from the lecture's hand-derived formulas (no engine involved)."""
    f, df = ACTIVATIONS[activation]
    w1, w2 = weights["W1"], [row[0] for row in weights["W2"]]
    b1 = weights.get("b1", [0.0] * len(w2))
    b2 = weights.get("b2", [0.0])[0]
    z = [sum(X[i] * w1[i][j] for i in range(len(X))) + b1[j] for j in range(len(w2))]
    h = [f(zj) for zj in z]
    y_hat = sum(hj * w2j for hj, w2j in zip(h, w2, strict=True)) + b2
    error = y_hat - Y  # dL/dy_hat for L = 1/2 (y_hat - y)^2
    grads = {
        "W1": [[error * w2[j] * df(z[j]) * X[i] for j in range(len(w2))] for i in range(len(X))],
        "W2": [[error * h[j]] for j in range(len(w2))],
    }
    if "b1" in weights:
        grads["b1"] = [error * w2[j] * df(z[j]) for j in range(len(w2))]
        grads["b2"] = [error]
    return grads


def numeric_gradients(model: MLP, eps: float = 1e-6) -> dict[str, list]:
    """Central differences (L(w + eps) - L(w - eps)) / 2 eps, one weight at a time."""

    def loss_at(p: Value, x: float) -> float:
        saved, p.data = p.data, x
        with no_grad():
            value = loss_of(model)[2].data
        p.data = saved
        return value

    return _map(
        parameter_table(model),
        lambda p: (loss_at(p, p.data + eps) - loss_at(p, p.data - eps)) / (2 * eps),
    )


def compute(activation: str = "linear", bias: bool = False) -> tuple[Example, MLP]:
    """Run the worked example: forward, backward, the slide's formulas and finite differences."""
    model = build_network(activation, bias)
    h, y_hat, loss = loss_of(model)
    model.zero_grad()
    loss.backward()
    table = parameter_table(model)
    example = Example(
        activation=activation,
        bias=bias,
        h=[v.data for v in h],
        y_hat=y_hat.data,
        loss=loss.data,
        grad=_map(table, lambda p: p.grad),
        formula_grad=slide_gradients(_map(table, lambda p: p.data), activation),
        numeric_grad=numeric_gradients(model),
    )
    return example, model


def gradient_step(model: MLP, lr: float) -> float:
    """One step w <- w - lr dL/dw (gradients from the last backward); returns the new loss."""
    for p in model.parameters():
        p.data -= lr * p.grad
    with no_grad():
        return loss_of(model)[2].data


# ---- the command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``chainrule lecture``."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--bias", action="store_true", help="add a bias at every layer")
    parser.add_argument(
        "--activation", choices=sorted(ACTIVATIONS), default="linear", help="hidden activation"
    )
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate of the step shown")
    parser.add_argument(
        "--out", type=Path, default=Path("lecture-output"), help="folder for the graph files"
    )
    parser.add_argument("--no-draw", action="store_true", help="write no graph files")
    parser.add_argument("--json", action="store_true", help="print one JSON object, nothing else")


def run(args: argparse.Namespace) -> int:
    """Compute, draw, take a step and print (or emit JSON); exit status as in ``EPILOG``."""
    if not math.isfinite(args.lr) or args.lr <= 0:
        return _fail(f"--lr must be a positive number, got {args.lr}", 2)
    example, model = compute(args.activation, args.bias)
    _, _, loss = loss_of(model)  # a fresh graph to draw (compute's graph has its gradients)
    model.zero_grad()
    loss.backward()
    files, render_failed = [], False
    if not args.no_draw:
        try:
            files, render_failed = _draw(loss, args.out)
        except OSError as exc:  # the message names the folder or file, and why
            return _fail(str(exc), 2)
    new_loss = gradient_step(model, args.lr)
    if args.json:
        print(json.dumps(_as_json(example, args.lr, new_loss, files)))
    else:
        print(_report(example, args.lr, new_loss, files))
    return 0 if example.match() and not render_failed else 1


def _draw(loss: Value, out: Path) -> tuple[list[str], bool]:
    """Write the DOT files, then the SVGs if they render; the paths written, and whether
    rendering failed (a missing renderer is not a failure: the SVGs are skipped with a note)."""
    from autograd.viz import draw, render

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # (the files' own errors, from write_atomically, name the file)
        raise type(exc)(f"cannot write the graph files to {out}: {_reason(exc, out)}") from None
    drawings = {view: draw(loss, view=view) for view in ("forward", "gradient")}
    files = [render.write_graph(d, out / view, formats=("dot",))[0] for view, d in drawings.items()]
    try:
        for view, drawing in drawings.items():
            files += render.write_graph(drawing, out / view, formats=("svg",))
    except (render.RendererNotFoundError, render.RenderError) as exc:
        _note(f"SVG pictures skipped (DOT files written): {_one_line(str(exc))}")
        return [str(f) for f in files], isinstance(exc, render.RenderError)
    return [str(f) for f in files], False


def _one_line(message: str) -> str:
    """A multi-line message (like Graphviz's install hint) joined into one line."""
    first, *rest = [" ".join(line.split()) for line in message.splitlines() if line.strip()]
    return first + (" " + "; ".join(rest) if rest else "")


def _reason(exc: OSError, out: Path) -> str:
    if out.exists() and not out.is_dir():
        return "it is not a directory"
    return exc.strerror or str(exc)


def _note(message: str) -> None:
    print(f"chainrule lecture: {message}", file=sys.stderr)


def _fail(message: str, status: int) -> int:
    _note(message)
    return status


def _as_json(example: Example, lr: float, new_loss: float, files: list[str]) -> dict:
    return {
        "x": [int(v) if v.is_integer() else v for v in X],
        "y": int(Y),
        "activation": example.activation,
        "bias": example.bias,
        "h": example.h,
        "y_hat": example.y_hat,
        "loss": example.loss,
        "grad": example.grad,
        "formula_grad": example.formula_grad,
        "numeric_grad": example.numeric_grad,
        "match": example.match(),
        "step": {"lr": lr, "loss": new_loss},
        "files": files,
    }


FORMULAS = {
    "W1": "(y_hat - y) W2[{j}] f'(z_{j}) x_{i}",
    "W2": "(y_hat - y) h_{i}",
    "b1": "(y_hat - y) W2[{i}] f'(z_{i})",
    "b2": "(y_hat - y)",
}


def _report(example: Example, lr: float, new_loss: float, files: list[str]) -> str:
    act = example.activation
    mark = {True: "✓", False: "✗ DISAGREE"}
    lines = [
        "The backpropagation lecture's worked example, recomputed by chainrule",
        "",
        f"Network: 2 inputs -> 2 hidden units ({act}) -> 1 output (linear), "
        + ("a bias at every layer" if example.bias else "no bias"),
        f"  x = {_fmt_list(X)}    y = {Y:g}",
        f"  W1 = {W1}    (W1[i][j]: from input i to hidden unit j)",
        f"  W2 = {W2}",
    ]
    if example.bias:
        lines.append(f"  b1 = {B1}    b2 = {B2}")
    z_text = "z_j = sum_i x_i W1[i][j]" + (" + b1[j]" if example.bias else "")
    lines += [
        "",
        "Forward pass",
        f"  {z_text},  h_j = {'z_j' if act == 'linear' else act + '(z_j)'}"
        f"    h = {_fmt_list(example.h)}",
        f"  y_hat = sum_j h_j W2[j]{' + b2' if example.bias else ''}"
        f"    y_hat = {example.y_hat:.6g}",
        f"  L = 1/2 (y_hat - y)^2    L = {example.loss:.6f}",
        "",
        "Backward pass: each gradient from backward(), from the slide's formula, and numerically",
        f"  {'weight':<9}{'backward()':>13}  {'slide formula':<30}{'= value':>11}"
        f"{'numeric':>13}  agree",
    ]
    for name, grads in example.grad.items():
        for index, value in _flat(grads):
            i, j = (index + [0])[:2]
            formula = FORMULAS[name].format(i=i, j=j)
            if act == "linear":  # f' = 1: the slide's own form
                formula = formula.replace(f" f'(z_{j if name == 'W1' else i})", "")
            expected = _get(example.formula_grad[name], index)
            numeric = _get(example.numeric_grad[name], index)
            ok = abs(value - expected) <= 1e-9 and abs(value - numeric) <= 1e-6
            label = name + "".join(f"[{k}]" for k in index)
            lines.append(
                f"  {label:<9}{value:>13.6f}  {formula:<30}{expected:>11.6f}{numeric:>13.6f}"
                f"  {mark[ok]}"
            )
    lines += [
        "",
        f"One gradient-descent step, w <- w - {lr:g} dL/dw:  L {example.loss:.6f} -> {new_loss:.6f}",
    ]
    if new_loss > example.loss:
        lines.append(
            "  The loss went up: this step overshot the minimum (try a smaller --lr, e.g. 0.01)."
        )
    if files:
        lines += ["", "Graphs written:"] + [f"  {f}" for f in files]
    lines.append("")
    lines.append(
        "All gradients agree." if example.match() else "Some gradients DISAGREE: see the table."
    )
    return "\n".join(lines)


# ---- small helpers on nested lists ---------------------------------------------------------


def _map(table: dict[str, list], fn) -> dict[str, list]:
    def walk(x):
        return [walk(v) for v in x] if isinstance(x, list) else fn(x)

    return {name: walk(rows) for name, rows in table.items()}


def _flat(rows: list, prefix: list[int] | None = None):
    prefix = prefix or []
    for k, v in enumerate(rows):
        if isinstance(v, list):
            yield from _flat(v, prefix + [k])
        else:
            yield prefix + [k], v


def _get(rows: list, index: list[int]) -> float:
    for k in index:
        rows = rows[k]
    return rows


def _close(a, b, tol: float) -> bool:
    return all(abs(x - _get(b, index)) <= tol for index, x in _flat(a))


def _fmt_list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"
