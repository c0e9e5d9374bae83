"""A backward pass that fails or is interrupted, at ANY point, changes no ``.grad``.

The exception is injected with a trace function at every single bytecode the pass runs in the
engine's own files (the topological walk, the chain rule, the primitives' rules, the
bookkeeping that adds old gradients back), once as KeyboardInterrupt (Ctrl-C) and once as an
ordinary exception.  After each, every ``.grad`` must be the very object it was before, and an
uninterrupted pass right after must give the right gradients.  A second Ctrl-C is injected too,
at every bytecode of the handling of the first: only the few bytecodes of an ``except`` clause
before the restore starts (WINDOW) may stop it.
"""

from __future__ import annotations

import contextlib
import math
import os

import injection
import numpy as np
import pytest

import autograd
from autograd import Value, topological_order
from autograd.backward import reference_backward
from autograd.value import ZERO

ENGINE_DIR = os.path.dirname(autograd.__file__)


class Injected(Exception):
    """The failure the tests inject."""


def run_interrupted_at(k: int, exc_type: type[BaseException], call) -> int:
    """Run call() raising exc_type at the k-th bytecode executed in autograd's files; return
    how many ran there (k if the exception was injected, fewer if call() finished first)."""
    return injection.run_interrupted_at(k, exc_type, call, ENGINE_DIR)


def make_graph():
    """A graph with a node used three times, constants, one- and two-operand ops."""
    x, w, b = Value(0.5, label="x"), Value(-1.5, label="w"), Value(2.0, label="b")
    h = (x * w + b).tanh()
    y = h * h + 3 * x - h.exp() / (1 + w * w)
    return (x, w, b, h), y


def set_old_grads(nodes, y, with_value: bool = False):
    """Old gradients of every kind backward() may find: a float, None, an int 0, the fresh 0.0,
    and (under create_graph) a Value."""
    for node in topological_order(y):
        node.grad = ZERO
    x, w, b, h = nodes
    x.grad, w.grad, b.grad = 1.25, None, 0
    h.grad = Value(-0.75) if with_value else 0.5
    y.grad = 2.0


def grads_of(root) -> list:
    return [(node, node.grad) for node in topological_order(root)]


def assert_unchanged(before) -> None:
    for node, old in before:
        assert node.grad is old, f"{node!r} changed: was {old!r}"


def number(v) -> float:
    if v is None:
        return 0.0
    return v.data if isinstance(v, Value) else float(v)


def assert_accumulated(before, root, scale: float = 1.0) -> None:
    """Every .grad is its old value plus scale * d root / d node (the plain reference)."""
    expected = reference_backward(root, scale)
    for node, old in before:
        assert number(node.grad) == pytest.approx(number(old) + expected[node], rel=1e-12)


@pytest.mark.parametrize(
    "mode, exc_type",
    [
        ("floats", KeyboardInterrupt),
        ("floats", Injected),
        ("create_graph", KeyboardInterrupt),
        ("detect_anomaly", KeyboardInterrupt),
    ],
)
def test_backward_interrupted_at_every_bytecode_leaves_every_grad_as_it_was(mode, exc_type):
    nodes, y = make_graph()
    create_graph = mode == "create_graph"

    def call():
        y.backward(create_graph=create_graph)

    # detect_anomaly's block is entered outside the traced call: the pass is under test here,
    # not the context manager.
    block = autograd.detect_anomaly if mode == "detect_anomaly" else contextlib.nullcontext
    completed = []  # the k where the pass had finished: only the last few, returning
    k = 0
    while True:
        k += 1
        set_old_grads(nodes, y, with_value=create_graph)
        before = grads_of(y)
        with block():
            if run_interrupted_at(k, exc_type, call) < k:
                break  # the pass ran to its end before the k-th bytecode
            assert float(y) == y.data  # create_graph's guard on float() is off again
            if all(node.grad is old for node, old in before):
                call()  # uninterrupted, right after: the right gradients, added to the old ones
            else:
                completed.append(k)
        assert_accumulated(before, y)  # all or nothing
    assert k > 500  # many steps of the walk and of the chain rule
    assert completed == list(range(k - len(completed), k))
    assert len(completed) <= 5  # returning from backward() (after its overflow check)


# Where a second Ctrl-C may stop the restore: the except clause's own bytecodes before
# _restore's try (Python raises a pending KeyboardInterrupt when _restore starts: the real
# window is that, less than a microsecond after the first).  Its writes are one C call.
WINDOW = {
    ("backward", "PUSH_EXC_INFO"),  # the except clause's first instruction has no line
    ("backward", "except BaseException:"),
    ("backward", "_restore(order, stack, saved)"),
    ("backpropagate", "PUSH_EXC_INFO"),
    ("backpropagate", "except BaseException:"),
    ("backpropagate", "_restore(order, stack, saved)"),
    ("_restore", "try:"),
}


@pytest.mark.parametrize("which", ["backward", "grad"])
def test_a_second_ctrl_c_while_the_first_is_handled_leaves_every_grad_as_it_was(which):
    x, w, b = Value(0.5, label="x"), Value(-1.5, label="w"), Value(2.0, label="b")
    h = (x * w + b).tanh()
    nodes, y = (x, w, b, h), h * x
    call = y.backward if which == "backward" else lambda: autograd.grad(y, [x, w])
    total = run_interrupted_at(0, KeyboardInterrupt, call)
    runs, windows = 0, set()
    for k in range(1, total + 1):  # the first Ctrl-C
        j = 0
        while True:  # the second, at every bytecode that runs after the first
            j += 1
            set_old_grads(nodes, y)
            before = grads_of(y)
            _, where = injection.run_interrupted_twice(k, j, KeyboardInterrupt, call, ENGINE_DIR)
            runs += 1
            if where is not None:
                where = (where[0], where[1].split("  #")[0])  # the code, not its comment
            if where in WINDOW:
                windows.add(where)
            elif any(node.grad is not old for node, old in before):
                assert which == "backward" and k > total - 5 and where is None, (k, j, where)
                assert_accumulated(before, y)  # the first came as backward() returned
            if where is None:
                break  # the handling ended before its j-th bytecode
    assert total > 200 and runs > 10 * total  # the handling is watched, not only the pass
    assert windows <= WINDOW and ("_restore", "try:") in windows


def test_backward_through_an_infinity_interrupted_at_every_bytecode_is_all_or_nothing():
    # An infinite operand sends the float pass down its second, checked walk (it tells an
    # overflow from an infinity that came in); that walk too is all or nothing.
    nodes, y = make_graph()
    x, w, b, h = nodes
    top = Value(math.inf, label="top")
    y = y + top * b  # d y / d b is infinite, made from the infinite top: passed on
    set_old_grads(nodes, y)
    y.backward()
    expected = [number(g) for _, g in grads_of(y)]
    assert math.isinf(b.grad) and top.grad == 2.0
    completed, k = [], 0
    while True:
        k += 1
        set_old_grads(nodes, y)
        before = grads_of(y)
        if run_interrupted_at(k, KeyboardInterrupt, y.backward) < k:
            break
        if any(node.grad is not old for node, old in before):
            assert [number(g) for _, g in grads_of(y)] == expected  # finished before the stop
            completed.append(k)
    assert k > 500
    assert completed == list(range(k - len(completed), k)) and len(completed) <= 5


def test_backward_that_overflows_interrupted_at_every_bytecode_changes_nothing():
    nodes, y = make_graph()
    tiny = Value(1e-300, label="tiny")
    y = y + tiny.log() * 1e10  # d y / d tiny = 1e310: an OverflowError, after both walks
    k = 0
    while True:
        k += 1
        set_old_grads(nodes, y)
        before = grads_of(y)
        try:
            if run_interrupted_at(k, KeyboardInterrupt, y.backward) < k:
                pytest.fail("backward() returned although a gradient overflows")
        except OverflowError as exc:
            assert "backward through log(tiny=1e-300)" in str(exc)
            assert_unchanged(before)
            break
        assert_unchanged(before)
    assert k > 500


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_interrupted_at_every_bytecode_leaves_every_grad_as_it_was(create_graph):
    nodes, y = make_graph()
    x, w, b, h = nodes
    set_old_grads(nodes, y)
    before = grads_of(y)
    expected = reference_backward(y)

    def call():
        return autograd.grad(y, [x, w], create_graph=create_graph)

    k = 0
    while run_interrupted_at(k + 1, KeyboardInterrupt, call) == k + 1:
        k += 1
        assert_unchanged(before)
        gx, gw = call()
        assert (number(gx), number(gw)) == pytest.approx((expected[x], expected[w]), rel=1e-12)
    assert k > 500


def test_backward_failing_on_a_numpy_grad_leaves_the_graph_usable():
    # The reproducer of issue 12: the failed pass used to leave its visited mark in .grad, and
    # the next backward() then skipped those nodes (0.0 0.0 instead of 6.0 4.0).
    x = Value(2.0)
    w = Value(3.0)
    h = x * w
    b = Value(1.0)
    b.grad = np.array([1.0, 2.0])
    y = h * b + h
    before = grads_of(y)
    with pytest.raises(ValueError, match=r"\.grad of the Value 1\.0 holds a numpy array"):
        y.backward()
    assert_unchanged(before)
    b.grad = x.grad = w.grad = 0.0
    y.backward()
    assert (x.grad, w.grad) == (6.0, 4.0)


def test_failing_rule_midway_leaves_every_grad_as_it_was_and_the_next_pass_right():
    x, w = Value(0.0, label="x"), Value(2.0, label="w")
    y = w * w + x.sqrt() * w  # sqrt's derivative is infinite at 0: the rule raises midway
    x.grad, w.grad = None, 0
    before = grads_of(y)
    with pytest.raises(ZeroDivisionError, match=r"sqrt\(x=0\.0\)"):
        y.backward()
    assert_unchanged(before)
    x.data = 4.0
    z = w * w + x.sqrt() * w
    z.backward()
    assert (x.grad, w.grad) == (0.5, 6.0)


def test_topological_order_never_writes_to_the_graph():
    class ReadOnlyGrad(Value):
        """A leaf whose .grad may be read but not written."""

        __slots__ = ()
        grad = property(Value.grad.__get__, lambda self, value: pytest.fail("wrote .grad"))

    x, w = Value(1.0), Value(2.0)
    x.__class__ = w.__class__ = ReadOnlyGrad
    y = (x * w).tanh() + x
    before = grads_of(y)
    order = topological_order(y)
    assert set(order) == {x, w, y, y.parents[0], y.parents[0].parents[0]}
    assert_unchanged(before)


def test_topological_order_of_a_deep_chain_does_not_recurse():
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    order = topological_order(y)
    assert order[0] is x and order[-1] is y and len(order) == 200_001
    assert math.isfinite(y.data)
