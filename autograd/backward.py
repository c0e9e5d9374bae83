"""The backward pass: topological order, then the chain rule, written once.

``_order_clearing_grads`` lists the graph parents-first; ``_apply_chain_rule`` walks it backwards
and, for every node, asks its primitive's rule for the local vector-Jacobian product and adds
it to each parent's gradient:

    dL/dparent += rule(dL/dnode, node, *parents)

During a pass the nodes' ``.grad`` slots hold this pass's gradients (_UNSET = no contribution
yet); the gradients from before are saved and put back afterwards, added to the new ones by
``backward()`` (accumulation, as in micrograd and PyTorch) or untouched by ``grad()``.  If the
pass raises, every ``.grad`` is restored, so nothing is left half-changed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .mode import enable_grad, state
from .value import Constant, Value, as_float, describe_call

# What a node's .grad holds during a pass until its first contribution arrives.  A private
# object, not None, so a user's `p.grad = None` (PyTorch's way to zero) is not mistaken for it.
_UNSET = object()


class _Cleared:
    """What a pass's traversal cleared: every node (``order``) and the non-zero grads they held.

    Zeros are not saved (after ``zero_grad()`` that is every node): ``restore`` writes 0.0
    wherever nothing was saved.  A ``.grad`` of None counts as 0.
    """

    __slots__ = ("order", "nodes", "saved")

    def __init__(self) -> None:
        self.order: list[Value] = []  # parents first
        self.nodes: list[Value] = []  # the nodes whose old .grad was not 0 ...
        self.saved: list = []  # ... and those grads

    def restore(self) -> None:
        """Put every cleared ``.grad`` back as it was."""
        for node in self.order:
            node.grad = 0.0
        for node, old in zip(self.nodes, self.saved, strict=True):
            node.grad = old


def _order_clearing_grads(roots: Iterable[Value]) -> _Cleared:
    """Topological order (parents first) of everything the roots depend on, setting every
    node's ``.grad`` to _UNSET on the way (what it held is kept in the returned _Cleared).

    Depth-first with an explicit stack, so depth is limited by memory, not by Python's
    recursion limit.  ``grad is _UNSET`` doubles as the visited mark: no set of a million nodes.
    The stack holds a path of uses from a root down, so a visited parent cannot be on it (the
    graph is acyclic): it is finished.
    """
    cleared = _Cleared()
    order, nodes, saved = cleared.order, cleared.nodes, cleared.saved
    for root in roots:
        if root.grad is _UNSET:
            continue  # a root that another root depends on
        if root.grad:
            nodes.append(root)
            saved.append(root.grad)
        root.grad = _UNSET
        stack = [root]
        while stack:  # once per node: the same steps for `a` and `b` are written out twice
            node = stack[-1]
            a = node._a
            if a is not None and a.grad is not _UNSET:
                if a.grad:
                    nodes.append(a)
                    saved.append(a.grad)
                a.grad = _UNSET
                if a._a is not None:
                    stack.append(a)
                    continue
                order.append(a)  # a leaf is finished at once: it has no parents to visit
            b = node._b
            if b is not None and b.grad is not _UNSET:
                if b.grad:
                    nodes.append(b)
                    saved.append(b.grad)
                b.grad = _UNSET
                if b._a is not None:
                    stack.append(b)
                    continue
                order.append(b)
            order.append(stack.pop())  # both parents finished
    return cleared


def topological_order(roots: Value | Iterable[Value]) -> list[Value]:
    """Every Value the roots depend on, each listed after all of its parents."""
    roots = [roots] if isinstance(roots, Value) else list(roots)
    cleared = _order_clearing_grads(roots)
    cleared.restore()
    return cleared.order


def _apply_chain_rule(order: list[Value], create_graph: bool) -> None:
    """Propagate the roots' gradients (already in .grad) to every node of `order`.

    Expects every other node's .grad to be _UNSET.  Every use of a node comes later in `order`
    than the node itself, so walking it backwards reaches each node with its gradient complete.
    """
    if create_graph or state.anomaly:
        _chain_rule_recorded_or_checked(order, create_graph)
    else:
        _chain_rule_on_floats(order)


def _chain_rule_on_floats(order: list[Value]) -> None:
    """The chain rule on plain floats: an ordinary ``backward()``.

    This loop runs once per node of every backward pass, so the common case has it to itself:
    no create_graph or anomaly branches, and the operands written out rather than looped over.
    """
    node = None
    try:
        for node in reversed(order):
            prim = node._prim
            if prim is None:
                continue  # a leaf: its gradient goes nowhere
            a, b = node._a, node._b
            # a node's gradient is the sum of what each of its uses sends back
            if b is None:
                (ga,) = prim.vjp(node.grad, node.data, a.data)
            else:
                ga, gb = prim.vjp(node.grad, node.data, a.data, b.data)
                b.grad = gb if b.grad is _UNSET else b.grad + gb
            a.grad = ga if a.grad is _UNSET else a.grad + ga
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _backward_error(node, exc) from None


def _chain_rule_recorded_or_checked(order: list[Value], create_graph: bool) -> None:
    """The chain rule with create_graph (rules run on Values, so they are recorded and can be
    differentiated again; Constants reach them as numbers) or under detect_anomaly (every
    gradient is checked to be finite)."""
    anomaly = state.anomaly
    for node in reversed(order):
        prim = node._prim
        if prim is None:
            continue
        a, b = node._a, node._b
        if create_graph:
            out = node
            a_in = a.data if type(a) is Constant else a
            b_in = b.data if type(b) is Constant else b
        else:
            out, a_in = node.data, a.data
            b_in = None if b is None else b.data
        try:
            grads = (
                prim.vjp(node.grad, out, a_in)
                if b is None
                else prim.vjp(node.grad, out, a_in, b_in)
            )
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise _backward_error(node, exc) from None
        for parent, parent_grad in zip(node.parents, grads, strict=True):
            if anomaly:
                _check_finite(parent_grad, node)
            parent.grad = parent_grad if parent.grad is _UNSET else parent.grad + parent_grad


def _backward_error(node: Value, exc: Exception) -> Exception:
    return type(exc)(
        f"backward through {describe_call(node._prim, node.parents)}: the derivative is "
        f"undefined or infinite there ({exc})"
    )


def _run_pass(roots: Sequence[Value], seeds: Sequence, create_graph: bool) -> _Cleared:
    """One backward pass: afterwards each node's .grad holds this pass's gradient.

    Returns the nodes in topological order and what their .grad held before; if the pass
    raises, every .grad is restored first.
    """
    cleared = _order_clearing_grads(roots)
    try:
        for root, seed in zip(roots, seeds, strict=True):
            root.grad = seed if root.grad is _UNSET else root.grad + seed
        with enable_grad() if create_graph else _nothing():
            _apply_chain_rule(cleared.order, create_graph)
    except BaseException:
        cleared.restore()
        raise
    return cleared


class _nothing:
    """A do-nothing context manager (contextlib.nullcontext, minus the import-time cost)."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _check_finite(grad, node: Value) -> None:
    number = grad.data if isinstance(grad, Value) else grad
    if not math.isfinite(number):
        raise FloatingPointError(
            f"detect_anomaly: backward through {describe_call(node._prim, node.parents)} "
            f"produced a gradient of {number}"
        )


def _seed(grad, create_graph: bool):
    if isinstance(grad, Value):
        return grad if create_graph else grad.data
    try:
        number = as_float(grad)
    except TypeError:
        raise TypeError(
            f"the gradient to backpropagate must be a real number or a Value, got "
            f"{type(grad).__name__}"
        ) from None
    if state.anomaly and not math.isfinite(number):
        raise FloatingPointError(f"detect_anomaly: the seed gradient is {number}")
    return Constant(number) if create_graph else number


def backward(root: Value, grad=1.0, create_graph: bool = False) -> None:
    """Backpropagate from root: add d(root)/d(node) * grad to every node's ``.grad``.

    Also the method ``root.backward()`` (attached below).  Gradients accumulate across calls,
    as in micrograd and PyTorch: call ``zero_grad()`` (or set ``.grad = 0.0``) between steps.
    With ``create_graph=True`` every ``.grad`` is a Value, so gradients can themselves be
    differentiated (second, third derivatives).  The topological sort uses an explicit stack,
    so a chain of a million ops is fine.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward() needs a Value, got {type(root).__name__}")
    cleared = _run_pass([root], [_seed(grad, create_graph)], create_graph)
    # Only non-zero old gradients were saved: where the old one was 0, the new gradient stays
    # as it is (rather than 0.0 + new, which under create_graph would add a graph node).
    for node, old in zip(cleared.nodes, cleared.saved, strict=True):
        node.grad = old + node.grad


Value.backward = backward  # micrograd's method: y.backward() is this function


def backpropagate(roots: Sequence[Value], seeds: Sequence, create_graph: bool = False) -> dict:
    """{node: d(sum of seed * root)/d(node)} for every node the roots depend on; .grad untouched."""
    cleared = _run_pass(list(roots), list(seeds), create_graph)
    grads = {node: node.grad for node in cleared.order}
    cleared.restore()
    return grads


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
    elif isinstance(grad_outputs, Value) or np.ndim(grad_outputs) == 0:
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs has {len(grad_outputs)} entries for {len(outputs)} outputs")
    seeds = [_seed(g, create_graph) for g in grad_outputs]
    grads = backpropagate(outputs, seeds, create_graph)  # a dict the size of the graph: fine here
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
