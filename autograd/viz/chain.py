"""The chain rule, spelled out for pictures: local derivatives per edge and terms per node.

A drawing and the step-through both need, for every edge parent -> node, the local derivative
d(node)/d(parent) (the primitive's rule run with upstream gradient 1 on the floats), and, for
every node, its uses: the (child, operand position) pairs its gradient is collected from.  A
node's gradient is the sum over its uses of  upstream grad x local derivative.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..value import Value
from .style import float_of, short


def local_derivatives(node: Value) -> tuple[float | None, ...]:
    """d(node)/d(parent) for each parent, in order (None where the rule raises: undefined there)."""
    prim = node.primitive
    if prim is None:
        return ()
    try:
        grads = prim.vjp(1.0, node.data, *(p.data for p in node.parents))
    except (ValueError, ZeroDivisionError, OverflowError):
        return (None,) * len(node.parents)
    return tuple(float_of(g) for g in grads)


def uses(order: list[Value]) -> dict[Value, list[tuple[Value, int]]]:
    """node -> its (child, position) uses, in the order backward adds them up.

    backward walks the nodes in reverse topological order and, inside a node, adds the second
    operand's gradient before the first's; listing uses that way makes the sums bit-identical.
    """
    found: dict[Value, list[tuple[Value, int]]] = {node: [] for node in order}
    for child in reversed(order):
        for position in reversed(range(len(child.parents))):
            parent = child.parents[position]
            if parent in found:
                found[parent].append((child, position))
    return found


@dataclass(frozen=True)
class Term:
    """One use of a node: upstream grad (of `child`) x local derivative d(child)/d(node)."""

    child: Value
    position: int  # which operand of child the node is
    upstream: float
    local: float | None  # None: undefined at this point
    product: float  # what backward adds to the node's gradient for this use

    def __str__(self) -> str:
        local = "undefined" if self.local is None else short(self.local)
        return f"{short(self.upstream)} \u00d7 {local}"


def terms(node_uses: list[tuple[Value, int]], grads) -> list[Term]:
    """The chain-rule terms of a node's gradient, from its uses (child, position); grads maps a
    child to its gradient (float)."""
    found = []
    for child, position in node_uses:
        upstream = grads.get(child)
        if upstream is None:
            continue
        upstream = float_of(upstream)
        local = local_derivatives(child)[position]
        found.append(Term(child, position, upstream, local, _product(child, position, upstream)))
    return found


def _product(child: Value, position: int, upstream: float) -> float:
    """The rule run with the real upstream gradient, exactly as backward runs it."""
    try:
        out = child.primitive.vjp(upstream, child.data, *(p.data for p in child.parents))
    except (ValueError, ZeroDivisionError, OverflowError):
        return float("nan")
    return float_of(out[position])
