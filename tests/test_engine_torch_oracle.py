"""Random graphs against PyTorch float64: every node's gradient, ``grad()``, higher orders.

The graphs draw their ops from ``test_torch_compare.VIA_VALUE_API`` (one way through the Value
API to each primitive of the table, checked there to cover it) and from numbers of every type
mixed in on either side (int, bool, numpy scalars, Fraction), and apply them to recent nodes, to
the same node twice (x * x, x / x, x ** x) and to nodes used elsewhere.  The leaves are often
at a kink or a special point (0, 1, -1), where the conventions must agree with PyTorch's.  One
function builds the graph on Values and on torch's ``ValueTensor``s, so the two run the same ops.

Where this goes beyond the other oracles: the gradient of *every* node after ``backward()``
with a seed of an odd type, ``grad()`` with several outputs and inputs that are any nodes, and
second and third derivatives of whole graphs through ``create_graph``.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from test_torch_compare import VIA_VALUE_API

import autograd
from autograd import Value

NUMBERS = (2, -1, 0, True, np.float64(0.5), np.int64(3), np.float32(0.25), Fraction(3, 2), 1.5)
SPECIAL = (0.0, 1.0, -1.0, 0.5, 2.0)
SEEDS = (1.0, 2, np.float64(-0.5), Fraction(3, 2), True, -3.0)
DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)
GRAPHS = range(240)
CHUNKS = [GRAPHS[i : i + 40] for i in range(0, len(GRAPHS), 40)]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _ops() -> list[tuple[int, callable, object]]:
    """(number of operands, fn, number): every primitive, numbers mixed in (fn's keyword c; the
    tensors get it as a float, torch knows no Fraction), one operand used twice."""
    ops = [(len(points[0]), fn, None) for fn, points in VIA_VALUE_API.values()]
    ops += [(1, lambda a: a * a, None), (1, lambda a: a / a, None), (1, lambda a: a - a, None)]
    ops += [(1, lambda a: a**a, None)]
    for c in NUMBERS:
        ops += [
            (1, lambda a, c: c + a - a * c, c),
            (1, lambda a, c: (c - a) / (2.5 + c), c),
            (1, lambda a, c: c * a + a / (c + 4), c),
            (1, lambda a, c: a**c if float(c) == int(c) else abs(a) ** c, c),
            (1, lambda a, c: (abs(c) + 0.5) ** a, c),
        ]
    return ops


OPS = _ops()


def build_both(seed: int, torch):
    """The graph of `seed` on Values and on float64 tensors: ([leaves], [nodes], root) each.

    An op the engine refuses (outside its domain) is left out of both graphs."""
    from autograd.torch_ops import scalar

    rng = random.Random(seed)
    values = [
        rng.choice(SPECIAL) if rng.random() < 0.3 else rng.uniform(-2, 2)
        for _ in range(rng.randint(1, 4))
    ]
    graphs = [[Value(x) for x in values], [scalar(x) for x in values]]
    leaves = [list(nodes) for nodes in graphs]
    for _ in range(rng.randint(1, 15)):
        arity, fn, c = rng.choice(OPS)
        first = rng.randrange(max(0, len(graphs[0]) - 4), len(graphs[0]))
        picks = [first] + [rng.randrange(len(graphs[0])) for _ in range(arity - 1)]
        number = {} if c is None else {"c": c}
        try:
            out = fn(*[graphs[0][i] for i in picks], **number)
        except DOMAIN_ERRORS:
            continue
        if not abs(out.data) < 1e6:
            continue  # an infinity or a huge number: only rounding to compare
        graphs[0].append(out)
        number = {} if c is None else {"c": float(c)}
        graphs[1].append(fn(*[graphs[1][i] for i in picks], **number))
    extra = rng.sample(range(len(graphs[0])), min(2, len(graphs[0])))
    built = []
    for nodes, first_leaves in zip(graphs, leaves, strict=True):
        root = nodes[-1]
        for k in extra:
            root = root + nodes[k]  # earlier nodes used once more
        built.append((first_leaves, nodes, root))
    return built


def close(got, expected: float, rel: float) -> bool:
    got = float(got.data if isinstance(got, Value) else got)
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    return abs(got - expected) <= rel * max(1.0, abs(expected))


def torch_grads(torch, outputs, inputs, seeds, create_graph=False):
    """torch.autograd.grad with None as 0 (an input the outputs do not use, also when no
    output depends on any input)."""
    if not any(t.requires_grad for t in outputs):
        return [torch.zeros((), dtype=torch.float64) for _ in inputs]
    seeds = [torch.tensor(float(s), dtype=torch.float64) for s in seeds]
    grads = torch.autograd.grad(
        outputs, inputs, seeds, retain_graph=True, create_graph=create_graph, allow_unused=True
    )
    return [torch.zeros((), dtype=torch.float64) if g is None else g for g in grads]


@pytest.mark.parametrize("graphs", CHUNKS, ids=str)
def test_every_nodes_gradient_matches_torch_after_backward_with_any_seed(torch, graphs):
    for seed in graphs:
        (leaves, nodes, root), (_, t_nodes, t_root) = build_both(seed, torch)
        for node, t_node in zip(nodes, t_nodes, strict=True):
            # 1e-9: torch's softplus is x itself above 20, ours x + log1p(e^-x)
            assert close(node.data, t_node.item(), 1e-9), (seed, node)
        grad_seed = random.Random(seed).choice(SEEDS)
        try:
            root.backward(grad_seed)
        except DOMAIN_ERRORS:
            continue  # an infinite derivative (sqrt at 0, log of a base of 0): torch says inf
        wanted = [i for i, t in enumerate(t_nodes) if t.requires_grad]
        expected = torch_grads(torch, [t_root], [t_nodes[i] for i in wanted], [grad_seed])
        for i, e in zip(wanted, expected, strict=True):
            assert close(nodes[i].grad, e.item(), 1e-9), (seed, i, nodes[i].grad, e.item())


@pytest.mark.parametrize("graphs", CHUNKS, ids=str)
def test_grad_of_several_outputs_by_any_nodes_matches_torch(torch, graphs):
    for seed in graphs:
        (_, nodes, root), (_, t_nodes, t_root) = build_both(seed, torch)
        rng = random.Random(-seed)
        nodes, t_nodes = [*nodes, root], [*t_nodes, t_root]
        usable = [i for i, t in enumerate(t_nodes) if t.requires_grad]
        outs = [rng.choice(usable) for _ in range(rng.randint(1, 3))]
        ins = [rng.choice(usable) for _ in range(rng.randint(1, 3))]
        seeds = [rng.choice(SEEDS) for _ in outs]
        try:
            got = autograd.grad([nodes[i] for i in outs], [nodes[i] for i in ins], seeds)
        except DOMAIN_ERRORS:
            continue
        expected = torch_grads(torch, [t_nodes[i] for i in outs], [t_nodes[i] for i in ins], seeds)
        for g, e in zip(got, expected, strict=True):
            assert close(g, e.item(), 1e-9), (seed, outs, ins, g, e.item())


def derivatives(output, leaves, create_graph=False) -> list:
    """grad(output, leaves); all None when output is a plain number (no first derivative made
    a Value that depends on a leaf)."""
    if not isinstance(output, Value):
        return [None] * len(leaves)
    return autograd.grad(output, leaves, create_graph=create_graph, allow_unused=True)


@pytest.mark.parametrize("graphs", CHUNKS, ids=str)
def test_second_and_third_derivatives_of_whole_graphs_match_torch(torch, graphs):
    checked = 0
    for seed in graphs:
        (leaves, _, root), (t_leaves, _, t_root) = build_both(seed, torch)
        weights = [random.Random(seed).uniform(-1, 1) for _ in leaves]
        try:
            firsts = autograd.grad(root, leaves, create_graph=True, allow_unused=True)
            mix = sum(w * g for w, g in zip(weights, firsts, strict=True) if g is not None)
            seconds = derivatives(mix, leaves, create_graph=True)
            thirds = derivatives(sum(g for g in seconds if g is not None), leaves)
        except DOMAIN_ERRORS:
            continue
        t_firsts = torch_grads(torch, [t_root], t_leaves, [1.0], create_graph=True)
        t_mix = sum(w * g for w, g in zip(weights, t_firsts, strict=True))
        t_seconds = torch_grads(torch, [t_mix], t_leaves, [1.0], create_graph=True)
        if not all(torch.isfinite(g) for g in t_seconds):
            continue  # torch's own NaN (its x ** y rule at x = 0 differentiated again)
        for got, e in zip(seconds, t_seconds, strict=True):
            assert close(0.0 if got is None else got, e.item(), 1e-7), (seed, got, e.item())
        t_thirds = torch_grads(torch, [sum(t_seconds)], t_leaves, [1.0])
        for got, e in zip(thirds, t_thirds, strict=True):
            assert close(0.0 if got is None else got, e.item(), 1e-6), (seed, got, e.item())
        checked += 1
    assert checked >= len(graphs) // 2  # most graphs are compared, not skipped
