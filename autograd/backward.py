"""The backward pass: topological order, then the chain rule, written once.

``backpropagate`` visits the graph in reverse topological order and, for every node, asks its
primitive's rule for the local vector-Jacobian product and adds it to each parent's gradient:

    dL/dparent += rule(dL/dnode, node, *parents)

It collects this pass's gradients in a dict, so ``Value.backward`` can add them to ``.grad``
only once the pass has succeeded (nothing is half-changed if it raises) and ``grad()`` can
return them without touching ``.grad`` at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .mode import enable_grad, state
from .value import Constant, Value, describe_call


def topological_order(roots: Iterable[Value]) -> list[Value]:
    """Every Value the roots depend on, each listed after all of its parents.

    Depth-first with an explicit stack of (node, iterator over its parents), so the depth of
    the graph is limited by memory, not by Python's recursion limit.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent not in visited:
                    visited.add(parent)
                    if parent.parents:
                        stack.append((parent, iter(parent.parents)))
                        break
                    order.append(parent)  # a leaf is finished as soon as it is seen
            else:
                stack.pop()
                order.append(node)
    return order


def backpropagate(roots: Sequence[Value], seeds: Sequence, create_graph: bool = False) -> dict:
    """d(sum of seed * root)/d(node) for every node the roots depend on, as {node: gradient}.

    With create_graph the rules run on Values (recorded, so differentiable again); otherwise
    on floats.  Constants always reach the rules as plain numbers.
    """
    grads: dict[Value, object] = {}
    for root, seed in zip(roots, seeds):
        grads[root] = grads[root] + seed if root in grads else seed
    order = topological_order(roots)
    with enable_grad() if create_graph else _nothing():
        for node in reversed(order):
            prim = node._prim
            if prim is None:
                continue
            g = grads[node]  # complete: every node that uses `node` came earlier in this loop
            parents = node.parents
            if create_graph:
                out, inputs = node, [p.data if type(p) is Constant else p for p in parents]
            else:
                out, inputs = node.data, [p.data for p in parents]
            try:
                local = prim.vjp(g, out, *inputs)
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise type(exc)(
                    f"backward through {describe_call(prim, parents)}: the derivative is "
                    f"undefined or infinite there ({exc})"
                ) from None
            for i, (parent, local_grad) in enumerate(zip(parents, local)):
                if state.anomaly:
                    _check_finite(local_grad, prim, parents, i)
                grads[parent] = grads[parent] + local_grad if parent in grads else local_grad
    return grads


class _nothing:
    """A do-nothing context manager (contextlib.nullcontext, minus the import-time cost)."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _check_finite(grad, prim, parents, index: int) -> None:
    number = grad.data if isinstance(grad, Value) else grad
    if not math.isfinite(number):
        raise FloatingPointError(
            f"detect_anomaly: backward through {describe_call(prim, parents)} produced a "
            f"gradient of {number} for operand {index}"
        )


def _seed(grad, create_graph: bool):
    if isinstance(grad, Value):
        return grad if create_graph else grad.data
    from .value import as_float

    number = as_float(grad)
    return Constant(number) if create_graph else number


def backward(root: Value, grad=1.0, create_graph: bool = False) -> None:
    """Add d(root)/d(node) * grad to the ``.grad`` of every node root depends on."""
    if not isinstance(root, Value):
        raise TypeError(f"backward() needs a Value, got {type(root).__name__}")
    grads = backpropagate([root], [_seed(grad, create_graph)], create_graph)
    for node, g in grads.items():
        old = node.grad
        # Start from the new gradient itself rather than 0.0 + g, which would add a node
        # to every gradient graph under create_graph.
        node.grad = g if (type(old) is float and old == 0.0) else old + g


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of outputs with respect to inputs, returned as a tuple; no ``.grad`` is touched.

    Like ``torch.autograd.grad``: ``grad_outputs`` weights each output (default 1.0); an input
    the outputs do not depend on raises unless ``allow_unused=True``, which gives None for it.
    """
    outputs = _as_value_list(outputs, "outputs")
    inputs = _as_value_list(inputs, "inputs")
    if grad_outputs is None:
        grad_outputs = [1.0] * len(outputs)
    elif isinstance(grad_outputs, (Value, int, float)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs has {len(grad_outputs)} entries for {len(outputs)} outputs")
    seeds = [_seed(g, create_graph) for g in grad_outputs]
    grads = backpropagate(outputs, seeds, create_graph)
    result = []
    for i, x in enumerate(inputs):
        if x in grads:
            result.append(grads[x])
        elif allow_unused:
            result.append(None)
        else:
            name = f" ({x.label!r})" if x.label else ""
            raise ValueError(
                f"input {i}{name} is not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return tuple(result)


def _as_value_list(xs, what: str) -> list[Value]:
    items = [xs] if isinstance(xs, Value) else list(xs)
    for i, x in enumerate(items):
        if not isinstance(x, Value):
            raise TypeError(f"{what}[{i}] must be a Value, got {type(x).__name__}")
    if not items:
        raise ValueError(f"{what} is empty")
    return items
