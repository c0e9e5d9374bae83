"""Property tests: random expression graphs against independent oracles (sympy, PyTorch).

Hypothesis draws a few leaves and a list of ops whose operands are earlier nodes, so
subexpressions are shared; the output is the sum of every op node, so each node is used at
least once more.  The same graph is built with the engine, with sympy (symbols for the leaves,
differentiated symbolically and evaluated to 30 digits) and, when importable, with PyTorch in
float64; values and the gradient of every leaf must agree.  Domains are kept safe by
construction (log of x*x + 1, exp of tanh) and draws too close to a kink or too large are
rejected.  Kinked functions are sympy Piecewise expressions, which sympy differentiates through
compositions (it leaves d sign(u(x))/dx unevaluated).  The same graphs, replayed on the tape
over a batch (with a dense layer and a log-softmax on top), must give what the eager engine
gives sample by sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sympy
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import autograd
import nn.functional as F
from autograd import Value

KINK_MARGIN = 1e-3
MAX_MAGNITUDE = 1e3  # larger intermediates are rejected: they only measure rounding
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Op:
    """One op of a random graph, written for the engine, for sympy and (optionally) for torch."""

    arity: int
    engine: Callable
    sympy: Callable
    torch: Callable | None = None  # None: the engine's lambda works on tensors too
    safe: Callable[..., bool] = lambda *xs: True  # on the operands' floats


def _away_from_zero(u, *rest) -> bool:
    return abs(u) > KINK_MARGIN


def _torch_softplus(u):
    import torch.nn.functional as F

    return F.softplus(u)


def _torch_leaky_relu(u):
    import torch.nn.functional as F

    return F.leaky_relu(u, 0.1)


OPS = {
    # arithmetic, with numbers mixed in both ways (reflected operators)
    "add": Op(2, lambda u, v: u + v, lambda u, v: u + v),
    "sub": Op(2, lambda u, v: u - v, lambda u, v: u - v),
    "mul": Op(2, lambda u, v: u * v, lambda u, v: u * v),
    "div": Op(2, lambda u, v: u / v, lambda u, v: u / v, safe=lambda u, v: abs(v) > 0.2),
    "affine": Op(2, lambda u, v: 1.5 - 2 * u + v / 4, lambda u, v: 1.5 - 2 * u + v / 4),
    "reciprocal": Op(1, lambda u: 1 / (u * u + 1), lambda u: 1 / (u * u + 1)),
    "neg": Op(1, lambda u: -u, lambda u: -u),
    # powers: number exponent, Value exponent, number base
    "square": Op(1, lambda u: u**2, lambda u: u**2),
    "cube": Op(1, lambda u: u**3, lambda u: u**3),
    "sqrt_pow": Op(1, lambda u: (u * u + 1) ** 0.5, lambda u: (u * u + 1) ** sympy.Rational(1, 2)),
    "value_pow": Op(
        2, lambda u, v: (v * v + 1) ** u.tanh(), lambda u, v: (v * v + 1) ** sympy.tanh(u)
    ),
    "two_to_the": Op(1, lambda u: 2 ** u.tanh(), lambda u: 2 ** sympy.tanh(u)),
    # exponentials and logarithms on safe domains
    "exp_tanh": Op(1, lambda u: u.tanh().exp(), lambda u: sympy.exp(sympy.tanh(u))),
    "log_square_plus_1": Op(1, lambda u: (u * u + 1).log(), lambda u: sympy.log(u * u + 1)),
    "log_exp": Op(1, lambda u: u.sin().exp().log(), lambda u: sympy.log(sympy.exp(sympy.sin(u)))),
    "sqrt_square_plus_1": Op(1, lambda u: (u * u + 1).sqrt(), lambda u: sympy.sqrt(u * u + 1)),
    # smooth functions
    "sin": Op(1, lambda u: u.sin(), sympy.sin),
    "cos": Op(1, lambda u: u.cos(), sympy.cos),
    "tanh": Op(1, lambda u: u.tanh(), sympy.tanh),
    "sigmoid": Op(1, lambda u: u.sigmoid(), lambda u: 1 / (1 + sympy.exp(-u))),
    "softplus": Op(
        1, lambda u: u.softplus(), lambda u: sympy.log(1 + sympy.exp(u)), torch=_torch_softplus
    ),
    # kinks: only away from them
    # (Abs, Max and Heaviside rather than Piecewise: sympy folds x/relu(x) into a Piecewise whose
    # other branch is zoo, and then cannot evaluate its conditions, "Invalid comparison of
    # non-real zoo"; hypothesis found relu, div, abs at x = 1)
    "abs": Op(1, abs, lambda u: sympy.Abs(u), safe=_away_from_zero),
    "relu": Op(
        1,
        lambda u: u.relu(),
        lambda u: sympy.Max(u, 0),
        safe=_away_from_zero,
    ),
    "leaky_relu": Op(
        1,
        lambda u: u.leaky_relu(0.1),
        lambda u: sympy.Max(u, sympy.Rational(1, 10) * u),
        torch=_torch_leaky_relu,
        safe=_away_from_zero,
    ),
    "step_gate": Op(
        2,
        lambda u, v: u.step() * v,
        lambda u, v: sympy.Heaviside(u, 1) * v,
        torch=lambda u, v: (u >= 0).double() * v,
        safe=_away_from_zero,
    ),
}


@st.composite
def graphs(draw, max_ops: int = 8):
    """(leaf values, [(op name, operand indices)]): node i > leaves is op number i - leaves."""
    n_leaves = draw(st.integers(1, 4))
    leaves = draw(st.lists(st.floats(-2, 2), min_size=n_leaves, max_size=n_leaves))
    ops = []
    for k in range(draw(st.integers(1, max_ops))):
        name = draw(st.sampled_from(sorted(OPS)))
        operands = tuple(draw(st.integers(0, n_leaves + k - 1)) for _ in range(OPS[name].arity))
        ops.append((name, operands))
    return leaves, ops


def build(ops, leaves, flavour: str):
    """Run the graph on leaves (Values, sympy symbols or tensors); return the output."""
    nodes = list(leaves)
    for name, operands in ops:
        op = OPS[name]
        fn = {"engine": op.engine, "sympy": op.sympy, "torch": op.torch or op.engine}[flavour]
        nodes.append(fn(*(nodes[i] for i in operands)))
    return sum(nodes[len(leaves) + 1 :], nodes[len(leaves)])


def engine_graph(leaf_values, ops, reject: Callable[[bool], object] = assume):
    """The engine's leaves and output; ``reject(ok)`` drops draws near a kink or too large."""
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(leaf_values)]
    nodes = list(leaves)
    for name, operands in ops:
        op = OPS[name]
        args = [nodes[i] for i in operands]
        reject(op.safe(*(a.data for a in args)))
        out = op.engine(*args)
        reject(abs(out.data) < MAX_MAGNITUDE)
        nodes.append(out)
    return leaves, build(ops, leaves, "engine")


def _must_hold(ok: bool) -> None:
    assert ok, "the fixed graph left the safe domain"


def sympy_oracle(leaf_values, ops):
    """(value, [d out / d leaf]) evaluated from sympy's symbolic derivatives."""
    symbols = sympy.symbols(f"x0:{len(leaf_values)}", real=True)
    expr = build(ops, symbols, "sympy")
    at = {s: sympy.Float(x, 30) for s, x in zip(symbols, leaf_values, strict=True)}
    value = float(expr.evalf(30, subs=at))
    grads = [float(sympy.diff(expr, s).evalf(30, subs=at)) for s in symbols]
    return value, grads


def close(got: float, expected: float, scale: float = 1.0) -> bool:
    return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9 * scale)


def assert_matches(out, leaves, value: float, grads: list[float]) -> None:
    """The engine's output and leaf gradients agree with an oracle's `value` and `grads`."""
    assert close(out.data, value), (out.data, value)
    for leaf, expected in zip(leaves, grads, strict=True):
        assert close(leaf.grad, expected, max(1.0, abs(expected))), (
            leaf.label,
            leaf.grad,
            expected,
        )


@given(graphs())
@SETTINGS
def test_random_graphs_match_sympy_values_and_gradients(graph):
    leaf_values, ops = graph
    leaves, out = engine_graph(leaf_values, ops)
    out.backward()
    value, grads = sympy_oracle(leaf_values, ops)
    assert_matches(out, leaves, value, grads)


@given(graphs())
@SETTINGS
def test_grad_function_matches_backward_on_random_graphs(graph):
    leaf_values, ops = graph
    leaves, out = engine_graph(leaf_values, ops)
    via_grad = autograd.grad(out, leaves, allow_unused=True)
    assert all(leaf.grad == 0.0 for leaf in leaves)  # grad() leaves .grad alone
    out.backward()
    for leaf, g in zip(leaves, via_grad, strict=True):
        assert leaf.grad == (0.0 if g is None else g)


@given(graphs(max_ops=5))
@example(([1.0, 1.0, 0.0], [("div", (0, 1)), ("abs", (3,))]))  # |x0/x1|: sympy's d sign(u)/dx
@settings(SETTINGS, max_examples=40)
def test_random_graphs_second_derivatives_match_sympy(graph):
    leaf_values, ops = graph
    leaves, out = engine_graph(leaf_values, ops)
    symbols = sympy.symbols(f"x0:{len(leaf_values)}", real=True)
    expr = build(ops, symbols, "sympy")
    at = {s: sympy.Float(x, 30) for s, x in zip(symbols, leaf_values, strict=True)}
    firsts = autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    for first, si in zip(firsts, symbols, strict=True):
        if first is None:
            continue
        seconds = autograd.grad(first, leaves, allow_unused=True)
        for second, sj in zip(seconds, symbols, strict=True):
            expected = float(_without_sign_slopes(sympy.diff(expr, si, sj)).evalf(30, subs=at))
            got = 0.0 if second is None else second
            assert close(got, expected, max(1.0, abs(expected))), (si, sj, got, expected)


def _without_sign_slopes(expr):
    """expr with every d sign(u)/dx set to 0, its value off the kink (the graphs stay off it):
    sympy leaves the derivative of sign(u) unevaluated for a compound u, as in |x0 / x1|."""
    return expr.replace(
        lambda e: isinstance(e, sympy.Derivative) and isinstance(e.expr, sympy.sign),
        lambda e: sympy.S.Zero,
    )


def test_random_graphs_match_torch_float64():
    torch = pytest.importorskip("torch")

    @given(graphs())
    @SETTINGS
    def check(graph):
        leaf_values, ops = graph
        leaves, out = engine_graph(leaf_values, ops)
        out.backward()
        tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaf_values]
        t_out = build(ops, tensors, "torch")
        t_grads = torch.autograd.grad(t_out, tensors, allow_unused=True)
        grads = [0.0 if g is None else g.item() for g in t_grads]
        assert_matches(out, leaves, t_out.item(), grads)

    check()


def test_shared_subexpression_graph_matches_sympy():
    """A fixed graph with heavy sharing: the oracle comparison runs even without hypothesis luck."""
    leaf_values = [0.7, -1.3]
    ops = [("mul", (0, 1)), ("tanh", (2,)), ("add", (3, 3)), ("mul", (4, 2)), ("sub", (5, 0))]
    leaves, out = engine_graph(leaf_values, ops, reject=_must_hold)
    out.backward()
    value, grads = sympy_oracle(leaf_values, ops)
    assert close(out.data, value)
    assert [close(leaf.grad, g, abs(g)) for leaf, g in zip(leaves, grads, strict=True)] == [
        True,
        True,
    ]


@st.composite
def batches(draw, leaf_values: list[float]):
    """(number of inputs, samples): the first leaves are per-sample inputs (the drawn values
    are the first sample), the others parameters shared by every sample."""
    n_inputs = draw(st.integers(1, len(leaf_values)))
    more = draw(
        st.lists(st.lists(st.floats(-2, 2), min_size=n_inputs, max_size=n_inputs), max_size=3)
    )
    return n_inputs, [leaf_values[:n_inputs], *more]


LAYER_ACTIVATIONS = {"linear": lambda z: z, "tanh": lambda z: z.tanh(), "relu": lambda z: z.relu()}


@st.composite
def dense_layers(draw, n_inputs: int):
    """None, or (activation, weights, biases) of units act(b_k + sum_j w_kj x_j) over the inputs:
    the pattern the tape runs as one matrix product."""
    units = draw(st.integers(0, 3))
    if not units:
        return None
    weights = [
        draw(st.lists(st.floats(-2, 2), min_size=n_inputs, max_size=n_inputs)) for _ in range(units)
    ]
    biases = draw(st.lists(st.floats(-1, 1), min_size=units, max_size=units))
    log_softmax = draw(st.booleans())  # on top of the units: one group on the tape
    return draw(st.sampled_from(sorted(LAYER_ACTIVATIONS))), weights, biases, log_softmax


@given(graphs(), st.data())
@SETTINGS
def test_random_graphs_replay_on_the_tape_as_the_eager_engine_computes_them(graph, data):
    # The eager engine as the oracle of the tape: sums fused, levels grouped, a dense layer
    # with its activation (one matrix product on the tape) and a log-softmax over its units
    # (one group), over a batch of samples.
    leaf_values, ops = graph
    n_inputs, samples = data.draw(batches(leaf_values))
    layer = data.draw(dense_layers(n_inputs))
    params = [Value(x) for x in leaf_values[n_inputs:]]
    if layer is not None:
        act, weights, biases, log_softmax = layer
        W = [[Value(w) for w in row] for row in weights]
        b = [Value(x) for x in biases]
        params += [p for row in W for p in row] + b

    def fn(*xs, reject=None):  # reject: eager's check of the draw (a traced z has no number)
        out = build(ops, [*xs, *params[: len(leaf_values) - n_inputs]], "engine")
        if layer is None:
            return out
        units = []
        for row, bias in zip(W, b, strict=True):  # as nn.Neuron writes it: sum(products, b)
            z = sum((w * x for w, x in zip(row, xs, strict=True)), bias)
            if reject is not None:
                reject(act != "relu" or abs(z.data) > KINK_MARGIN)
            units.append(LAYER_ACTIVATIONS[act](z))
        if not log_softmax:
            return sum(units, out)
        logp = F.log_softmax(units)  # read twice, one output weighted by an input (a target)
        return out + logp[0] - logp[len(logp) // 2] * xs[0]

    outputs = []
    for row in samples:  # eager, sample by sample; the parameters' gradients add up
        nodes = [*(Value(x) for x in row), *params[: len(leaf_values) - n_inputs]]
        for name, operands in ops:  # draws near a kink or too large are rejected
            args = [nodes[i] for i in operands]
            assume(OPS[name].safe(*(a.data for a in args)))
            nodes.append(OPS[name].engine(*args))
            assume(abs(nodes[-1].data) < MAX_MAGNITUDE)
        out = fn(*nodes[:n_inputs], reject=assume)
        out.backward()
        outputs.append(out.data)
    eager_grads = [p.grad for p in params]

    tape = autograd.trace(fn, n_inputs, example=samples[0], parameters=params)
    got = tape(samples)
    for value, expected in zip(got.tolist(), outputs, strict=True):
        assert close(value, expected, max(1.0, abs(expected))), (value, expected)
    for grad, expected in zip(tape.gradients().tolist(), eager_grads, strict=True):
        assert close(grad, expected, max(1.0, abs(expected))), (grad, expected)
