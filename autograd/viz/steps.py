"""Step-through backward: the backward pass one node at a time, for clicking through backprop.

``backward_steps(root)`` yields a ``Step`` per node, in the order the backward pass completes
them (reverse topological order, the root first): the node, its gradient and the chain-rule
terms it was summed from, one per use (upstream grad x local derivative).  The numbers are the
engine's, bit for bit; no ``.grad`` is touched.  ``render_steps`` writes one picture per step,
with the gradients known so far and the current node and its terms' edges highlighted.
Constants are skipped: nothing is trained through them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..backward import topological_order
from ..value import Constant, Value
from . import chain
from .chain import Term


@dataclass(frozen=True)
class Step:
    """One node's gradient, just completed: ``grad = sum(t.product for t in terms)``."""

    index: int  # 0 for the root
    node: Value
    grad: float
    terms: tuple[Term, ...]  # empty for the root (its gradient is the seed)

    def explain(self) -> str:
        """One line: ``x (data 2.0): grad = 1 × -3 + 0.5 × 4 = -1.0``.

        A number whose repr is long (0.4999999999999998) is shown rounded to 6 significant
        digits after ``≈`` instead of ``=``; ``step.grad`` keeps the exact value.
        """
        name = self.node.label or (f"{self.node.op} result" if self.node.op else "leaf")
        data = _readable(self.node.data).removeprefix("= ")
        head = f"{name} (data {data}): grad "
        if not self.terms:
            return head + f"{_readable(self.grad)} (the seed)"
        return head + "= " + " + ".join(map(str, self.terms)) + f" {_readable(self.grad)}"


def _readable(x) -> str:
    """``= 7.0`` when the repr is short, else ``≈ 0.5`` (rounded to 6 significant digits)."""
    x = float(x)
    text = repr(x)
    return f"= {text}" if len(text) <= 10 else f"≈ {x:.6g}"


def backward_steps(root: Value, seed: float = 1.0) -> Iterator[Step]:
    """Yield a Step per node as the backward pass from root completes its gradient."""
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps() needs a Value, got {type(root).__name__}")
    order = topological_order(root)
    uses = chain.uses(order)
    grads: dict[Value, float] = {}
    index = 0
    for node in reversed(order):
        if node is root:
            terms: tuple[Term, ...] = ()
            grad = float(seed)
        else:
            terms = tuple(chain.terms(uses[node], grads))
            grad = None
            for t in terms:  # summed in backward's order, so the float is the engine's
                grad = t.product if grad is None else grad + t.product
            if grad is None:
                continue  # not reached from root (cannot happen in a connected graph)
        grads[node] = grad
        if isinstance(node, Constant):
            continue
        yield Step(index, node, grad, terms)
        index += 1


def render_steps(
    root: Value,
    directory: str | os.PathLike,
    fmt: str = "svg",
    view: str = "both",
    **draw_options,
) -> list[Path]:
    """Write ``step_000.<fmt>``, ``step_001.<fmt>``, ... (one per Step) into directory.

    Frame 0 is the forward graph with no gradient computed; frame k shows the gradients after
    step k-1 with that step's node and edges highlighted.  Returns the paths written.
    """
    from .dot import draw
    from .render import write_graph
    from .style import grad_scale

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    steps = list(backward_steps(root))
    # one colour scale for every frame, so a colour means the same number throughout
    draw_options.setdefault("grad_scale", grad_scale(s.grad for s in steps))
    width = max(3, len(str(len(steps))))
    grads: dict[Value, float] = {}
    written = []
    for k, step in enumerate([None, *steps]):
        if step is not None:
            grads[step.node] = step.grad
        title = "forward pass: no gradient yet" if step is None else step.explain()
        drawing = draw(
            root, view=view, grads=dict(grads), highlight=step, title=title, **draw_options
        )
        written += write_graph(drawing, directory / f"step_{k:0{width}d}", formats=(fmt,))
    return written
