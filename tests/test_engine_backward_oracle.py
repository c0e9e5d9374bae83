"""The fast backward pass against the plain one, ``reference_backward``, on many random graphs.

``reference_backward`` is the algorithm as micrograd states it (topological order, then
``parent.grad += rule(...)`` from the root back); ``backward``, ``grad`` and ``create_graph``
add speed and bookkeeping to it and must give the same gradient for every node.  The graphs
draw their ops from the primitive table itself, so a new entry is covered without a change here.
"""

from __future__ import annotations

import math
import random

import pytest

import autograd
from autograd import PRIMITIVES, Value, topological_order
from autograd.backward import reference_backward
from autograd.value import Constant, apply

# Ops whose second operand is a plain number (a Constant), not a Value that is differentiated.
NUMBER_OPERAND = {"pow": lambda rng: float(rng.randint(0, 3)), "leaky_relu": lambda rng: 0.1}
DERIVATIVE_ERRORS = (ValueError, ZeroDivisionError, OverflowError)
SEEDS = range(300)
CHUNKS = [SEEDS[i : i + 50] for i in range(0, len(SEEDS), 50)]  # one test item per 50 graphs


def random_graph(seed: int) -> tuple[list[Value], Value]:
    """Leaves, then up to 25 ops from the table on recent nodes (so graphs are deep and shared);
    the root adds a few earlier nodes in, so they are used more than once."""
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(-2, 2), label=f"x{i}") for i in range(rng.randint(1, 4))]
    leaves = list(nodes)
    for _ in range(rng.randint(1, 25)):
        prim = rng.choice(list(PRIMITIVES.values()))
        a = rng.choice(nodes[-6:])
        if prim.name in NUMBER_OPERAND:
            operands = (a, Constant(NUMBER_OPERAND[prim.name](rng)))
        elif prim.arity == 2:
            operands = (a, rng.choice(nodes))
        else:
            operands = (a,)
        try:
            out = apply(prim, *operands)
        except DERIVATIVE_ERRORS:
            continue  # outside the op's domain: draw another
        if math.isfinite(out.data) and abs(out.data) < 1e6:
            nodes.append(out)
    root = nodes[-1]
    for node in rng.sample(nodes, min(3, len(nodes))):
        root = root + node
    return leaves, root


def close(got, expected) -> bool:
    got = got.data if isinstance(got, Value) else got
    return got == pytest.approx(expected, rel=1e-12, abs=1e-300, nan_ok=True)


def reference_or_none(root: Value, seed: int):
    """The plain algorithm's gradients; None where it raises (then backward() must raise too)."""
    try:
        return reference_backward(root)
    except DERIVATIVE_ERRORS as exc:
        with pytest.raises(type(exc)):
            root.backward()
        return None


@pytest.mark.parametrize("seeds", CHUNKS, ids=str)
def test_backward_gives_every_node_the_plain_algorithms_gradient(seeds):
    for seed in seeds:
        check_backward_against_reference(seed)


def check_backward_against_reference(seed: int) -> None:
    leaves, root = random_graph(seed)
    expected = reference_or_none(root, seed)
    if expected is None:
        return
    root.backward()
    order = topological_order(root)
    assert set(order) == set(expected)
    for node in order:
        assert close(node.grad, expected[node]), (seed, node, expected[node])


@pytest.mark.parametrize("seeds", [SEEDS[::3]], ids=["every third graph"])
def test_backward_adds_the_plain_algorithms_gradient_to_old_grads(seeds):
    for seed in seeds:
        check_accumulation_against_reference(seed)


def check_accumulation_against_reference(seed: int) -> None:
    leaves, root = random_graph(seed)
    expected = reference_or_none(root, seed)
    if expected is None:
        return
    rng = random.Random(seed)
    old = {node: rng.choice([0.0, 0, None, rng.uniform(-1, 1)]) for node in expected}
    for node, grad in old.items():
        node.grad = grad
    root.backward(grad=2.0)
    for node, grad in old.items():
        assert close(node.grad, (grad or 0.0) + 2.0 * expected[node]), (seed, node)


@pytest.mark.parametrize("seeds", [SEEDS[::3]], ids=["every third graph"])
def test_grad_and_create_graph_give_the_plain_algorithms_gradients(seeds):
    for seed in seeds:
        check_grad_against_reference(seed)


def check_grad_against_reference(seed: int) -> None:
    leaves, root = random_graph(seed)
    expected = reference_or_none(root, seed)
    if expected is None:
        return
    used = [x for x in leaves if x in expected]
    assert all(map(close, autograd.grad(root, used), [expected[x] for x in used]))
    assert all(
        map(close, autograd.grad(root, used, create_graph=True), [expected[x] for x in used])
    )
    root.backward(create_graph=True)
    for node in expected:
        assert close(node.grad, expected[node]), (seed, node)


def test_reference_backward_is_micrograds_on_the_lectures_neuron():
    # micrograd's lecture: o = tanh(x1 w1 + x2 w2 + b), with the gradients the lecture derives.
    x1, x2 = Value(2.0), Value(0.0)
    w1, w2 = Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    grads = reference_backward(o)
    assert grads[o] == 1.0
    assert grads[n] == pytest.approx(0.5, rel=1e-6)
    assert (grads[x1], grads[w1]) == pytest.approx((-1.5, 1.0), rel=1e-6)
    assert (grads[x2], grads[w2]) == pytest.approx((0.5, 0.0), abs=1e-6)
    assert all(v.grad == 0.0 for v in (x1, x2, w1, w2, b, n, o))  # it writes nothing


def test_reference_backward_needs_no_recursion_on_a_deep_chain():
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    assert reference_backward(y)[x] == 1.0
