"""Step-through backward: the backward pass one node at a time, for clicking through backprop.

``backward_steps(root)`` yields a ``Step`` per node, in the order the backward pass completes
them (reverse topological order, the root first): the node, its gradient and the chain-rule
terms it was summed from, one per use (upstream grad x local derivative).  The numbers are the
engine's, bit for bit; no ``.grad`` is touched.  ``render_steps`` writes one picture per step,
with the gradients known so far and the current node and its terms' edges highlighted,
within a budget of frames and time.  Constants are skipped: nothing is trained through them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..backward import topological_order
from ..files import make_folder, write_all_atomically
from ..value import Constant, Value
from . import chain
from .chain import Term

# render_steps' default budget.  Every frame renders the whole graph, so the cost is frames x
# one picture: a 199-term sum is 200 frames of about 12 s each (40 minutes); a neuron, 8 frames
# of 0.1 s.  Refusing early is kinder than an hour of `dot`.
MAX_FRAMES = 100
MAX_SECONDS = 120.0


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


class StepsBudgetError(ValueError):
    """render_steps would take more frames or time than its budget allows (nothing is written)."""

    def __init__(self, message: str, budget: str, limit: float, needed: float):
        super().__init__(message)
        self.budget = budget  # "frames" or "seconds"
        self.limit = limit
        self.needed = needed  # frames, or estimated seconds


def frame_count(root: Value) -> int:
    """How many frames render_steps writes for root: the forward one plus one per step."""
    return 1 + sum(1 for _ in backward_steps(root))


def render_steps(
    root: Value,
    directory: str | os.PathLike,
    fmt: str = "svg",
    view: str = "both",
    max_frames: int | None = MAX_FRAMES,
    max_seconds: float | None = MAX_SECONDS,
    **draw_options,
) -> list[Path]:
    """Write ``step_000.<fmt>``, ``step_001.<fmt>``, ... (one per Step) into directory.

    Frame 0 is the forward graph with no gradient computed; frame k shows the gradients after
    step k-1 with that step's node and edges highlighted.  Returns the paths written.

    Every frame renders the whole graph, so a large one asks for a lot: more than
    ``max_frames`` frames, or rendering that takes (or, judged from the first frame, would
    take) more than ``max_seconds``, raises ``StepsBudgetError`` (None: no limit).  Frames are
    rendered in memory first, so an error or Ctrl-C while rendering writes no frame.
    """
    from .dot import draw
    from .render import RenderTimeoutError, render
    from .style import grad_scale

    steps = list(backward_steps(root))
    frames = len(steps) + 1
    if max_frames is not None and frames > max_frames:
        raise StepsBudgetError(
            f"{frames} frames (one per backward step, plus the forward pass) is over the "
            f"budget of {max_frames} frames: draw a smaller graph, or raise max_frames",
            "frames",
            max_frames,
            frames,
        )
    # one colour scale for every frame, so a colour means the same number throughout
    draw_options.setdefault("grad_scale", grad_scale(s.grad for s in steps))
    width = max(3, len(str(len(steps))))
    grads: dict[Value, float] = {}
    pictures: list[tuple[str, bytes]] = []
    started = _clock()
    for k, step in enumerate([None, *steps]):
        if step is not None:
            grads[step.node] = step.grad
        title = "forward pass: no gradient yet" if step is None else step.explain()
        drawing = draw(
            root, view=view, grads=dict(grads), highlight=step, title=title, **draw_options
        )
        if fmt == "dot":
            picture = drawing.source.encode("utf-8")
        else:
            left = None if max_seconds is None else max(max_seconds - (_clock() - started), 0.001)
            try:
                picture = render(drawing.source, fmt, **({} if left is None else {"timeout": left}))
            except RenderTimeoutError:
                raise _over_time(max_seconds, frames, _clock() - started, k + 1) from None
        pictures.append((f"step_{k:0{width}d}.{fmt}", picture))
        spent = _clock() - started
        # the frames are alike (one graph, other colours): the first tells how long all take
        if max_seconds is not None and spent / (k + 1) * frames > max_seconds:
            raise _over_time(max_seconds, frames, spent, k + 1)
    directory = Path(directory)
    make_folder(directory, directory)
    # all frames or none: a Ctrl-C while writing never leaves frames of two graphs side by side
    return write_all_atomically([(directory / name, picture) for name, picture in pictures])


def _over_time(budget: float, frames: int, spent: float, done: int) -> StepsBudgetError:
    estimate = spent / done * frames
    return StepsBudgetError(
        f"rendering {frames} frames would take about {_duration(estimate)} "
        f"({spent / done:.1f} s per frame), over the budget of {budget:g} s: draw a smaller "
        "graph, or raise max_seconds",
        "seconds",
        budget,
        estimate,
    )


def _duration(seconds: float) -> str:
    """``45 s``, ``12 minutes``, ``1.5 hours``: an estimate, stated as roughly as it is known."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def _clock() -> float:
    return time.monotonic()
