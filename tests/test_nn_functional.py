"""Activations, softmax, losses and penalties: values from the lectures, gradients checked."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn.functional as F
from autograd import Value, gradcheck, trace

POINTS = [-1.7, -0.3, 0.4, 2.2]  # away from the kinks of relu, leaky_relu, step and abs


@pytest.mark.parametrize("name", sorted(F.ACTIVATIONS))
@pytest.mark.parametrize("x", POINTS)
def test_every_activation_is_gradient_checked(name, x):
    assert gradcheck(F.ACTIVATIONS[name], [x])


def test_activation_values():
    assert F.linear(Value(-2.0)).data == -2.0
    assert [F.step(Value(x)).data for x in (-0.1, 0.0, 0.1)] == [0.0, 1.0, 1.0]
    assert F.sigmoid(Value(0.0)).data == 0.5
    assert F.relu(Value(-3.0)).data == 0.0
    assert F.leaky_relu(Value(-2.0), 0.1).data == pytest.approx(-0.2)
    assert F.tanh(Value(0.5)).data == pytest.approx(math.tanh(0.5))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("xs", [[0.3, -1.2, 2.0], [1.0, 1.0, 1.0], [5.0, -2.0]])
def test_softmax_and_log_softmax_are_gradient_checked(fn, xs):
    weights = [0.7, -1.3, 2.1][: len(xs)]  # a generic linear read-out of every component

    def readout(*args):
        return sum((w * p for w, p in zip(weights, fn(list(args)), strict=True)), Value(0.0))

    assert gradcheck(readout, xs)


def test_softmax_of_the_lecture_example():
    # The slide prints [0.51, 0.18, 0.31] for [1.60, 0.55, 0.98], but that is x / sum(x), or
    # softmax of [1.60, 0.55, 1.10].  Softmax of the printed input is [0.53, 0.19, 0.28].
    x = [1.60, 0.55, 0.98]
    assert [round(p.data, 2) for p in F.softmax(x)] == [0.53, 0.19, 0.28]
    assert [round(v / sum(x), 2) for v in x] == [0.51, 0.18, 0.31]
    assert [round(p.data, 2) for p in F.softmax([1.60, 0.55, 1.10])] == [0.51, 0.18, 0.31]


def test_softmax_does_not_overflow():
    probs = F.softmax([Value(1000.0), Value(0.0)])
    assert [p.data for p in probs] == [1.0, 0.0]
    logp = F.log_softmax([Value(1000.0), Value(0.0)])
    assert [v.data for v in logp] == [0.0, -1000.0]
    assert sum(p.data for p in F.softmax([-800.0, -801.0, -805.0])) == pytest.approx(1.0)
    assert [p.data for p in F.softmax([1000, 0])] == [1.0, 0.0]  # plain numbers too


def test_softmax_gradient_at_large_inputs_is_finite():
    xs = [Value(1000.0), Value(999.0)]
    F.log_softmax(xs)[1].backward()
    p = 1 / (1 + math.e)
    assert xs[0].grad == pytest.approx(-(1 - p)) and xs[1].grad == pytest.approx(1 - p)


LOSS_CASES = {
    "mse": (lambda p, t: F.mse(p, t), [0.3, 1.0]),
    "mse_half": (lambda p, t: F.mse(p, t, half=True), [0.3, 1.0]),
    "mae": (lambda p, t: F.mae(p, t), [0.3, 1.0]),
    "bce": (lambda p, t: F.bce(p, t), [0.3, 1.0]),
    "bce_soft_target": (lambda p, t: F.bce(p, t), [0.8, 0.25]),
    "bce_with_logits": (lambda z, t: F.bce_with_logits(z, t), [-1.3, 1.0]),
    "bce_with_logits_0": (lambda z, t: F.bce_with_logits(z, t), [2.5, 0.0]),
    "hinge": (lambda s, y: F.hinge(s, y), [0.3, 1.0]),
    "hinge_negative": (lambda s, y: F.hinge(s, y), [0.3, -1.0]),
    "cross_entropy_one_hot": (
        lambda a, b, c: F.cross_entropy([a, b, c], [0.0, 1.0, 0.0]),
        [0.2, -0.4, 1.1],
    ),
    "cross_entropy_label": (lambda a, b, c: F.cross_entropy([a, b, c], 2), [0.2, -0.4, 1.1]),
    "mse_two_outputs": (lambda a, b: F.mse([a, b], [1.0, -1.0]), [0.5, 0.25]),
}


@pytest.mark.parametrize("case", sorted(LOSS_CASES))
def test_every_loss_is_gradient_checked(case):
    fn, point = LOSS_CASES[case]
    assert gradcheck(fn, point)


def test_loss_values_by_hand():
    assert F.mse(Value(3.0), 1.0).data == 4.0
    assert F.mse(Value(3.0), 1.0, half=True).data == 2.0
    assert F.mse([Value(3.0), Value(0.0)], [1.0, 0.0]).data == 2.0
    assert F.mae(Value(-2.0), 1.0).data == 3.0
    assert F.bce(Value(0.8), 1.0).data == pytest.approx(-math.log(0.8))
    assert F.bce(Value(0.8), 0.0).data == pytest.approx(-math.log(0.2))
    assert F.hinge(Value(0.3), -1).data == pytest.approx(1.3)
    assert F.hinge(Value(2.0), 1).data == 0.0
    assert F.cross_entropy([Value(0.0), Value(0.0)], 1).data == pytest.approx(math.log(2))


@pytest.mark.parametrize("p", [1.5, -0.5])
def test_bce_of_a_number_outside_0_1_names_it_and_points_to_bce_with_logits(p):
    with pytest.raises(
        ValueError, match=rf"bce takes probabilities in \[0, 1\].*got {p}.*bce_with_logits"
    ):
        F.bce(Value(p), 1.0)


def test_bce_with_logits_matches_bce_of_sigmoid_and_is_stable():
    for z, t in [(-2.0, 1.0), (0.5, 0.0), (3.0, 0.3)]:
        expected = F.bce(Value(z).sigmoid(), t).data
        assert F.bce_with_logits(Value(z), t).data == pytest.approx(expected, rel=1e-9)
    assert F.bce_with_logits(Value(1000.0), 0.0).data == 1000.0
    assert F.bce_with_logits(Value(-1000.0), 0.0).data == 0.0
    z = Value(-1000.0)
    F.bce_with_logits(z, 1.0).backward()
    assert z.grad == -1.0


def test_bce_on_a_saturated_probability_does_not_take_log_of_zero():
    assert math.isfinite(F.bce(Value(40.0).sigmoid(), 0.0).data)


def test_cross_entropy_label_and_one_hot_agree():
    logits = [Value(0.2), Value(-0.4), Value(1.1)]
    assert F.cross_entropy(logits, 2).data == F.cross_entropy(logits, [0, 0, 1]).data
    with pytest.raises(ValueError, match="class 3 out of range for 3 classes"):
        F.cross_entropy(logits, 3)


def test_penalties_sum_over_parameters():
    params = [Value(1.0), Value(-2.0), Value(0.5)]
    assert F.l1_penalty(params).data == 3.5
    assert F.l2_penalty(params).data == 5.25
    assert gradcheck(lambda a, b: F.l2_penalty([a, b]) + F.l1_penalty([a, b]), [0.7, -0.2])


def test_unknown_loss_lists_the_valid_ones():
    with pytest.raises(
        ValueError,
        match="unknown loss 'nll'; valid: mse, mae, bce, bce_with_logits, cross_entropy, hinge",
    ):
        F.get_loss("nll")


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_stable_softmax_is_traceable(fn):
    tape = trace(lambda a, b, c: fn([a, b, c]), 3)
    X = np.array([[1000.0, 0.0, -3.0], [0.1, 0.2, 0.3]])
    for row, out in zip(X, tape(X), strict=True):
        assert out.tolist() == pytest.approx([v.data for v in fn(row.tolist())])


def test_bce_with_logits_is_traceable():
    tape = trace(lambda z, t: F.bce_with_logits(z, t), 2)
    out = tape(np.array([[1000.0, 0.0], [-1000.0, 0.0], [0.5, 1.0]]))
    assert out.tolist() == pytest.approx([1000.0, 0.0, F.bce_with_logits(Value(0.5), 1.0).data])


def test_bce_with_logits_has_the_right_slope_at_zero():
    # d/dz [softplus(z) - z t] = sigmoid(z) - t, also at z = 0 where relu/abs kinks would lie
    for t, slope in ((1.0, -0.5), (0.0, 0.5)):
        z = Value(0.0)
        F.bce_with_logits(z, t).backward()
        assert z.grad == pytest.approx(slope)


# ---- PReLU and abs: the lectures' other hidden activations ---------------------------------


@pytest.mark.parametrize("x", POINTS)
@pytest.mark.parametrize("alpha", [0.25, -0.5, 1.7])
def test_prelu_is_gradient_checked_in_x_and_in_alpha(x, alpha):
    assert gradcheck(F.prelu, [x, alpha])  # both operands Values: dx and dalpha checked


def test_prelu_values_and_derivatives():
    for x0, want, dx, dalpha in [(2.0, 2.0, 1.0, 0.0), (-2.0, -0.5, 0.25, -2.0)]:
        x, alpha = Value(x0), Value(0.25)
        out = F.prelu(x, alpha)
        out.backward()
        assert (out.data, x.grad, alpha.grad) == (want, dx, dalpha)
    x, alpha = Value(0.0), Value(0.25)  # at the kink: alpha, as PyTorch's PReLU
    F.prelu(x, alpha).backward()
    assert (x.grad, alpha.grad) == (0.25, 0.0)
    assert F.prelu(Value(-4.0), 0.1).data == pytest.approx(-0.4)  # a plain-number alpha
    assert F.prelu(Value(-4.0), 0.01).data == F.leaky_relu(Value(-4.0), 0.01).data


def test_prelu_alpha_learns_by_gradient_descent():
    alpha = Value(0.0)
    xs, ys = [-2.0, -1.0, 1.0, 3.0], [-0.6, -0.3, 1.0, 3.0]  # data made with alpha = 0.3
    for _ in range(200):
        loss = sum(
            ((F.prelu(Value(x), alpha) - y) ** 2 for x, y in zip(xs, ys, strict=True)), Value(0.0)
        )
        alpha.grad = 0.0
        loss.backward()
        alpha.data -= 0.05 * alpha.grad
    assert alpha.data == pytest.approx(0.3, abs=1e-9)


def test_prelu_refuses_an_alpha_that_is_not_a_number():
    with pytest.raises(TypeError, match="alpha must be a real number or a Value"):
        F.prelu(Value(1.0), "0.25")


def test_abs_activation_values_and_derivative_with_zero_at_the_kink():
    assert F.get_activation("abs") is F.absolute
    for x0, want, slope in [(-1.5, 1.5, -1.0), (2.0, 2.0, 1.0), (0.0, 0.0, 0.0)]:
        x = Value(x0)
        out = F.absolute(x)
        out.backward()
        assert (out.data, x.grad) == (want, slope)


def test_abs_activation_works_in_an_mlp_and_traces():
    from nn import MLP

    model = MLP.from_weights([[[1.0, -1.0]], [[1.0], [1.0]]], activation="abs")
    assert model([-3.0]).data == 6.0
    tape = trace(lambda x: model([x]), 1)
    assert tape(np.array([[-3.0], [2.0]])).tolist() == [6.0, 4.0]


@pytest.mark.parametrize("name", ["mse", "mae", "bce", "bce_with_logits", "hinge"])
def test_a_loss_of_empty_lists_is_a_clear_error(name):
    with pytest.raises(ValueError, match=rf"^{name}: no predictions \(empty lists\)"):
        F.LOSSES[name]([], [])


@pytest.mark.parametrize(
    "target,shown",
    [(1.5, "float 1.5"), (True, "bool True"), (Value(1.0), "Value"), (None, "NoneType")],
)
def test_cross_entropy_target_that_is_neither_a_class_nor_a_list_is_a_clear_error(target, shown):
    logits = [Value(1.0), Value(2.0), Value(0.5)]
    with pytest.raises(TypeError) as info:
        F.cross_entropy(logits, target)
    assert str(info.value) == (
        "cross_entropy: the target must be a class index (an int, 0 to 2) or a list of 3 "
        f"probabilities (one-hot), got {shown}"
    )
