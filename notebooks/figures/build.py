"""Draw the README's figures from the code: ``python notebooks/figures/build.py``.

Each figure is a function below returning a drawing; building writes ``<name>.dot`` and
``<name>.svg`` here.  ``tests/test_figures.py`` checks every committed ``.dot`` is what the code
draws today, so a change to the pictures shows up as a failing test until the figures are
rebuilt (the SVGs are rendered from those same DOT texts).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # the checkout's autograd and nn, not an installed copy

import autograd  # noqa: E402
import nn  # noqa: E402
from autograd import Value  # noqa: E402
from autograd.viz import render  # noqa: E402
from nn import lecture  # noqa: E402


def _lecture_loss() -> Value:
    model = lecture.build_network()
    _, _, loss = lecture.loss_of(model)
    loss.backward()
    return loss


def lecture_forward():
    """The worked example's forward graph (as ``chainrule lecture`` writes forward.svg)."""
    return autograd.draw(_lecture_loss(), view="forward")


def lecture_gradient():
    """Its gradient graph, each node's gradient as a chain-rule sum."""
    return autograd.draw(_lecture_loss(), view="gradient", chain_rule=True)


def lecture_network():
    """The worked example as the slide draws the network, with the gradients and deltas."""
    return nn.draw_network(lecture.build_network(), x=[2, 3], y=1, loss=lecture.half_mse)


def mlp_network():
    """An MLP(2, [16, 16, 1]) for one sample: thin edges, names only, numbers on hover."""
    return nn.draw_network(nn.MLP(2, [16, 16, 1], seed=1), x=[0.5, -1.0], y=1.0)


def neuron():
    """``chainrule draw "tanh(x*w + b)" x=2 w=-3 b=6.88 --edge-derivatives --chain-rule``."""
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    out = (x * w + b).tanh()
    out.label = "o"
    out.backward()
    return autograd.draw(out, view="both", edge_derivatives=True, chain_rule=True)


FIGURES = {
    "lecture-forward": lecture_forward,
    "lecture-gradient": lecture_gradient,
    "lecture-network": lecture_network,
    "mlp-network": mlp_network,
    "neuron": neuron,
}


def main() -> int:
    for name, make in FIGURES.items():
        for path in render.write_graph(make(), HERE / name, formats=("dot", "svg")):
            print(path.relative_to(HERE.parent.parent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
