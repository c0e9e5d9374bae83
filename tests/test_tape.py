"""The traced tape against the eager engine: same outputs, same gradients, clear refusals."""

from __future__ import annotations

import random

import numpy as np
import pytest

from autograd import TracingError, Value, trace

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
    return np.array([l.data for l in losses]), np.array([p.grad for p in params])


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
    layers = make_mlp([2, 5, 4, 1], seed=hash((activation, loss)) % 1000)
    params = parameters(layers)
    rng = np.random.default_rng(1)
    XY = np.column_stack([rng.normal(size=(17, 2)), np.sign(rng.normal(size=17))])

    def per_sample(x1, x2, y):
        return LOSSES[loss](run_mlp(layers, [x1, x2], ACTIVATIONS[activation])[0], y)

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


def test_tape_reuses_its_arrays_between_steps():
    w = Value(0.3)
    tape = trace(lambda x: (w * x).relu(), 1)
    X = np.ones((8, 1))
    tape(X)
    first = tape._buffers[8][0]
    tape(X)
    tape.backward()
    assert tape._buffers[8][0] is first


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


def test_branch_on_data_is_detected_by_retracing():
    w = Value(1.0)

    def fn(x):
        return x * w if x.data > 1.2 else x + w

    with pytest.raises(TracingError, match="different graphs"):
        trace(fn, 1, example=[1.0])


def test_wrong_batch_shape_names_the_expected_shape():
    tape = trace(lambda a, b: a * b, 2)
    with pytest.raises(
        ValueError, match=r"expected a batch of shape \(samples, 2\), got shape \(4, 3\)"
    ):
        tape(np.ones((4, 3)))


def test_domain_error_during_replay_names_the_op():
    tape = trace(lambda x: x.log(), 1)
    with pytest.raises(FloatingPointError, match="log"):
        tape(np.array([[1.0], [-1.0]]))


def test_backward_before_forward_is_refused():
    tape = trace(lambda x: x * Value(2.0), 1)
    with pytest.raises(RuntimeError, match="forward call first"):
        tape.backward()


def test_fn_returning_a_number_is_refused():
    with pytest.raises(TracingError, match="must return a Value"):
        trace(lambda x: 3.0, 1)


def test_long_python_sums_are_fused_into_one_group():
    ws = [Value(float(i)) for i in range(50)]
    tape = trace(lambda x: sum((w * x for w in ws), Value(0.0)), 1)
    assert len(tape.groups) == 2  # one mul group, one fused sum
    tape(np.array([[2.0]]))
    tape.backward()
    assert all(w.grad == 2.0 for w in ws)
