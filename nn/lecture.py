"""The backpropagation lecture's worked example, recomputed: ``chainrule lecture``.

The slide's network has inputs x = [2, 3], target y = 1, weights W1 (W1[i][j] from input i to
hidden unit j) and W2, linear activations and no bias.  Its forward pass gives h = [0.99, 0.95],
ŷ = 2.162 and L = 1/2 (ŷ - y)^2 = 0.675122.  The slide then derives every gradient by hand with
the chain rule:

    dL/dW2[j]    = (ŷ - y) h_j                       h_j = f(z_j),  z_j = sum_i x_i W1[i][j]
    dL/dW1[i][j] = (ŷ - y) W2[j] f'(z_j) x_i         (f' = 1 for a linear unit)
    dL/db2       = (ŷ - y)
    dL/db1[j]    = (ŷ - y) W2[j] f'(z_j)

The names are the lecture's, counted from 1 as on the slide, and the same in the table, the
pictures and notebook 6, the worked example (``nn.notation``).

Here those formulas are evaluated directly (``slide_gradients``), independently of the engine,
and shown beside what ``backward()`` computed and beside central finite differences.  The
layer-wise form the lectures derive is computed too (``deltas``): delta = dL/dz per neuron,
delta_out = (y_hat - y) f2'(z2), delta_hidden[j] = f'(z_j) W2[j] delta_out, checked against the
engine's dL/dz.  Options: ``--x``, ``--y``, ``--w1``, ``--w2`` (the student's own numbers; any
number of inputs and hidden units, one output), ``--bias`` (a bias at every layer, optionally
with its values), ``--activation`` and ``--output-activation`` (f and f2), ``--lr`` (one
gradient-descent step), ``--out`` (where the graphs go), ``--json`` (machine-readable output).
Without Graphviz the DOT files are still written and the SVG pictures skipped, with a note on
stderr; the exit statuses are in ``EPILOG``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograd import Value, no_grad
from autograd import grad as autograd_grad
from autograd.flat import write

from .functional import mse
from .layers import MLP
from .notation import LOSS, Y_HAT, input_name

HELP = "recompute, explain and draw the backpropagation lecture's worked example"

EPILOG = """graph files: forward.dot, gradient.dot, network.dot (the slide's diagram) and, if
Graphviz's `dot` is installed, forward.svg, gradient.svg and network.svg in --out; with --html
also explore.html, a page to open in a browser.  Without `dot` the pictures are skipped with a
note on stderr saying how to install it; the DOT files are written all the same.

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
# The same numbers as the command line writes them (its defaults, shown in --help).
X_TEXT, Y_TEXT, W1_TEXT, W2_TEXT = "2,3", "1", "-0.78,0.13;0.85,0.23", "1.8,0.4"
BIAS_TEXT = "0.1,-0.2;0.05"

# The hidden activation f and its derivative f' as the lecture tabulates them: written out by
# hand here (not taken from the engine), since they are what the engine is checked against.
ACTIVATIONS = {
    "linear": (lambda z: z, lambda z: 1.0),
    "sigmoid": (lambda z: 1 / (1 + math.exp(-z)), lambda z: math.exp(-z) / (1 + math.exp(-z)) ** 2),
    "tanh": (math.tanh, lambda z: 1 - math.tanh(z) ** 2),
    "relu": (lambda z: max(z, 0.0), lambda z: 1.0 if z > 0 else 0.0),
}


@dataclass(frozen=True)
class Numbers:
    """One sample and a network with one hidden layer and one output: the slide's, or a variant.

    W1[i][j] is the weight from input i to hidden unit j, W2[j] from hidden unit j to the output;
    b1 (one per hidden unit) and b2 are None for a network without biases.
    """

    x: tuple[float, ...] = tuple(X)
    y: float = Y
    W1: tuple[tuple[float, ...], ...] = tuple(tuple(row) for row in W1)
    W2: tuple[float, ...] = tuple(row[0] for row in W2)
    b1: tuple[float, ...] | None = None
    b2: float | None = None

    def __post_init__(self) -> None:
        """Refuse numbers whose shapes do not fit together, naming both shapes."""
        shape = f"{len(self.W1)}x{len(self.W1[0]) if self.W1 else 0}"
        if not self.W1 or not self.W1[0]:
            raise ValueError("W1 is empty: give one row per input, one column per hidden unit")
        for i, row in enumerate(self.W1):
            if len(row) != len(self.W1[0]):
                raise ValueError(
                    f"W1's row {i} has {len(row)} numbers but row 0 has {len(self.W1[0])} "
                    "(rows are separated by ';', the numbers in a row by ',')"
                )
        if len(self.x) != len(self.W1):
            raise ValueError(
                f"x has {_count(len(self.x), 'value')} but W1 is {shape} (rows = inputs, "
                "columns = hidden units): give one row of W1 per input"
            )
        if len(self.W2) != len(self.W1[0]):
            raise ValueError(
                f"W2 has {_count(len(self.W2), 'weight')} but W1 is {shape} (rows = inputs, "
                "columns = hidden units): give one W2 weight per hidden unit"
            )
        if (self.b1 is None) != (self.b2 is None):
            raise ValueError("give both biases (b1 and b2) or neither")
        if self.b1 is not None and len(self.b1) != len(self.W2):
            raise ValueError(
                f"b1 has {_count(len(self.b1), 'value')} but W1 is {shape}: give one bias per "
                "hidden unit"
            )
        biases = (*(self.b1 or ()), *(() if self.b2 is None else (self.b2,)))
        for name, values in (
            ("x", self.x),
            ("y", (self.y,)),
            ("W1", sum(self.W1, ())),
            ("W2", self.W2),
            ("the biases", biases),
        ):
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"{name} must be finite numbers, got {list(values)}")

    @property
    def bias(self) -> bool:
        """Whether the network has a bias at every layer."""
        return self.b1 is not None


def slide_numbers(bias: bool = False) -> Numbers:
    """The slide's sample and weights; with bias, our biases (the slide gives none)."""
    return Numbers(b1=tuple(B1), b2=B2[0]) if bias else Numbers()


@dataclass
class Example:
    """The worked example, computed: forward values, three sets of gradients and the deltas."""

    activation: str
    bias: bool
    h: list[float]
    y_hat: float
    loss: float
    grad: dict[str, list] = field(default_factory=dict)  # from backward()
    formula_grad: dict[str, list] = field(default_factory=dict)  # the slide's formulas
    numeric_grad: dict[str, list] = field(default_factory=dict)  # central differences
    output_activation: str = "linear"
    numbers: Numbers = field(default_factory=Numbers)
    delta: dict[str, list] = field(default_factory=dict)  # dL/dz by the layer-wise recursion
    engine_delta: dict[str, list] = field(default_factory=dict)  # dL/dz from autograd.grad
    names: dict[str, list] = field(default_factory=dict)  # each weight's name, W1[1][2] ...

    def match(self, tol: float = 1e-9, numeric_tol: float = 1e-6) -> bool:
        """Whether backward() agrees with the formulas (and with finite differences), and the
        recursion's deltas with the engine's dL/dz."""
        return all(
            _close(self.grad[name], self.formula_grad[name], tol)
            and _close(self.grad[name], self.numeric_grad[name], numeric_tol)
            for name in self.grad
        ) and all(_close(self.delta[k], self.engine_delta[k], tol) for k in ("hidden", "output"))


def build_network(
    activation: str = "linear",
    bias: bool = False,
    output_activation: str = "linear",
    numbers: Numbers | None = None,
) -> MLP:
    """The network from its explicit weights: the slide's 2-2-1 unless numbers are given."""
    numbers = numbers or slide_numbers(bias)
    return MLP.from_weights(
        [[list(row) for row in numbers.W1], [[w] for w in numbers.W2]],
        biases=[list(numbers.b1), [numbers.b2]] if numbers.bias else None,
        activation=activation,
        output_activation=output_activation,
    )


def half_mse(prediction, target) -> Value:
    """The slide's loss, L = 1/2 (ŷ - y)^2."""
    return mse(prediction, target, half=True)


def loss_of(model: MLP, numbers: Numbers | None = None) -> tuple[list[Value], Value, Value]:
    """Hidden outputs, y_hat and L = 1/2 (y_hat - y)^2 for the sample (the slide's by default)."""
    numbers = numbers or Numbers()
    x = [Value(xi, label=input_name(i)) for i, xi in enumerate(numbers.x)]
    h = model.layers[0](x)
    y_hat = model.layers[1](h)
    loss = half_mse(y_hat, Value(numbers.y, label="y"))
    loss.label = LOSS
    return h, y_hat, loss


def _pre_activation(out: Value, activation: str) -> Value:
    """The z a neuron's output was computed from (the output itself for a linear unit)."""
    return out if activation == "linear" else out.parents[0]


def weight_names(model: MLP) -> dict[str, list]:
    """parameter_table's shape, holding each parameter's name in the lecture's notation."""
    names = {id(p): name for name, p in model.named_weights()}
    return _map(parameter_table(model), lambda p: names[id(p)])


def parameter_table(model: MLP) -> dict[str, list]:
    """The model's parameters shaped like the slide: W1[i][j], W2[j][0], b1[j], b2[0]."""
    hidden, output = model.layers
    table = {
        "W1": [[n.w[i] for n in hidden.neurons] for i in range(model.nin)],
        "W2": [[n.w[j]] for n in output.neurons for j in range(len(hidden.neurons))],
    }
    if hidden.neurons[0].b is not None:
        table["b1"] = [n.b for n in hidden.neurons]
        table["b2"] = [n.b for n in output.neurons]
    return table


def _forward(weights: dict[str, list], activation: str, output_activation: str, x, y):
    """z, h, z2, y_hat and dL/dy_hat on plain floats (the hand computation, no engine)."""
    f, _ = ACTIVATIONS[activation]
    f2, _ = ACTIVATIONS[output_activation]
    w1, w2 = weights["W1"], [row[0] for row in weights["W2"]]
    b1 = weights.get("b1", [0.0] * len(w2))
    b2 = weights.get("b2", [0.0])[0]
    z = [sum(x[i] * w1[i][j] for i in range(len(x))) + b1[j] for j in range(len(w2))]
    h = [f(zj) for zj in z]
    z2 = sum(hj * w2j for hj, w2j in zip(h, w2, strict=True)) + b2
    y_hat = f2(z2)
    return z, h, z2, y_hat, y_hat - y  # the last: dL/dy_hat for L = 1/2 (y_hat - y)^2


def slide_gradients(
    weights: dict[str, list],
    activation: str,
    output_activation: str = "linear",
    numbers: Numbers | None = None,
) -> dict[str, list]:
    """dL/dw for every weight, from the lecture's hand-derived formulas (no engine involved)."""
    numbers = numbers or Numbers()
    x = numbers.x
    z, h, z2, _, error = _forward(weights, activation, output_activation, x, numbers.y)
    df, df2 = ACTIVATIONS[activation][1], ACTIVATIONS[output_activation][1]
    w2 = [row[0] for row in weights["W2"]]
    out = error * df2(z2)  # (y_hat - y) f2'(z2); f2' = 1 for the slide's linear output
    grads = {
        "W1": [[out * w2[j] * df(z[j]) * x[i] for j in range(len(w2))] for i in range(len(x))],
        "W2": [[out * h[j]] for j in range(len(w2))],
    }
    if "b1" in weights:
        grads["b1"] = [out * w2[j] * df(z[j]) for j in range(len(w2))]
        grads["b2"] = [out]
    return grads


def deltas(
    weights: dict[str, list],
    activation: str,
    output_activation: str = "linear",
    numbers: Numbers | None = None,
) -> dict[str, list]:
    """delta = dL/dz for every neuron, by the layer-wise recursion the lectures derive.

    Output:  delta_out = dL/dy_hat * f2'(z2) = (y_hat - y) f2'(z2).
    Hidden:  delta_j = f'(z_j) * sum_k W2[j][k] delta_k  (here one output k).
    Every gradient follows from them: dL/dW[i][j] = a_i delta_j and dL/db_j = delta_j.
    """
    numbers = numbers or Numbers()
    z, _, z2, _, error = _forward(weights, activation, output_activation, numbers.x, numbers.y)
    df, df2 = ACTIVATIONS[activation][1], ACTIVATIONS[output_activation][1]
    out = error * df2(z2)
    w2 = [row[0] for row in weights["W2"]]
    return {"hidden": [df(zj) * w2[j] * out for j, zj in enumerate(z)], "output": [out]}


def numeric_gradients(
    model: MLP, eps: float = 1e-6, numbers: Numbers | None = None
) -> dict[str, list]:
    """Central differences (L(w + eps) - L(w - eps)) / 2 eps, one weight at a time.

    The weights moved are a copy's: the model itself is only read, so an error or Ctrl-C
    midway leaves it as it was."""
    probe = copy.deepcopy(model)

    def loss_at(p: Value, x: float) -> float:
        saved, p.data = p.data, x
        with no_grad():
            loss = loss_of(probe, numbers)[2].data
        p.data = saved
        return loss

    return _map(
        parameter_table(probe),
        lambda p: (loss_at(p, p.data + eps) - loss_at(p, p.data - eps)) / (2 * eps),
    )


def compute(
    activation: str = "linear",
    bias: bool = False,
    output_activation: str = "linear",
    numbers: Numbers | None = None,
) -> tuple[Example, MLP]:
    """Run the worked example (the slide's numbers unless numbers are given): forward, backward,
    the slide's formulas, finite differences, and the deltas beside the engine's dL/dz."""
    for name in (activation, output_activation):
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
    numbers = numbers or slide_numbers(bias)
    model = build_network(activation, numbers.bias, output_activation, numbers)
    h, y_hat, loss = loss_of(model, numbers)
    model.zero_grad()
    loss.backward()
    z = [_pre_activation(hj, activation) for hj in h]
    z2 = _pre_activation(y_hat, output_activation)
    dz = autograd_grad(loss, z + [z2])
    table = parameter_table(model)
    weights = _map(table, lambda p: p.data)
    example = Example(
        activation=activation,
        bias=numbers.bias,
        h=[v.data for v in h],
        y_hat=y_hat.data,
        loss=loss.data,
        grad=_map(table, lambda p: p.grad),
        formula_grad=slide_gradients(weights, activation, output_activation, numbers),
        numeric_grad=numeric_gradients(model, numbers=numbers),
        output_activation=output_activation,
        numbers=numbers,
        delta=deltas(weights, activation, output_activation, numbers),
        engine_delta={"hidden": list(dz[:-1]), "output": [dz[-1]]},
        names=weight_names(model),
    )
    return example, model


def gradient_step(model: MLP, lr: float, numbers: Numbers | None = None) -> float:
    """One step w <- w - lr dL/dw (gradients from the last backward); returns the new loss."""
    params = model.parameters()
    write(params, data=[p.data - lr * p.grad for p in params])  # all weights move, or none
    with no_grad():
        return loss_of(model, numbers)[2].data


# ---- the command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``chainrule lecture``."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    numbers = parser.add_argument_group("the network's numbers (the slide's by default)")
    numbers.add_argument("--x", default=X_TEXT, help="the input, e.g. 2,3 (default: %(default)s)")
    numbers.add_argument("--y", default=Y_TEXT, help="the target (default: %(default)s)")
    numbers.add_argument(
        "--w1",
        default=W1_TEXT,
        help="W1: rows separated by ';', row i = input i, column j = hidden unit j "
        "(default: %(default)s)",
    )
    numbers.add_argument(
        "--w2", default=W2_TEXT, help="W2: one weight per hidden unit (default: %(default)s)"
    )
    numbers.add_argument(
        "--bias",
        nargs="?",
        const=BIAS_TEXT,
        metavar="B1;B2",
        help="add a bias at every layer: b1 (one per hidden unit) ';' b2; alone, the slide's "
        f"network gets {BIAS_TEXT}",
    )
    parser.add_argument(
        "--activation",
        choices=sorted(ACTIVATIONS),
        default="linear",
        help="hidden activation f (default: %(default)s)",
    )
    parser.add_argument(
        "--output-activation",
        choices=sorted(ACTIVATIONS),
        default="linear",
        help="output activation f2 (default: %(default)s)",
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=0.1,
        help="learning rate of the step shown (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("lecture-output"),
        help="folder for the graph files (default: %(default)s)",
    )
    parser.add_argument("--no-draw", action="store_true", help="write no graph files")
    parser.add_argument(
        "--html",
        action="store_true",
        help="also write explore.html: a page to step through the forward and backward pass",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object, nothing else")


def run(args: argparse.Namespace) -> int:
    """Compute, draw, take a step and print (or emit JSON); exit status as in ``EPILOG``."""
    if not math.isfinite(args.lr) or args.lr <= 0:
        return _fail(f"--lr must be a positive number, got {args.lr}", 2)
    if args.html and args.no_draw:
        return _fail("--html and --no-draw contradict each other: explore.html is a graph file", 2)
    try:
        numbers = numbers_from_text(args.x, args.y, args.w1, args.w2, args.bias)
    except ValueError as exc:
        return _fail(str(exc), 2)
    example, model = compute(args.activation, numbers.bias, args.output_activation, numbers)
    _, _, loss = loss_of(model, numbers)  # a fresh graph to draw (compute's has its gradients)
    model.zero_grad()
    loss.backward()
    files, render_failed = [], False
    if not args.no_draw:
        try:
            files, render_failed = _draw(loss, model, numbers, args.out)
            if args.html and not render_failed:
                files, render_failed = _explore(loss, model, numbers, args.out, files)
        except OSError as exc:  # the message names the folder or file, and why
            return _fail(str(exc), 2)
    new_loss = gradient_step(model, args.lr, numbers)
    if args.json:
        print(json.dumps(_as_json(example, args.lr, new_loss, files)))
    else:
        print(_report(example, args.lr, new_loss, files))
    return 0 if example.match() and not render_failed else 1


def numbers_from_text(x: str, y: str, w1: str, w2: str, bias: str | None = None) -> Numbers:
    """The command line's numbers (``--x 2,3 --w1="-0.78,0.13;0.85,0.23"``...) as Numbers; a
    ValueError in one line naming the option and what it expected."""
    w1_rows = [_numbers(row, "--w1") for row in w1.split(";")]
    if any(len(row) != len(w1_rows[0]) for row in w1_rows):
        sizes = ", ".join(str(len(row)) for row in w1_rows)
        raise ValueError(
            f"--w1's rows have different lengths ({sizes}): rows are separated by ';', "
            "numbers in a row by ','"
        )
    w2_rows = [_numbers(row, "--w2") for row in w2.split(";")]
    if len(w2_rows) > 1:  # written as a column, W2 = [1.8; 0.4], as the slide does
        if any(len(row) != 1 for row in w2_rows):
            raise ValueError(
                f"--w2 is {len(w2_rows)}x{max(map(len, w2_rows))} but the network has one "
                "output: give one weight per hidden unit, e.g. 1.8,0.4"
            )
        w2_rows = [[row[0] for row in w2_rows]]
    (y_value,) = _numbers(y, "--y", count=1)
    b1 = b2 = None
    if bias is not None:
        parts = bias.split(";")
        if len(parts) != 2:
            raise ValueError(
                f"--bias {bias!r} must be b1 ';' b2, e.g. {BIAS_TEXT} (b1: one per hidden unit)"
            )
        b1 = tuple(_numbers(parts[0], "--bias's b1"))
        (b2,) = _numbers(parts[1], "--bias's b2", count=1)
    return Numbers(  # its ValueError names both shapes when they do not fit together
        x=tuple(_numbers(x, "--x")),
        y=y_value,
        W1=tuple(tuple(row) for row in w1_rows),
        W2=tuple(w2_rows[0]),
        b1=b1,
        b2=b2,
    )


def _numbers(text: str, what: str, count: int | None = None) -> list[float]:
    """Comma-separated finite numbers; ValueError naming `what` otherwise."""
    values = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            raise ValueError(
                f"{what}: {item.strip()!r} is not a number (give numbers separated by ',')"
            ) from None
        if not math.isfinite(value):
            raise ValueError(f"{what}: {item.strip()!r} is not a finite number")
        values.append(value)
    if count is not None and len(values) != count:
        raise ValueError(f"{what} must be {count} number, got {len(values)}: {text!r}")
    return values


def _draw(loss: Value, model: MLP, numbers: Numbers, out: Path) -> tuple[list[str], bool]:
    """Write the DOT files, then the SVGs if they render; the paths written, and whether
    rendering failed (a missing renderer is not a failure: the SVGs are skipped with a note)."""
    from autograd.viz import draw, render

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # (the files' own errors, from write_atomically, name the file)
        raise type(exc)(f"cannot write the graph files to {out}: {_reason(exc, out)}") from None
    from .diagram import draw_network

    drawings = {view: draw(loss, view=view) for view in ("forward", "gradient")}
    # the network as the slide draws it: a weight on each edge; z, h and δ in each unit
    drawings["network"] = draw_network(model, x=numbers.x, y=numbers.y, loss=half_mse)
    files = [render.write_graph(d, out / view, formats=("dot",))[0] for view, d in drawings.items()]
    try:
        for view, drawing in drawings.items():
            files += render.write_graph(drawing, out / view, formats=("svg",))
    except (render.RendererNotFoundError, render.RenderError) as exc:
        _note(f"SVG pictures skipped (DOT files written): {_one_line(str(exc))}")
        return [str(f) for f in files], isinstance(exc, render.RenderError)
    return [str(f) for f in files], False


def _explore(
    loss: Value, model: MLP, numbers: Numbers, out: Path, files: list[str]
) -> tuple[list[str], bool]:
    """Write explore.html beside the pictures, with the network diagram under the graph
    (skipped with a note without Graphviz)."""
    from autograd.viz import explore, render

    from .diagram import draw_network

    path = out / "explore.html"
    network = draw_network(model, x=numbers.x, y=numbers.y, loss=half_mse)
    try:
        explore(loss, path, model=model, network=network, title="the lecture's worked example")
    except render.RendererNotFoundError:  # (the SVGs' note has just said how to get `dot`)
        _note("explore.html skipped: its graph is drawn by Graphviz's `dot` too")
        return files, False
    except render.RenderError as exc:
        _note(f"explore.html skipped: {_one_line(str(exc))}")
        return files, True
    return [*files, str(path)], False


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
    numbers = example.numbers
    return {
        "x": [_plain(v) for v in numbers.x],
        "y": _plain(numbers.y),
        "W1": [list(row) for row in numbers.W1],
        "W2": list(numbers.W2),
        "b1": None if numbers.b1 is None else list(numbers.b1),
        "b2": numbers.b2,
        "activation": example.activation,
        "output_activation": example.output_activation,
        "bias": example.bias,
        "h": example.h,
        "y_hat": example.y_hat,
        "loss": example.loss,
        "grad": example.grad,
        "formula_grad": example.formula_grad,
        "numeric_grad": example.numeric_grad,
        "delta": example.delta,
        "match": example.match(),
        "step": {"lr": lr, "loss": new_loss},
        "files": files,
    }


# the slide's formula per weight; {i} and {j} are counted from 1, as the names are
FORMULAS = {
    "W1": "(ŷ - y) W2[{j}] f'(z_{j}) x_{i}",
    "W2": "(ŷ - y) h_{i}",
    "b1": "(ŷ - y) W2[{i}] f'(z_{i})",
    "b2": "(ŷ - y)",
}


def _plain(v: float) -> float | int:
    """2.0 as 2 (the slide's x and y are whole numbers), anything else as it is."""
    return int(v) if float(v).is_integer() else v


def _report(example: Example, lr: float, new_loss: float, files: list[str]) -> str:
    act, out_act, numbers = example.activation, example.output_activation, example.numbers
    mark = {True: "✓", False: "✗ DISAGREE"}
    n_in, n_hidden = len(numbers.x), len(numbers.W2)
    lines = [
        "The backpropagation lecture's worked example, recomputed by chainrule",
        "",
        f"Network: {_count(n_in, 'input')} -> {_count(n_hidden, 'hidden unit')} ({act}) -> "
        f"1 output ({out_act}), " + ("a bias at every layer" if example.bias else "no bias"),
        f"  x = {_fmt_list(numbers.x)}    y = {numbers.y:g}",
        f"  W1 = {[list(row) for row in numbers.W1]}    (W1[i][j]: from input i to hidden unit j)",
        f"  W2 = {list(numbers.W2)}    (W2[j]: from hidden unit j to the output)",
        "  Indices count from 1, as on the slide: W1[1][2] is the first row's second entry.",
    ]
    if example.bias:
        lines.append(f"  b1 = {list(numbers.b1)}    b2 = {numbers.b2}")
    z_text = "z_j = sum_i x_i W1[i][j]" + (" + b1[j]" if example.bias else "")
    z2_text = "sum_j h_j W2[j]" + (" + b2" if example.bias else "")
    y_text = z2_text if out_act == "linear" else f"{out_act}(z2),  z2 = {z2_text}"
    lines += [
        "",
        "Forward pass",
        f"  {z_text},  h_j = {'z_j' if act == 'linear' else act + '(z_j)'}"
        f"    h = {_fmt_list(example.h)}",
        f"  {Y_HAT} = {y_text}    {Y_HAT} = {example.y_hat:.6g}",
        f"  {LOSS} = 1/2 ({Y_HAT} - y)^2    {LOSS} = {example.loss:.6f}",
        "",
        "Backward pass: each gradient from backward(), from the slide's formula, and numerically",
    ]
    rows = []
    for name, grads in example.grad.items():
        for index, value in _flat(grads):
            i, j = (k + 1 for k in (index + [0])[:2])  # counted from 1, as the names
            formula = FORMULAS[name].format(i=i, j=j)
            if act == "linear":  # f' = 1: the slide's own form
                formula = formula.replace(f" f'(z_{j if name == 'W1' else i})", "")
            if out_act != "linear":
                formula = formula.replace("(ŷ - y)", "(ŷ - y) f2'(z2)")
            expected = _get(example.formula_grad[name], index)
            numeric = _get(example.numeric_grad[name], index)
            rows.append((_get(example.names[name], index), value, formula, expected, numeric))
    width = max(30, *(len(formula) + 2 for _, _, formula, _, _ in rows))  # 30 fits the slide's
    lines.append(
        f"  {'weight':<9}{'backward()':>13}  {'slide formula':<{width}}{'= value':>11}"
        f"{'numeric':>13}  agree"
    )
    for label, value, formula, expected, numeric in rows:
        ok = abs(value - expected) <= 1e-9 and abs(value - numeric) <= 1e-6
        lines.append(
            f"  {label:<9}{value:>13.6f}  {formula:<{width}}{expected:>11.6f}{numeric:>13.6f}"
            f"  {mark[ok]}"
        )
    d_out = "(ŷ - y)" + ("" if out_act == "linear" else " f2'(z2)")
    d_hidden = "W2[j] delta_out" + ("" if act == "linear" else " f'(z_j)")
    lines += [
        "",
        "Deltas (delta = dL/dz), layer by layer: every gradient above is an activation times a "
        "delta",
        f"  output  delta_out = {d_out} = {example.delta['output'][0]:.6f}",
        f"  hidden  delta_j = {d_hidden}    delta = {_fmt_list(example.delta['hidden'])}",
    ]
    lines += [
        "",
        f"One gradient-descent step, w <- w - {lr:g} dL/dw:  "
        f"L {example.loss:.6f} -> {new_loss:.6f}",
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


def _count(n: int, noun: str) -> str:
    """'1 input', '2 inputs'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fmt_list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"
