"""The traced tape against the eager engine: same outputs, same gradients, clear refusals."""

from __future__ import annotations

import math
import random
import re
import zlib

import numpy as np
import pytest

import autograd.tape.groups as tape_groups
import nn.functional as F
from autograd import TracingError, Value, no_grad, trace
from autograd.tape.dense import DenseGroup

ACTIVATIONS = {
    "relu": lambda v: v.relu(),
    "tanh": lambda v: v.tanh(),
    "sigmoid": lambda v: v.sigmoid(),
    "leaky_relu": lambda v: v.leaky_relu(0.1),
    "abs": abs,
    "sin": lambda v: v.sin(),
}


def make_mlp(sizes, seed=0):
    """Weights of a small MLP as lists of Values: [(w, b) per neuron] per layer."""
    rng = random.Random(seed)
    return [
        [
            ([Value(rng.uniform(-1, 1)) for _ in range(nin)], Value(rng.uniform(-0.5, 0.5)))
            for _ in range(nout)
        ]
        for nin, nout in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def run_mlp(layers, x, activation):
    for i, layer in enumerate(layers):
        x = [sum((wi * xi for wi, xi in zip(w, x, strict=True)), b) for w, b in layer]
        if i < len(layers) - 1:
            x = [activation(v) for v in x]
    return x


def parameters(layers):
    return [p for layer in layers for w, b in layer for p in [*w, b]]


def eager_gradients(per_sample_loss, X, params, mean=True):
    for p in params:
        p.grad = 0.0
    losses = [per_sample_loss(*[Value(float(v)) for v in row]) for row in X]
    total = sum(losses) * (1.0 / len(losses) if mean else 1.0)
    total.backward()
    return np.array([loss.data for loss in losses]), np.array([p.grad for p in params])


def tape_gradients(tape, X, params, mean=True):
    for p in params:
        p.grad = 0.0
    out = tape(X)
    tape.backward(reduction="mean" if mean else "sum")
    return out, np.array([p.grad for p in params])


LOSSES = {
    "hinge": lambda score, y: (1 + -y * score).relu(),
    "squared": lambda score, y: (score - y) ** 2,
    "logistic": lambda score, y: (1 + (-y * score).exp()).log(),
    "absolute": lambda score, y: abs(score - y),
}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_tape_matches_eager_outputs_and_gradients(activation, loss):
    layers = make_mlp([2, 5, 4, 1], seed=zlib.crc32(f"{activation}-{loss}".encode()))
    params = parameters(layers)
    rng = np.random.default_rng(1)
    XY = np.column_stack([rng.normal(size=(17, 2)), np.sign(rng.normal(size=17))])

    def per_sample(x1, x2, y):
        return LOSSES[loss](run_mlp(layers, [x1, x2], ACTIVATIONS[activation])[0], y)

    eager_out, eager_grads = eager_gradients(per_sample, XY, params)
    tape_out, tape_grads = tape_gradients(trace(per_sample, 3), XY, params)
    np.testing.assert_allclose(tape_out, eager_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tape_grads, eager_grads, rtol=1e-9, atol=1e-14)


def test_big_groups_run_in_chunks_with_the_same_numbers(monkeypatch):
    # 40 numbers per chunk: with 17 samples, groups run 2 members at a time (odd sizes end
    # with a chunk of one)
    monkeypatch.setattr(tape_groups, "CHUNK_FLOATS", 40)
    layers = make_mlp([2, 6, 5, 1], seed=7)
    params = parameters(layers)
    rng = np.random.default_rng(2)
    XY = np.column_stack([rng.normal(size=(17, 2)), np.sign(rng.normal(size=17))])

    def per_sample(x1, x2, y):
        return LOSSES["squared"](run_mlp(layers, [x1, x2], ACTIVATIONS["tanh"])[0], y)

    eager_out, eager_grads = eager_gradients(per_sample, XY, params)
    tape_out, tape_grads = tape_gradients(trace(per_sample, 3), XY, params)
    np.testing.assert_allclose(tape_out, eager_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tape_grads, eager_grads, rtol=1e-9, atol=1e-14)


def test_tape_reads_parameters_anew_on_every_call():
    w = Value(2.0)
    tape = trace(lambda x: w * x, 1)
    assert tape(np.array([[3.0]])).tolist() == [6.0]
    w.data = -1.0
    assert tape(np.array([[3.0]])).tolist() == [-3.0]


def test_tape_backward_accumulates_like_eager():
    w = Value(2.0)
    tape = trace(lambda x: w * w * x, 1)
    tape(np.array([[1.0], [2.0]]))
    tape.backward()
    tape.backward()
    assert w.grad == pytest.approx(2 * (2 * 2.0 * (1.0 + 2.0)))


def test_tape_with_several_outputs_and_weighted_grad_outputs():
    a, b = Value(1.5), Value(-0.5)
    tape = trace(lambda x: [a * x, (b * x).tanh()], 1)
    X = np.array([[1.0], [2.0], [3.0]])
    out = tape(X)
    assert out.shape == (3, 2)
    weights = np.array([[1.0, 0.0], [0.5, 2.0], [0.0, 1.0]])
    tape.backward(grad_outputs=weights)
    expected_a = float(weights[:, 0] @ X[:, 0])
    expected_b = float(
        sum(
            w * (1 - np.tanh(-0.5 * x) ** 2) * x
            for w, x in zip(weights[:, 1], X[:, 0], strict=True)
        )
    )
    assert a.grad == pytest.approx(expected_a)
    assert b.grad == pytest.approx(expected_b)


def test_one_weight_per_sample_weights_a_single_output_as_eager_does():
    w, v = Value(0.5), Value(-1.5)
    tape = trace(lambda x: (x * w + v).tanh(), 1)
    X, weights = [1.0, 2.0, 3.0], [1.0, -2.0, 0.5]
    tape(np.array(X))
    for x, s in zip(X, weights, strict=True):
        ((Value(x) * w + v).tanh() * s).backward()  # eager: the weighted sum of the samples
    eager = [w.grad, v.grad]
    for given in (weights, np.array(weights), np.array(weights)[:, None]):  # (batch,), (batch, 1)
        np.testing.assert_allclose(tape.gradients(given), eager, rtol=1e-12)


def test_tape_reuses_its_arrays_between_steps():
    w = Value(0.3)
    tape = trace(lambda x: (w * x).relu(), 1)
    X = np.ones((8, 1))
    tape(X)
    tape.backward()
    V, G, scratch = tape._buffers[8]
    tape(X)
    tape.backward()
    assert tape._buffers[8][0] is V and tape._buffers[8][1] is G
    assert all(a is b for a, b in zip(tape._buffers[8][2], scratch, strict=True))


def test_parameters_and_data_dependent_ops_are_vectorised_per_sample():
    w = Value(1.0)
    tape = trace(lambda x: (w * x).relu() + (w * x).step() + abs(w * x), 1)
    X = np.array([[-2.0], [0.5], [3.0]])
    np.testing.assert_allclose(tape(X), [0 + 0 + 2.0, 0.5 + 1 + 0.5, 3.0 + 1 + 3.0])
    tape.backward()
    # d/dw = relu'(wx) x + 0 + sign(wx) x
    assert w.grad == pytest.approx((0 + 2.0) + (0.5 + 0.5) + (3.0 + 3.0))


def test_comparison_while_tracing_is_refused():
    w = Value(1.0)

    def fn(x):
        return x * w if x > 0 else -x

    with pytest.raises(TracingError, match="comparing Values while tracing"):
        trace(fn, 1)


X_SIGNS = np.array([[-2.0], [1.0], [3.0]])  # both sides of a branch on the sign


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, w: w * x if x.data > 0 else (w * x) * 0.0,  # a branch on a computed value
        lambda x, w: w * Value(x.data),  # a number copied out of the graph
        lambda x, w: w * float(x * x),
        lambda x, w: w * x if (w * x).data > 0 else w,
    ],
    ids=["branch", "copy-data", "float", "branch-on-product"],
)
def test_reading_the_number_of_a_traced_value_is_refused(fn):
    w = Value(2.0)
    with pytest.raises(TracingError, match="computed from (its|the) inputs"):
        trace(lambda x: fn(x, w), 1, example=[1.0])


def test_comparing_a_traced_value_with_a_number_is_refused():
    # eager hands a loss its targets as numbers, the tape as Values: `t == 1` must not
    # quietly become identity (always False) on the tape
    w = Value(0.5)

    def loss(x, t):
        p = (w * x).sigmoid()
        return -(p.log()) if t == 1 else -((1 - p).log())

    with pytest.raises(TracingError, match="comparing a Value computed from the inputs with 1"):
        trace(loss, 2, example=[1.0, 1.0])


def test_identity_comparisons_and_dict_keys_still_work_while_tracing():
    w = Value(1.0)

    def fn(x):
        y = w * x
        assert y == y and y != x and {y: 1}[y] == 1
        return y

    tape = trace(fn, 1)
    assert tape(np.array([[3.0]]))[0] == 3.0


def test_a_traced_value_cut_from_the_graph_is_refused():
    w = Value(2.0)

    def fn(x):
        with no_grad():
            s = x * x  # would be frozen at the example's x*x
        return w * s

    with pytest.raises(TracingError, match="cut them from the graph"):
        trace(fn, 1)


def test_a_graph_that_changes_from_call_to_call_is_refused():
    w, calls = Value(1.0), []

    def fn(x):
        calls.append(1)
        return w * x if len(calls) % 2 else w + x

    with pytest.raises(TracingError, match="two different graphs from the same inputs"):
        trace(fn, 1)


def _shared(x, w):
    y = x * w
    return y + y


GRAPH_PAIRS = {
    # two graphs fn alternates between: each pair differs in one way only
    "operands swapped": (lambda x, w: x * w, lambda x, w: w * x),
    "another constant": (lambda x, w: 2.0 * x * w, lambda x, w: 3.0 * x * w),
    "another op": (lambda x, w: (x * w).tanh(), lambda x, w: (x * w).sigmoid()),
    "one node used twice, or two equal nodes": (_shared, lambda x, w: x * w + x * w),
    "one more op": (lambda x, w: x * w, lambda x, w: (x * w).relu()),
    "another input": (lambda x, w: x * w, lambda x, w: w * w),
    # a leaf Value fn makes itself, e.g. noise Value(random.gauss(0, 1)): a parameter of the
    # tape, which would freeze the first recording's number
    "another number in a Value made by fn": (
        lambda x, w: x * w + Value(0.25),
        lambda x, w: x * w + Value(0.75),
    ),
}


@pytest.mark.parametrize("case", sorted(GRAPH_PAIRS))
def test_two_recordings_that_differ_in_any_one_way_are_refused(case):
    w, calls = Value(1.5), []

    def fn(x):
        calls.append(1)
        return GRAPH_PAIRS[case][len(calls) % 2](x, w)

    with pytest.raises(TracingError, match="two different graphs from the same inputs"):
        trace(fn, 1)
    for variant in GRAPH_PAIRS[case]:  # each alone traces
        trace(lambda x, variant=variant: variant(x, w), 1)


def test_an_example_near_a_domain_edge_traces():
    # the second recording uses the same example, so it cannot leave the op's domain
    w = Value(1.0)
    tape = trace(lambda x: (1.0 - w * x).log(), 1, example=[0.5])
    np.testing.assert_allclose(tape(np.array([[0.5], [0.9]])), np.log([0.5, 0.1]))


def test_one_value_returned_twice_gets_both_gradients():
    w = Value(2.0)

    def fn(x):
        y = w * x
        return [y, y]

    tape = trace(fn, 1)
    tape(X_SIGNS)
    tape.backward()
    assert w.grad == pytest.approx(2 * X_SIGNS.sum())  # eager: d(y + y)/dw summed over samples


def test_a_failed_call_leaves_nothing_for_backward():
    v = Value(1.0)
    tape = trace(lambda x: (v * x).log(), 1)
    tape(np.array([[1.0], [2.0]]))
    with pytest.raises(FloatingPointError, match="log"):
        tape(np.array([[-1.0], [5.0]]))
    with pytest.raises(RuntimeError, match="forward call first"):
        tape.backward()


def test_backward_treats_a_grad_of_none_as_zero():
    w = Value(2.0)
    tape = trace(lambda x: w * x, 1)
    tape(X_SIGNS)
    w.grad = None
    tape.backward()
    assert w.grad == pytest.approx(X_SIGNS.sum())


def test_overflow_in_replay_is_an_overflow_error_naming_op_sample_and_operands():
    w = Value(1e150)
    tape = trace(lambda x: (w * x) ** 2, 1)
    with pytest.raises(OverflowError, match=r"pow .*overflows.* sample 1: pow\(1e\+160, 2\.0\)"):
        tape(np.array([[1.0], [1e10]]))


def test_wrong_batch_shape_names_the_expected_shape():
    tape = trace(lambda a, b: a * b, 2)
    with pytest.raises(
        ValueError, match=r"expected a batch of shape \(samples, 2\), got shape \(4, 3\)"
    ):
        tape(np.ones((4, 3)))


@pytest.mark.parametrize(
    "fn, X, call",
    [
        (lambda x: x.log(), [1.0, -1.0, -2.0], "sample 1: log(-1.0)"),
        (lambda x: (x - 2.0).log(), [3.0, 4.0, 2.0], "sample 2: log(0.0)"),
        (lambda x: 1.0 / (x - 1.0), [3.0, 1.0], "sample 1: div(1.0, 0.0)"),
        (lambda x: x.sqrt(), [4.0, 1.0, -9.0], "sample 2: sqrt(-9.0)"),
    ],
)
def test_domain_error_during_replay_names_the_op_sample_and_operands(fn, X, call):
    # as the eager engine names the op and its operands (log(-1.0): ...), and as overflow does
    tape = trace(fn, 1, example=[X[0]])
    with pytest.raises(FloatingPointError, match=re.escape(f"over the batch failed at {call}: ")):
        tape(np.array(X))


def test_backward_before_forward_is_refused():
    tape = trace(lambda x: x * Value(2.0), 1)
    with pytest.raises(RuntimeError, match="forward call first"):
        tape.backward()


def test_fn_returning_a_number_is_refused():
    with pytest.raises(TracingError, match="must return a Value"):
        trace(lambda x: 3.0, 1)


def test_long_python_sums_are_fused_into_one_group():
    ws = [Value(float(i)) for i in range(50)]
    # w * x * x: the sum's terms are not parameter x input products, so no dense layer
    tape = trace(lambda x: sum((w * x * x for w in ws), Value(0.0)), 1)
    assert [type(g) for g in tape.groups] == [
        tape_groups.OpGroup,
        tape_groups.OpGroup,
        tape_groups.SumGroup,
    ]
    assert [g.name for g in tape.groups] == ["mul", "mul", "sum"]
    tape(np.array([[2.0]]))
    tape.backward()
    assert all(w.grad == 4.0 for w in ws)


def test_each_layer_of_an_mlp_runs_as_one_matrix_product():
    layers = make_mlp([2, 5, 4, 1], seed=3)
    tape = trace(lambda x1, x2: run_mlp(layers, [x1, x2], ACTIVATIONS["tanh"])[0], 2)
    dense = [g for g in tape.groups if isinstance(g, DenseGroup)]
    assert [g.weights.shape for g in dense] == [(5, 2), (4, 5), (1, 4)]
    assert not any(g.name in ("mul", "sum") for g in tape.groups)


def _dense_case(name: str):
    """(params, per-sample fn) for layouts that are, or are not, dense layers."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    W = [[Value(float(rng.normal())) for _ in range(3)] for _ in range(4)]
    b = [Value(float(rng.normal())) for _ in range(4)]
    params = [w for row in W for w in row] + b

    made = []  # every unit's products, so one can be used again

    def units(xs, weights=W, order=None):
        out = []
        for k, row in enumerate(weights):
            js = order(k) if order else range(3)
            terms = [row[j] * xs[j] if k % 2 else xs[j] * row[j] for j in js]  # both orders
            made.append(terms[0])
            if name != "no bias":
                terms = [b[k], *terms] if name != "bias last" else [*terms, b[k]]
            out.append(sum(terms[1:], terms[0]))
        return out

    layouts = {
        "bias": lambda xs: units(xs),
        "no bias": lambda xs: units(xs),
        "bias last": lambda xs: units(xs),
        "inputs in another order per unit": lambda xs: units(
            xs, order=lambda k: [(k + j) % 3 for j in range(3)]
        ),
        "a weight used twice": lambda xs: units(xs, weights=[W[0], W[0], W[2], W[3]]),
        "a product used twice": lambda xs: units(xs),
    }

    def per_sample(x1, x2, x3, t):
        made.clear()
        h = [u.tanh() for u in layouts[name]([x1, x2, x3 * x1])]
        if name == "a product used twice":
            h.append(made[0] * 0.5)
        return (sum(h[1:], h[0]) - t) ** 2

    return params, per_sample


@pytest.mark.parametrize(
    "name",
    [
        "bias",
        "no bias",
        "bias last",
        "inputs in another order per unit",
        "a weight used twice",
        "a product used twice",
    ],
)
def test_dense_and_not_quite_dense_layouts_give_eager_gradients(name):
    params, per_sample = _dense_case(name)
    rng = np.random.default_rng(5)
    XT = rng.normal(size=(13, 4))
    eager_out, eager_grads = eager_gradients(per_sample, XT, params)
    tape = trace(per_sample, 4)
    tape_out, tape_grads = tape_gradients(tape, XT, params)
    np.testing.assert_allclose(tape_out, eager_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tape_grads, eager_grads, rtol=1e-9, atol=1e-14)
    layers = sum(isinstance(g, DenseGroup) for g in tape.groups)
    expected = {
        "bias": 1,
        "no bias": 1,
        "bias last": 0,  # the recorded sum is not bias-first: left to the general path
        "inputs in another order per unit": 3,  # units with the same order share a layer
        "a weight used twice": 2,  # the unit sharing W[0] goes to a layer of its own
        "a product used twice": 1,  # unit 0 is not dense; units 1-3 are a layer
    }
    assert layers == expected[name]


FUSION_CASES = {
    # how the units z_k = b_k + sum_j W_kj x_j are used -> the dense group's name
    "every unit feeds tanh": (lambda zs: [z.tanh() for z in zs], "dense+tanh"),
    "every unit feeds relu": (lambda zs: [z.relu() for z in zs], "dense+relu"),
    "units feed tanh or sin": (
        lambda zs: [z.tanh() if k % 2 else z.sin() for k, z in enumerate(zs)],
        "dense",
    ),
    "a unit is also read directly": (lambda zs: [z.tanh() for z in zs] + [zs[0] * 0.5], "dense"),
    "leaky_relu takes a second operand": (lambda zs: [z.leaky_relu(0.1) for z in zs], "dense"),
    "a unit is an output": (lambda zs: [z.tanh() for z in zs], "dense"),
}


@pytest.mark.parametrize("case", sorted(FUSION_CASES))
def test_a_layer_s_activation_is_fused_only_when_every_unit_feeds_it_alone(case):
    activate, name = FUSION_CASES[case]
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    W = [[Value(float(rng.normal())) for _ in range(3)] for _ in range(4)]
    b = [Value(float(rng.normal())) for _ in range(4)]
    params = [w for row in W for w in row] + b

    def per_sample(x1, x2, x3, t):
        xs = [x1, x2, x3]
        zs = [
            sum((w * x for w, x in zip(row, xs, strict=True)), bk)
            for row, bk in zip(W, b, strict=True)
        ]
        h = activate(zs)
        loss = (sum(h[1:], h[0]) - t) ** 2
        return [loss, zs[1]] if case == "a unit is an output" else loss

    XT = rng.normal(size=(11, 4))
    tape = trace(per_sample, 4)
    assert [g.name for g in tape.groups if isinstance(g, DenseGroup)] == [name]
    seeds = np.column_stack([np.ones(11), np.linspace(-1, 1, 11)])  # both outputs, if two
    for p in params:
        p.grad = 0.0
    outs = tape(XT)
    tape.backward(grad_outputs=seeds[:, : tape.n_outputs], reduction="sum")
    tape_grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    eager = [per_sample(*[Value(float(v)) for v in row]) for row in XT]
    total = Value(0.0)
    for result, weights in zip(eager, seeds.tolist(), strict=True):
        for out, w in zip(result if isinstance(result, list) else [result], weights, strict=False):
            total = total + out * w
    total.backward()
    eager_outs = [[v.data for v in (r if isinstance(r, list) else [r])] for r in eager]
    np.testing.assert_allclose(outs.reshape(11, -1), eager_outs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tape_grads, [p.grad for p in params], rtol=1e-9, atol=1e-14)


def _logits(ws, x1, x2):
    return [w1 * x1 + w2 * x2 for w1, w2 in ws]


def _log_softmax_by_hand(xs, reuse_shift: bool):
    # nn.functional.log_softmax's graph, written out; optionally a shifted value read twice
    m = xs[0]
    for x in xs[1:]:
        m = m + (x - m).relu()
    zs = [x - m for x in xs]
    exps = [z.exp() for z in zs]
    log_total = sum(exps[1:], exps[0]).log()
    out = [z - log_total for z in zs]
    return out + [zs[0] * 0.5] if reuse_shift else out


SOFTMAX_CASES = {
    # name: (classes, scale of the logits, per-sample loss from logits and target, fused?)
    "one class": (1, 1.0, lambda zs, t: -F.log_softmax(zs)[0] * t, True),
    "three classes": (3, 1.0, lambda zs, t: -F.log_softmax(zs)[1] * t, True),
    "ten classes, cross-entropy": (10, 1.0, lambda zs, t: F.cross_entropy(zs, 3) * t, True),
    "large logits": (4, 400.0, lambda zs, t: -F.log_softmax(zs)[2] * t, True),
    "tied logits": (4, 0.0, lambda zs, t: -F.log_softmax(zs)[0] * t, True),
    "softmax, not log": (4, 1.0, lambda zs, t: F.softmax(zs)[1] * t, False),
    "a shifted value read twice": (
        4,
        1.0,
        lambda zs, t: sum(_log_softmax_by_hand(zs, reuse_shift=True)) * t,
        False,
    ),
    "by hand, as nn writes it": (
        4,
        1.0,
        lambda zs, t: sum(_log_softmax_by_hand(zs, reuse_shift=False)) * t,
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(SOFTMAX_CASES))
def test_log_softmax_runs_as_one_group_only_for_its_exact_pattern(case):
    classes, scale, loss, fused = SOFTMAX_CASES[case]
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    ws = [(Value(float(a)), Value(float(b))) for a, b in rng.normal(size=(classes, 2)) * scale]
    if scale == 0.0:  # every logit equal: ties at every link of the running maximum
        ws = [(Value(0.5), Value(-0.25)) for _ in range(classes)]
    params = [w for pair in ws for w in pair]

    def per_sample(x1, x2, t):
        return loss(_logits(ws, x1, x2), t)

    XT = np.column_stack([rng.normal(size=(12, 2)), rng.uniform(0.5, 1.5, 12)])
    tape = trace(per_sample, 3)
    assert ("log_softmax" in [g.name for g in tape.groups]) is fused
    eager_out, eager_grads = eager_gradients(per_sample, XT, params)
    tape_out, tape_grads = tape_gradients(tape, XT, params)
    np.testing.assert_allclose(tape_out, eager_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tape_grads, eager_grads, rtol=1e-9, atol=1e-12)


def test_code_in_a_module_named_like_the_engine_cannot_read_traced_data():
    # who may read a traced number is not decided by the caller's module name: the engine
    # reads the slot itself, everyone else gets the error
    namespace = {"__name__": "autograd.mine"}
    exec("def peek(x):\n    return x * x if x.data > 0 else x", namespace)
    with pytest.raises(TracingError, match="reads .data of a Value computed from its inputs"):
        trace(namespace["peek"], 1)


@pytest.mark.parametrize(
    "fn,op",
    [
        (lambda x: x * float("nan"), "mul"),
        (lambda x: (x + 1.0).tanh() - math.nan, "sub"),
        (lambda x: [x * 2.0, x ** float("nan")], "pow"),
    ],
)
def test_a_nan_constant_is_refused_by_name_not_blamed_on_randomness(fn, op):
    with pytest.raises(TracingError) as info:
        trace(fn, 1)
    assert str(info.value).startswith(f"fn uses a NaN constant (an operand of {op}), which")


# ---- the array interface a training loop uses (nn.fit keeps its parameters in arrays) -------


def test_parameters_given_to_trace_come_first_in_their_order_unused_ones_too():
    a, b, unused = Value(1.0), Value(2.0), Value(3.0)
    tape = trace(lambda x: a * x + b, 1, parameters=[b, unused])
    assert tape.parameters == [b, unused, a]
    tape(np.array([[1.0], [2.0]]))
    np.testing.assert_array_equal(tape.gradients(), [2.0, 0.0, 3.0])


@pytest.mark.parametrize(
    "parameters, message",
    [([1.0], r"parameters\[0\] is float"), ([Value(1.0) * 2], r"parameters\[0\] is the result")],
)
def test_trace_refuses_parameters_that_are_not_leaf_values(parameters, message):
    with pytest.raises(TypeError, match=message):
        trace(lambda x: x * 2, 1, parameters=parameters)


def test_params_and_gradients_work_on_arrays_and_leave_the_values_alone():
    layers = make_mlp([2, 4, 3, 1], seed=3)
    params = parameters(layers)

    def per_sample(x1, x2, y):
        return LOSSES["logistic"](run_mlp(layers, [x1, x2], ACTIVATIONS["tanh"])[0], y)

    tape = trace(per_sample, 3, parameters=params)
    rng = np.random.default_rng(4)
    XY = np.column_stack([rng.normal(size=(9, 2)), np.sign(rng.normal(size=9))])
    theta = np.array([p.data for p in params]) * 0.5  # numbers the Values do not hold
    for p in params:
        p.grad = 7.0
    before = [(p.data, p.grad) for p in params]
    out = tape(XY, params=theta)
    out_buffer = np.full(len(params), np.nan)
    grads = tape.gradients(reduction="mean", out=out_buffer)
    assert grads is out_buffer
    assert [(p.data, p.grad) for p in params] == before
    for p, x in zip(params, theta.tolist(), strict=True):  # the same numbers, eagerly
        p.data = x
    eager_out, eager_grads = eager_gradients(per_sample, XY, params)
    np.testing.assert_allclose(out, eager_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads, eager_grads, rtol=1e-9, atol=1e-14)


def test_wrong_parameter_and_gradient_arrays_are_refused_by_shape():
    w = Value(2.0)
    tape = trace(lambda x: w * x, 1)
    with pytest.raises(ValueError, match=r"params has shape \(2,\); expected \(1,\)"):
        tape(np.ones((3, 1)), params=np.ones(2))
    tape(np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"out has shape \(3,\); expected \(1,\)"):
        tape.gradients(out=np.zeros(3))


def test_a_failing_backward_changes_no_grad():
    w = Value(1.0)
    tape = trace(lambda x: (w * x).sqrt(), 1)
    tape(np.array([[0.0], [4.0]]))  # sqrt'(0) = 1 / (2 sqrt(0)): division by zero
    w.grad = 0.25
    with pytest.raises(FloatingPointError, match="backward of the traced graph: sqrt"):
        tape.backward()
    assert w.grad == 0.25


@pytest.mark.parametrize("order", ["as nn lists them", "biases first", "shuffled"])
def test_dense_layers_give_eager_gradients_whatever_the_parameter_order(order):
    # nn's order (each unit's weights, then its bias) lets a layer read its parameters as
    # views of one block; any other order gathers them: the numbers are the same
    layers = make_mlp([3, 4, 2], seed=7)
    params = parameters(layers)
    if order == "biases first":
        given = [b for layer in layers for _, b in layer] + [
            w for layer in layers for ws, _ in layer for w in ws
        ]
    else:
        given = list(params)
        if order == "shuffled":
            random.Random(1).shuffle(given)
    X = np.random.default_rng(2).normal(size=(9, 3))

    def per_sample(*xs):
        out = run_mlp(layers, list(xs), ACTIVATIONS["relu"])
        return out[0] * out[1]

    eager_out, eager_grads = eager_gradients(per_sample, X, params)
    tape = trace(per_sample, 3, parameters=given)
    tape_out, tape_grads = tape_gradients(tape, X, params)
    np.testing.assert_allclose(tape_out, eager_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tape_grads, eager_grads, rtol=1e-9, atol=1e-14)
    views = [g._values is not None for g in tape.groups if isinstance(g, DenseGroup)]
    assert views == [order == "as nn lists them"] * 2


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, w: (1 + x * w).relu(),  # a constant and a product (a hinge loss)
        lambda x, w: (x * w + 1).relu(),
        lambda x, w: (lambda m: (m + m).tanh())(x * w),  # one term twice: its gradient twice
        lambda x, w: (w + x).tanh() * w,  # a parameter and an input
        lambda x, w: (x * w + w + x).tanh(),  # three terms
    ],
)
def test_small_sums_give_eager_gradients(fn):
    w = Value(0.3)
    X = np.random.default_rng(4).normal(size=(7, 1))
    eager_out, eager_grads = eager_gradients(fn_w := (lambda x: fn(x, w)), X, [w])
    tape_out, tape_grads = tape_gradients(trace(fn_w, 1), X, [w])
    np.testing.assert_allclose(tape_out, eager_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tape_grads, eager_grads, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("hidden_also_feeds_the_loss", [False, True])
def test_a_dense_layer_writes_its_inputs_gradient_only_where_nothing_else_adds(
    hidden_also_feeds_the_loss,
):
    layers = make_mlp([2, 4, 3, 1], seed=7)
    params = parameters(layers)

    def per_sample(x1, x2, t):
        h = [
            sum((wi * xi for wi, xi in zip(w, [x1, x2], strict=True)), b).tanh()
            for w, b in layers[0]
        ]
        (score,) = run_mlp(layers[1:], h, ACTIVATIONS["tanh"])
        loss = (score - t) ** 2
        return loss + h[2] * h[2] if hidden_also_feeds_the_loss else loss

    XT = np.random.default_rng(11).normal(size=(9, 3))
    eager_out, eager_grads = eager_gradients(per_sample, XT, params)
    tape = trace(per_sample, 3, parameters=params)  # nn's layout: W and b views of one vector
    tape_out, tape_grads = tape_gradients(tape, XT, params)
    np.testing.assert_allclose(tape_out, eager_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tape_grads, eager_grads, rtol=1e-9, atol=1e-14)
    dense = [g for g in tape.groups if isinstance(g, DenseGroup)]
    assert [g.weights.shape for g in dense] == [(4, 2), (3, 4), (1, 3)]
    # layer 1's inputs are x1, x2 (no gradient); layer 2's are h, which the loss may read too
    assert [g.assign_inputs for g in dense] == [False, not hidden_also_feeds_the_loss, True]
    # layers 2 and 3 read [h; 1] where the tape keeps them (a row of ones after h), no copy
    assert [g.ones_follow for g in dense] == [False, True, True]
    second = tape_gradients(tape, XT, params)[1]  # no zeroing of written rows: same again
    np.testing.assert_array_equal(second, tape_grads)
