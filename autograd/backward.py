"""The backward pass: topological order, then the chain rule, written once.

``reference_backward`` states the algorithm plainly, as micrograd does (and the tests use it as
their oracle): list the graph parents-first, then walk that list backwards and, for every node,
ask its primitive's rule for the local vector-Jacobian product and add it to each parent:

    dL/dparent += rule(dL/dnode, node, *parents)

``backward`` and ``grad`` run the same algorithm faster (see "The fast path" below: each trick
says what it measurably bought).  During a pass the nodes' ``.grad`` slots hold this pass's
gradients; what they held before is saved and added back at the end (accumulation, as in
micrograd and PyTorch), or put back unchanged by ``grad()``.  An exception at any point of a
pass, KeyboardInterrupt included, puts every ``.grad`` back exactly as it was (and a second
Ctrl-C while that is done cannot stop it halfway: see ``_restore``).
``topological_order`` only reads the graph.

Threads: a pass (``grad()``'s too) writes the ``.grad`` of the nodes it walks while it runs, so
two threads must not backpropagate through a shared Value at the same time; graphs that share
no Value can be differentiated in parallel threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from types import MethodType

import numpy as np

from .flat import set_grads
from .mode import enable_grad, running, state
from .primitives import ADD, MUL, Primitive
from .value import (
    _REAL_TYPES,
    ZERO,
    CheckedValue,
    Constant,
    NumberInRuleError,
    TracingError,
    Value,
    _short_repr,
    _slot_data,
    as_float,
    describe_call,
    describe_operand,
)

# --------------------------------------------------------------------------------------------
# The algorithm, plainly: what the fast path below computes (the tests check they agree).
# --------------------------------------------------------------------------------------------


def reference_backward(root: Value, grad: float = 1.0) -> dict[Value, float]:
    """{node: d(root)/d(node) * grad} for every node root depends on, computed the plain way.

    micrograd's ``backward()`` without its recursion (so deep graphs work) and without writing
    to the graph: ``.grad`` is untouched; the result is a dict.
    """
    # 1. Topological order: each node listed after all of its parents.  Depth-first with an
    #    explicit stack: a node stays on the stack until every parent is listed.
    topo, visited, stack = [], {root}, [root]
    while stack:
        node = stack[-1]
        for parent in node.parents:
            if parent not in visited:
                visited.add(parent)
                stack.append(parent)
                break
        else:  # every parent is listed, so the node can be
            topo.append(stack.pop())
    # 2. The chain rule, from the root back: a node's gradient is complete once every node that
    #    uses it has been visited, and reversed(topo) visits all of those first.
    grads = {node: 0.0 for node in topo}
    grads[root] = grad
    for node in reversed(topo):
        if node.is_leaf:
            continue
        inputs = [parent.data for parent in node.parents]
        local = node.primitive.vjp(grads[node], node.data, *inputs)
        for parent, parent_grad in zip(node.parents, local, strict=True):
            grads[parent] += parent_grad
    return grads


def topological_order(roots: Value | Iterable[Value]) -> list[Value]:
    """Every Value the roots depend on, each listed after all of its parents; reads only."""
    roots = [roots] if isinstance(roots, Value) else list(roots)
    order: list[Value] = []
    visited: set[Value] = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [root]
        while stack:
            node = stack[-1]
            for parent in node.parents:
                if parent not in visited:
                    visited.add(parent)
                    stack.append(parent)
                    break
            else:
                order.append(stack.pop())
    return order


# --------------------------------------------------------------------------------------------
# The fast path.  The same two steps, with these tricks (numbers from the commits that made them,
# on the benchmark's wide graph: 200,000 products summed pairwise, 600,000 nodes):
#
# * .grad is both the visited mark and the pass's running sum (_UNSET = reached, nothing added
#   yet): no set or dict the size of the graph (backward 0.52 s -> 0.37 s, 47ca46c; a dict of
#   gradients beside the nodes measured 2-3x slower again in 2026-11: it misses the cache, the
#   node's own slot does not).  The price is the bookkeeping that puts every .grad back, below.
# * Operands sit in two slots, _a and _b, and the steps for each are written out twice instead of
#   looping over a parents tuple (0a7bd0c: no tuple per node, ~70 bytes).
# * A leaf is listed as soon as it is reached instead of going on the stack (268711a: the
#   topological sort ~20% faster).  A node just pushed is visited at once, without reading it
#   back from the stack, and a pushed node's `a` is not tested for None (only leaves have
#   none, and they are never pushed): the sort of a demo step's graph 10% fewer instructions
#   (callgrind, 171M -> 154M for five sorts of 100 samples' scores, 2026-11-29).  Calls stay
#   written `stack.append(x)`: Python 3.11 specialises exactly that form (a bound method in a
#   local was 2.5% slower).
# * Only old gradients that are not ZERO (the 0.0 every new Value starts with) are saved and
#   added back, so after zero_grad() only the parameters' are (5508303).  Checked with `is`:
#   no truth test of whatever a user put in .grad (a numpy array's raised mid-walk).
# * An ordinary backward on floats has a loop of its own, free of create_graph and anomaly
#   branches (55a530c: ~9% fewer instructions in backward), and backward() a path of its own
#   for a float seed (no seed conversion, lists of roots, or context manager: a tiny graph's
#   backward 35.7k -> 17.5k instructions per call).
# * Keeping every .grad restorable costs ~1% (callgrind, backward on the wide graph +0.5%, on a
#   deep chain +1.1%).
# * add's and mul's rules, (g, g) and (g * b, g * a), are written out in the float loop instead
#   of calling the table's lambdas: they are most nodes of every network (a neuron's weighted
#   sum), and the call, its tuple and the unpacking cost more than the rule.  Backward 18-24%
#   fewer instructions (callgrind, 2026-11-29: wide graph 520M -> 424M, deep chain 1212M ->
#   918M).  The table stays the definition: the oracle tests compare this loop with
#   reference_backward, which calls every rule from the table.
# * The overflow rule (a gradient that is not finite although its numbers are raises
#   OverflowError, as in forward) is checked where an infinity must surface, not at every
#   node: add and mul pass an infinity or NaN on to their operands (inf * 0 is NaN), so it is
#   enough to look at the gradients of leaves and of the other ops' nodes (callgrind: +1-2% of
#   backward on the wide graph, where a third of the nodes are leaves; within noise on the deep
#   chain).  Only when one is not finite does a second, checked pass tell an overflow from an
#   infinity that came in with the numbers.
# --------------------------------------------------------------------------------------------

# What a node's .grad holds during a pass until its first contribution arrives.  A private
# object, not None, so a user's `p.grad = None` (PyTorch's way to zero) is not mistaken for it.
_UNSET = object()
_isfinite = math.isfinite
_NEG_INF, _INF = -math.inf, math.inf  # globals: no new float per pass
_ADDED_BACK = "its .grad from before this backward() plus this pass's gradient"


def _restore(order: list[Value], stack: list[Value], saved: list[tuple[Value, object]]) -> None:
    """Put every .grad a pass has written back exactly as it was before the pass.

    A pass keeps this invariant after every single bytecode: a node whose .grad has changed
    is in `order` (finished) or on `stack` (being visited), and if its old .grad was not
    ZERO, (node, old) is in `saved`: each is recorded before the .grad is written.  Running
    this twice is harmless, so an interrupted restore can simply be run again.

    The writes are one C-level call (flat.set_grads), so a second Ctrl-C, arriving while the
    first is handled, cannot leave some .grad restored and others not: it lands before the
    writes (then they are made here anyway, and it is raised after them) or after them.  What
    remains is the few bytecodes of a caller's ``except`` clause before this function starts.
    """
    try:
        running.rules_on_values = False  # a create_graph pass may have stopped midway
        set_grads(chain(zip(chain(order, stack), repeat(ZERO)), saved))  # ZERO, then the old
    except BaseException:  # the second Ctrl-C came before the writes, never among them
        running.rules_on_values = False
        set_grads(chain(zip(chain(order, stack), repeat(ZERO)), saved))
        raise


def _undo_finished(order: list[Value], saved: list[tuple[Value, object]]) -> None:
    """_restore after a pass that ran to its end (its stack is empty), for grad(): the same
    writes as a plain loop, 2-3x faster than the C-level call (250 nodes: 6 against 15 us,
    timeit; grad() on a graph of 250 nodes 7% fewer instructions, callgrind).  If it is
    interrupted, the caller's except clause runs _restore, which finishes the job."""
    for node in order:
        node.grad = ZERO
    for node, old in saved:
        node.grad = old


def _mark(roots: Iterable[Value], order: list, stack: list, saved: list) -> None:
    """List (in `order`) every node the roots depend on, parents first, setting each .grad
    to _UNSET; (node, old .grad) goes into `saved` unless the old one was ZERO.

    Depth-first with an explicit stack (no recursion limit).  The stack holds a path of uses
    from a root down, so a marked parent cannot be on it (the graph is acyclic): it is finished.
    """
    unset, zero = _UNSET, ZERO
    for root in roots:
        old = root.grad
        if old is unset:
            continue  # a root that another root depends on
        if old is not zero:
            saved.append((root, old))
        if root._a is None:  # a leaf root: nothing to visit
            order.append(root)
            root.grad = unset
            continue
        stack.append(root)
        root.grad = unset
        while stack:
            node = stack[-1]
            while True:  # node is on top of the stack: descend without reading it back
                a = node._a  # never None: leaves are not pushed
                old = a.grad
                if old is not unset:
                    if old is not zero:
                        saved.append((a, old))
                    if a._a is not None:
                        stack.append(a)
                        a.grad = unset
                        node = a
                        continue
                    order.append(a)  # a leaf is finished at once: it has no parents to visit
                    a.grad = unset
                b = node._b  # the same steps for b
                if b is not None:
                    old = b.grad
                    if old is not unset:
                        if old is not zero:
                            saved.append((b, old))
                        if b._a is not None:
                            stack.append(b)
                            b.grad = unset
                            node = b
                            continue
                        order.append(b)
                        b.grad = unset
                order.append(node)  # both parents finished (listed before it leaves the stack)
                stack.pop()
                break


def _chain_rule_on_floats(order: list[Value]) -> bool:
    """The chain rule on plain floats: an ordinary ``backward()``.

    Expects each root's .grad to hold its seed and every other node's to be _UNSET.  Every use
    of a node comes later in `order` than the node itself, so walking it backwards reaches each
    node with its gradient complete.  Returns False, stopping at once, at a node whose gradient
    is not finite: the caller then runs _chain_rule_on_floats_checked to tell an overflow (an
    error) from an infinity or NaN that came in with the numbers (passed on, as in forward).
    """
    unset, add, mul = _UNSET, ADD, MUL
    lo, hi = _NEG_INF, _INF
    for node in reversed(order):
        prim = node._prim
        g = node.grad  # complete: every use of the node has sent its share
        # a node's gradient is the sum of what each of its uses sends back
        if prim is add:  # add's and mul's rules from the table, written out (see above)
            a, b = node._a, node._b
            b.grad = g if b.grad is unset else b.grad + g
            a.grad = g if a.grad is unset else a.grad + g
        elif prim is mul:
            a, b = node._a, node._b
            gb = g * a.data
            b.grad = gb if b.grad is unset else b.grad + gb
            ga = g * b.data
            a.grad = ga if a.grad is unset else a.grad + ga
        elif not lo < g < hi:  # not finite (NaN compares false), at a leaf or any other op:
            return False  # add and mul pass an infinity or NaN on, so one of those shows it
        elif prim is not None:  # a leaf's gradient goes nowhere
            a, b = node._a, node._b
            try:
                if b is None:
                    (ga,) = prim.vjp(g, node.data, a.data)
                else:
                    ga, gb = prim.vjp(g, node.data, a.data, b.data)
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise _backward_error(node, exc) from None
            if b is not None:
                b.grad = gb if b.grad is unset else b.grad + gb
            a.grad = ga if a.grad is unset else a.grad + ga
    return True


def _chain_rule_on_floats_checked(order: list[Value]) -> None:
    """_chain_rule_on_floats with the forward's overflow rule at every step: a gradient that is
    not finite although every number it was computed from is raises OverflowError naming the
    node; an infinity or NaN that came in (in a .data, or the seed) is passed on, as in forward.

    Only run when _chain_rule_on_floats met a gradient that is not finite, so its cost is paid
    only then.  It computes the same sums in the same order as _chain_rule_on_floats.
    """
    unset = _UNSET
    for node in reversed(order):
        prim = node._prim
        if prim is None:
            continue
        g = node.grad
        a, b = node._a, node._b
        numbers = (node.data, a.data) if b is None else (node.data, a.data, b.data)
        try:
            grads = prim.vjp(g, *numbers)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise _backward_error(node, exc) from None
        for parent, parent_grad in zip((a, b)[: len(grads)], grads, strict=True):
            _check_share(node, g, numbers, parent_grad)
            old = parent.grad
            parent.grad = parent_grad if old is unset else _checked_sum(parent, old, parent_grad)


def _check_share(node: Value, g, numbers: tuple, share) -> None:
    """OverflowError if node's rule made a gradient `share` that is not finite from the finite
    gradient g and finite numbers (its output and operands)."""
    if not _isfinite(share) and _isfinite(g) and all(map(_isfinite, numbers)):
        raise OverflowError(
            f"backward through {describe_call(node._prim, node.parents)}: the gradient "
            f"overflows a float (the gradient arriving there is {g!r})"
        )


def _checked_sum(node: Value, old, new, what: str = "the sum of what its uses send back"):
    """old + new for node's gradient; OverflowError if two finite numbers sum to infinity."""
    total = old + new
    if total - total:  # not finite (see _chain_rule_on_floats)
        error = _sum_overflow(node, old, new, what)
        if error is not None:
            raise error
    return total


def _sum_overflow(node: Value, old, new, what: str) -> OverflowError | None:
    """The OverflowError for a gradient old + new that is not finite, unless old or new was not."""
    if not (_isfinite(old) and _isfinite(new)):
        return None
    return OverflowError(
        f"backward: the gradient of {_describe_node(node)} overflows a float: "
        f"{old!r} + {new!r} ({what})"
    )


def _describe_node(node: Value) -> str:
    """`x=2.0`, `the output of mul(x=2.0, 3.0)` or `the leaf 2.0`: a node for error messages."""
    if node.label:
        return describe_operand(node)
    if node._prim is not None:
        return f"the output of {describe_call(node._prim, node.parents)}"
    return f"the leaf {describe_operand(node)}"


def _overflow_in(order: list[Value], roots, seeds) -> OverflowError | None:
    """Run the pass again from the seeds with _chain_rule_on_floats_checked, after
    _chain_rule_on_floats met a gradient that is not finite: the OverflowError to raise, or
    None (the infinities came in with the numbers, and every .grad now holds the pass's result).

    The error is returned, not raised: the caller puts every .grad back first and raises it
    outside its `except BaseException` (so a Ctrl-C there cannot stop the restore).
    """
    for node in order:
        node.grad = _UNSET
    _seed_roots(roots, seeds)
    try:
        _chain_rule_on_floats_checked(order)
    except OverflowError as exc:
        return exc
    return None


def _seed_roots(roots, seeds) -> None:
    """Put each root's seed into its .grad (marked _UNSET; a root listed twice gets both)."""
    for root, seed in zip(roots, seeds, strict=True):
        old = root.grad
        root.grad = seed if old is _UNSET else old + seed


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
        if anomaly and type(node) is CheckedValue:
            _check_unchanged(node)
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
        except NumberInRuleError:
            raise TypeError(
                f"backward with create_graph=True through {describe_call(prim, node.parents)}: "
                "its rule turned a Value into a number (math.cos(a), float(a)), so the gradient "
                "it makes could not be differentiated again. Write the rule with arithmetic and "
                "autograd.primitives' exp, log, sin, cos, sigmoid (they take floats and Values)"
            ) from None
        for parent, parent_grad in zip(node.parents, grads, strict=True):
            if anomaly:
                if not create_graph:  # on floats, an overflow is an OverflowError, as in forward
                    numbers = (out, a_in) if b is None else (out, a_in, b_in)
                    _check_share(node, node.grad, numbers, parent_grad)
                _check_finite(parent_grad, node)
            old = parent.grad
            if old is _UNSET:
                parent.grad = parent_grad
            elif create_graph:  # Values: the add is recorded, and checked by the forward's rule
                parent.grad = old + parent_grad
            else:
                parent.grad = _checked_sum(parent, old, parent_grad)


def _check_unchanged(node: CheckedValue) -> None:
    """Refuse to differentiate at numbers the forward did not see: a .data changed since."""
    for v, seen in zip((node, *node.parents), node._read, strict=False):
        now = _slot_data(v)
        if now is not seen and now != seen:
            who = (
                f"the Value {v.label!r}"
                if v.label
                else f"the output of {v.op}"
                if v.op
                else "a leaf"
            )
            raise RuntimeError(
                f"detect_anomaly: the .data of {who} was changed from {seen!r} to {now!r} "
                f"after {describe_call(node._prim, node.parents)} used it in forward, so "
                "backward would differentiate at a point the forward never computed. Change "
                ".data only after backward() (as every optimizer here does), then run the "
                "forward again"
            )


def _backward_error(node: Value, exc: Exception) -> Exception:
    return type(exc)(
        f"backward through {describe_call(node._prim, node.parents)}: the derivative is "
        f"undefined or infinite there ({exc})"
    )


def _check_finite(grad, node: Value) -> None:
    number = grad.data if isinstance(grad, Value) else grad
    if not math.isfinite(number):
        raise FloatingPointError(
            f"detect_anomaly: backward through {describe_call(node._prim, node.parents)} "
            f"produced a gradient of {number}"
        )


def _run_pass(
    roots: Sequence[Value],
    seeds: Sequence,
    create_graph: bool,
    order: list,
    stack: list,
    saved: list,
) -> OverflowError | None:
    """One backward pass: afterwards each node of `order` has this pass's gradient in .grad.

    The caller undoes it with _restore(order, stack, saved) if anything raises (here or later),
    or if a gradient overflowed: then the OverflowError to raise is returned (else None).
    """
    _mark(roots, order, stack, saved)
    _seed_roots(roots, seeds)
    if create_graph:
        with enable_grad():
            running.rules_on_values = True  # float() of a Value raises (NumberInRuleError)
            _chain_rule_recorded_or_checked(order, True)
            running.rules_on_values = False  # also on any failure: in _restore
    elif state.anomaly:
        _chain_rule_recorded_or_checked(order, False)
    elif not _chain_rule_on_floats(order):
        return _overflow_in(order, roots, seeds)
    return None


def _accumulated(node: Value, old, new):
    """old + new: what node.grad holds after a pass that found `old` there and computed `new`."""
    if old is None or (type(old) in (float, int) and old == 0):
        return new  # zero (or PyTorch's None): no `0.0 + new` node under create_graph
    if isinstance(old, np.ndarray):
        raise ValueError(
            f"the .grad of the Value {describe_operand(node)} holds a numpy array of shape "
            f"{old.shape}; a gradient is one number (set .grad to 0.0, or call zero_grad(), "
            "before backward())"
        )
    if not isinstance(old, (Value, *_REAL_TYPES)):  # `old + new` would fail or make a complex
        raise TypeError(
            f"the .grad of the Value {describe_operand(node)} holds {_short_repr(old)} (a "
            f"{type(old).__name__}); a gradient is one real number (set .grad to 0.0, or call "
            "zero_grad(), before backward())"
        )
    if isinstance(old, Value) or isinstance(new, Value):
        return old + new  # recorded, and checked by the forward's overflow rule
    return _checked_sum(node, old, new, _ADDED_BACK)


# --------------------------------------------------------------------------------------------
# The public functions.
# --------------------------------------------------------------------------------------------


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
    so a chain of a million ops is fine.  If it raises (or is interrupted), every ``.grad`` is
    as it was before the call.

    Gradients use each Value's ``.data`` as it is now: change ``.data`` only after backward()
    (as every optimizer here does), then run the forward again.  Under ``detect_anomaly()`` a
    ``.data`` changed since the forward is a RuntimeError naming the Value.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward() needs a Value, got {type(root).__name__}")
    order, stack, saved = [], [], []  # what the pass writes, kept to undo it (_restore)
    if type(grad) is float and not create_graph and not state.anomaly:
        # The common case on a path of its own: no seed conversion, no lists of roots and seeds,
        # no context manager, floats added inline.  (x*y + z).backward() went from 35.7k to
        # 17.5k instructions per call (callgrind); with its forward 25.4k, micrograd's 31.0k.
        error = None  # an overflow: raised once every .grad is back, outside the try
        try:
            _mark((root,), order, stack, saved)
            root.grad = grad  # marked _UNSET just now
            if not _chain_rule_on_floats(order):  # a gradient is not finite: find out why
                error = _overflow_in(order, (root,), (grad,))
            if error is None:
                for node, old in saved:  # the old gradients that were not ZERO: add them back
                    new = node.grad
                    if type(old) is float:
                        total = old + new
                        if total - total:  # not finite: an overflow, unless old or new was
                            error = _sum_overflow(node, old, new, _ADDED_BACK)
                            if error is not None:
                                break
                        node.grad = total
                    else:
                        node.grad = _accumulated(node, old, new)
            if error is not None:
                _restore(order, stack, saved)
        except BaseException:
            _restore(order, stack, saved)
            raise
        if error is not None:
            raise error
        return
    seed = _seed(grad, create_graph)
    try:
        error = _run_pass([root], [seed], create_graph, order, stack, saved)
        if error is None:
            for node, old in saved:
                node.grad = _accumulated(node, old, node.grad)
        else:
            _restore(order, stack, saved)
    except BaseException:
        _restore(order, stack, saved)
        raise
    if error is not None:
        raise error


Value.backward = backward  # micrograd's method: y.backward() is this function


# --------------------------------------------------------------------------------------------
# micrograd's _backward: each node's local step, callable by hand, and settable by hand.
# --------------------------------------------------------------------------------------------


def _apply_rule_once(node: Value) -> None:
    """micrograd's ``node._backward()``: pass node.grad to its parents through its op's rule,
    once, adding to their .grad (call it on every node in reverse topological order)."""
    prim = node._prim
    if prim is None:
        return  # a leaf: nothing to pass on
    parents = node.parents
    local = prim.vjp(node.grad, _slot_data(node), *[_slot_data(p) for p in parents])
    for parent, parent_grad in zip(parents, local, strict=True):
        parent.grad = _accumulated(parent, parent.grad, parent_grad)


@dataclass(frozen=True, eq=False)
class SetByHand(Primitive):
    """The rule of a node whose ``_backward`` was set by hand, micrograd's way: the user's
    function, run as one rule of the table (it adds to the parents' .grad; what it added is
    the rule's result).  Name and forward are the op's own (``base``)."""

    fn: Callable[[], object] | None = None
    base: Primitive | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "arity", self.base.arity)


def _run_by_hand(node: Value, fn: Callable[[], object], g) -> tuple:
    """Run a hand-set _backward with node.grad = g and every parent's .grad at 0.0; return what
    it added to each parent.  Every .grad it touches is put back (the pass owns them)."""
    parents = node.parents
    own, before = node.grad, [p.grad for p in parents]
    try:
        node.grad = g
        for parent in parents:
            parent.grad = 0.0
        fn()
        added = [p.grad for p in parents]
    finally:
        node.grad = own
        for parent, old in zip(parents, before, strict=True):
            parent.grad = old
    if len(parents) == 2 and parents[0] is parents[1]:
        added[1] = 0.0  # x op x: both contributions are already in the one sum
    if not isinstance(g, Value):  # a pass on floats (the closure may compute with Values)
        added = [_slot_data(a) if isinstance(a, Value) else a for a in added]
    else:
        for i, share in enumerate(added):
            _refuse_numbers_under_create_graph(node, g, i, share)
    return tuple(added)


def _refuse_numbers_under_create_graph(node: Value, g: Value, i: int, share) -> None:
    """RuntimeError unless the gradient a hand-set _backward passed to operand i, under
    create_graph, was computed from the op's Values (the node or its operands) or is 0.

    micrograd's closures scale out.grad by numbers (``(1 - t**2) * out.grad`` with t a float):
    right as a gradient, but differentiating it again would silently give 0 (or None from
    ``grad``).  A linear op made by hand (its derivative a number) is refused too: the two
    cases cannot be told apart.
    """
    if isinstance(share, Value):
        wanted = {node, *node.parents}
        seen, stack = {g}, [share]  # g's graph is the upstream gradient's: not the closure's
        while stack:
            v = stack.pop()
            if v in wanted:
                return
            for parent in v.parents:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    elif share == 0:
        return
    raise RuntimeError(
        f"backward with create_graph=True through {describe_call(node._prim, node.parents)}, "
        f"whose _backward was set by hand: the gradient it passes to operand {i} is not "
        "computed from the op's Values (micrograd's closures use numbers such as t or "
        "other.data), so differentiating it again would silently give 0. Write the closure "
        "with Value arithmetic on out and its operands (x.grad += (1 - out * out) * out.grad), "
        "or declare the op with autograd.define_primitive"
    )


def _get_backward(node: Value) -> Callable[[], object]:
    prim = node._prim
    if isinstance(prim, SetByHand):
        return prim.fn
    return MethodType(_apply_rule_once, node)


def _set_backward(node: Value, fn: Callable[[], object]) -> None:
    if not callable(fn):
        raise TypeError(f"_backward must be a function of no arguments, got {type(fn).__name__}")
    prim = node._prim
    if prim is None:
        if not state.grad_enabled:
            return  # made by hand under no_grad: a leaf, so there is no step to set
        raise ValueError(
            "a leaf has no parents for _backward to pass its gradient to; make the Value "
            "with its children, micrograd's way: Value(data, (a, b), 'op')"
        )
    if state.tracing:
        raise TracingError(
            "setting _backward while tracing: the tape replays only the primitive table's "
            "rules; declare the op as a Primitive or use the eager engine"
        )
    base = prim.base if isinstance(prim, SetByHand) else prim
    node._prim = SetByHand(
        base.name,
        base.symbol,
        base.forward,
        lambda g, out, *inputs: _run_by_hand(node, fn, g),
        base.array_forward,
        base.kinks,
        fn=fn,
        base=base,
    )


# micrograd's attribute: reading it gives the node's local step (callable by hand); setting it
# replaces the node's rule, and backward() honours it.  Built-in ops store no closure: the
# callable is made when asked for.
Value._backward = property(_get_backward, _set_backward, doc=_apply_rule_once.__doc__)


def backpropagate(roots: Sequence[Value], seeds: Sequence, create_graph: bool = False) -> dict:
    """{node: d(sum of seed * root)/d(node)} for every node the roots depend on; .grad untouched."""
    order, stack, saved = [], [], []
    try:
        error = _run_pass(list(roots), list(seeds), create_graph, order, stack, saved)
        grads = {node: node.grad for node in order} if error is None else None
        _undo_finished(order, saved)
    except BaseException:
        _restore(order, stack, saved)  # again if it was _restore that was interrupted
        raise
    if error is not None:
        raise error
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
    try:
        items = [xs] if isinstance(xs, Value) else list(xs)
    except TypeError:  # not iterable: a number, say, where a Value was meant
        raise TypeError(
            f"{what} must be a Value or a list of Values, got {type(xs).__name__}"
        ) from None
    for i, x in enumerate(items):
        if not isinstance(x, Value):
            raise TypeError(f"{what}[{i}] must be a Value, got {type(x).__name__}")
    if not items:
        raise ValueError(f"{what} is empty")
    return items
