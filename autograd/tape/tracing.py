"""``trace``: record the graph ``fn`` builds for one sample, refuse what a tape cannot replay.

While ``fn`` is recorded, every Value computed from the placeholder inputs is a
``TracedValue`` (``value.py``): its number is one example, not the batch, so code may not look
at it (``.data``, ``float(x)``, ``x > 0``, ``x == 1`` raise ``TracingError``), and a traced
Value cut from the graph (made under ``no_grad``) is refused.  ``fn`` is also recorded twice:
two different graphs (randomness, state kept between calls) are refused too.  What tracing
cannot see: a parameter's number copied into the graph (``x * w.data``) is frozen as a
constant, as in ``torch.jit.trace``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from ..backward import topological_order
from ..mode import enable_grad, state
from ..value import Constant, TracedValue, TracingError, Value
from .replay import Tape


def _record_graph(fn: Callable, values: Sequence[float]) -> tuple[list[Value], list[Value]]:
    placeholders = [TracedValue(v, label=f"x{i}") for i, v in enumerate(values)]
    previous = state.tracing
    state.tracing = True
    try:
        with enable_grad():
            result = fn(*placeholders)
    finally:
        state.tracing = previous
    outputs = list(result) if isinstance(result, (list, tuple)) else [result]
    for i, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise TracingError(
                f"fn must return a Value or a list of Values; output {i} is {type(out).__name__}"
            )
    return outputs, placeholders


def _signature(outputs: list[Value], placeholders: list[Value]) -> list[tuple]:
    """The graph's shape: ops and wiring by position, blind to the numbers flowing through."""
    order = topological_order(outputs)
    index = {n: i for i, n in enumerate(order)}
    placeholder_index = {p: i for i, p in enumerate(placeholders)}
    return [
        (
            n.op,
            tuple(index[p] for p in n.parents),
            placeholder_index.get(n, -1),
            n.data if type(n) is Constant else None,
        )
        for n in order
    ] + [tuple(index[o] for o in outputs)]


def _refuse_nan_constants(outputs: list[Value]) -> None:
    """A NaN constant makes every result it reaches NaN for every sample: surely a bug, and
    (NaN != NaN) the two recordings would look like different graphs, a misleading error."""
    for node in topological_order(outputs):
        for operand in node.parents:
            if type(operand) is Constant and operand.data != operand.data:
                raise TracingError(
                    f"fn uses a NaN constant (an operand of {node.op}), which would make every "
                    "result it reaches NaN for every sample; remove it (the eager engine "
                    "computes it as written)"
                )


def trace(
    fn: Callable[..., Value | Sequence[Value]],
    n_inputs: int,
    example: Sequence[float] | None = None,
    parameters: Sequence[Value] | None = None,
) -> Tape:
    """Record the graph ``fn(x_0, ..., x_{n-1})`` builds and compile it into a ``Tape``.

    ``fn`` takes ``n_inputs`` Values and returns a Value or a list of Values; the leaves it
    closes over (e.g. a model's parameters) become the tape's parameters.  ``example`` gives
    placeholder values (one sample, in the domain of every op); otherwise random values in
    [0.5, 1.5] are used.  ``parameters`` fixes the order of ``tape.parameters`` (the order
    of the arrays ``tape(X, params=...)`` and ``tape.gradients()`` take and give): these
    Values first, even one ``fn`` does not use, then any other leaf ``fn`` closes over.
    Raises ``TracingError`` if ``fn``'s graph depends on the data.
    """
    if not isinstance(n_inputs, int) or n_inputs < 0:
        raise ValueError(f"n_inputs must be a non-negative int, got {n_inputs!r}")
    rng = random.Random(0)
    first = (
        list(example) if example is not None else [rng.uniform(0.5, 1.5) for _ in range(n_inputs)]
    )
    if len(first) != n_inputs:
        raise ValueError(f"example has {len(first)} values for {n_inputs} inputs")
    outputs, placeholders = _record_graph(fn, first)
    _refuse_nan_constants(outputs)
    again = _record_graph(fn, first)
    if _signature(outputs, placeholders) != _signature(*again):
        raise TracingError(
            "fn built two different graphs from the same inputs (randomness, or state kept "
            "between calls), so one trace cannot stand for every call; use the eager engine"
        )
    return Tape(outputs, placeholders, parameters)
