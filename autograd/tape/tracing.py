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

from ..mode import enable_grad, state
from ..value import Constant, TracedValue, TracingError, Value, _slot_data
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


def _parents_first(roots: list[Value]) -> list[Value]:
    """``backward.topological_order`` (the same order, node for node), reading the operand
    slots ``_a``, ``_b`` instead of the ``parents`` property (a call and a tuple per visit):
    sorting the 16-64-64-10 cross-entropy's 17.7k nodes 6.4 -> 3.3 ms (medians; same order)."""
    order: list[Value] = []
    visited: set[Value] = set()
    add = visited.add
    for root in roots:
        if root in visited:
            continue
        add(root)
        stack = [root]
        while stack:
            node = stack[-1]
            a = node._a
            if a is not None:  # an op: its first operand, then its second, before itself
                if a not in visited:
                    add(a)
                    stack.append(a)
                    continue
                b = node._b
                if b is not None and b not in visited:
                    add(b)
                    stack.append(b)
                    continue
            order.append(stack.pop())
    return order


def _same_graph(order: list[Value], first: tuple, second: tuple) -> bool:
    """Whether two recordings are one graph: the same ops, wiring and constants, node for node.

    Walks the first recording's order from the outputs back, pairing each node with the node
    at the same place in the second (outputs with outputs, inputs with inputs, operands with
    operands); any mismatch or a node paired twice means they differ.  One pass over one
    graph, instead of sorting both recordings (twice each) and comparing signatures built
    from the ``op`` and ``parents`` properties: with the schedule reading the slots too, this
    took tracing the 16-64-64-10 cross-entropy from 144 to 74 ms, the demo's 7.0 to 4.4 ms.
    """
    (outputs, placeholders), (outputs2, placeholders2) = first, second
    if len(outputs) != len(outputs2):
        return False
    match: dict[Value, Value] = dict(zip(placeholders, placeholders2, strict=True))
    taken = set(placeholders2)

    def pair(a: Value, b: Value) -> bool:
        known = match.get(a)
        if known is not None:
            return known is b
        if b in taken:
            return False
        match[a] = b
        taken.add(b)
        return True

    if not all(pair(a, b) for a, b in zip(outputs, outputs2, strict=True)):
        return False
    # The walk below is pair() written out for each operand slot (no call per edge): on the
    # demo's model this check took 5.42M -> 2.91M instructions (callgrind), 0.82 -> 0.42 ms.
    get, add = match.get, taken.add
    for node in reversed(order):  # every node after its users: paired by them already
        other = get(node)
        if other is None:
            continue  # an input fn does not use
        if node._prim is not other._prim or type(node) is not type(other):
            return False
        a, b = node._a, other._a
        if a is None:  # a leaf
            if b is not None:
                return False
            # one made during the recording (a constant, or a Value fn makes itself, such as
            # Value(random.gauss(0, 1))) must hold the same number both times: the tape keeps
            # the first one.  NaN matches NaN (a NaN constant is refused by name before this).
            d, e = _slot_data(node), _slot_data(other)  # a placeholder's .data is guarded
            if node is not other and d != e and (d == d or e == e):
                return False
            continue
        known = get(a)
        if known is None:
            if b is None or b in taken:
                return False
            match[a] = b
            add(b)
        elif known is not b:
            return False
        a, b = node._b, other._b
        if a is None:
            if b is not None:
                return False
            continue
        known = get(a)
        if known is None:
            if b is None or b in taken:
                return False
            match[a] = b
            add(b)
        elif known is not b:
            return False
    return True


def _refuse_nan_constants(order: list[Value]) -> None:
    """A NaN constant makes every result it reaches NaN for every sample: surely a bug, and
    (NaN != NaN) the two recordings would look like different graphs, a misleading error."""
    for node in order:
        if type(node) is Constant and node.data != node.data:
            user = next(n for n in order if node in n.parents)
            raise TracingError(
                f"fn uses a NaN constant (an operand of {user.op}), which would make every "
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
    order = _parents_first(outputs + placeholders)
    _refuse_nan_constants(order)
    if not _same_graph(order, (outputs, placeholders), _record_graph(fn, first)):
        raise TracingError(
            "fn built two different graphs from the same inputs (randomness, or state kept "
            "between calls), so one trace cannot stand for every call; use the eager engine"
        )
    return Tape(outputs, placeholders, parameters, order=order)
