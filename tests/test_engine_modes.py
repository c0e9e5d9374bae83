"""The engine's switches and checks: ``no_grad``, ``detect_anomaly`` and ``gradcheck``.

``no_grad`` makes new Values leaves and restores the previous setting on exit (so it nests and
works as a decorator); ``detect_anomaly`` turns the first NaN or infinity in forward or backward
into a FloatingPointError naming the op, operands and labels; ``gradcheck`` compares backward
with central differences and explains a disagreement input by input.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest

import autograd
from autograd import GradcheckError, Primitive, Value
from autograd.value import apply

# --------------------------------------------------------------------------------------------
# no_grad
# --------------------------------------------------------------------------------------------


def test_values_made_under_no_grad_have_no_parents():
    x = Value(2.0)
    with autograd.no_grad():
        y = x * 3 + x.tanh()
    assert y.parents == () and y.op == "" and y.is_leaf
    assert y.data == pytest.approx(6 + math.tanh(2.0))


def test_no_grad_value_is_a_leaf_for_later_backward():
    x = Value(2.0)
    with autograd.no_grad():
        frozen = x * 3
    out = frozen * x
    out.backward()
    assert x.grad == 6.0  # only through the direct use; frozen is a constant


def test_no_grad_nests_and_restores_recording():
    x = Value(1.0)
    assert autograd.is_grad_enabled()
    with autograd.no_grad():
        with autograd.no_grad():
            assert not autograd.is_grad_enabled()
        assert not autograd.is_grad_enabled()
        assert (x + 1).parents == ()
        with autograd.enable_grad():
            assert (x + 1).parents[0] is x
        assert (x + 1).parents == ()
    assert autograd.is_grad_enabled()
    assert (x + 1).parents[0] is x


def test_no_grad_restores_recording_after_an_exception():
    with pytest.raises(ValueError), autograd.no_grad():
        Value(-1.0).log()
    assert autograd.is_grad_enabled()


def test_no_grad_works_as_a_decorator():
    @autograd.no_grad()
    def predict(x):
        assert not autograd.is_grad_enabled()
        return x * 2

    x = Value(1.5)
    y = predict(x)
    assert y.parents == () and y.data == 3.0
    assert autograd.is_grad_enabled()
    assert predict(x).parents == ()  # the decorator works on every call, not just the first


def test_backward_inside_no_grad_still_computes_gradients():
    x = Value(2.0)
    y = x**3
    with autograd.no_grad():
        y.backward()
    assert x.grad == 12.0


def test_create_graph_inside_no_grad_still_records_the_gradient_graph():
    x = Value(2.0)
    y = x**3
    with autograd.no_grad():
        y.backward(create_graph=True)
        assert not autograd.is_grad_enabled()  # the pass turned recording back on only inside
    assert isinstance(x.grad, Value) and x.grad.data == 12.0
    (second,) = autograd.grad(x.grad, x)
    assert second == 12.0  # d/dx 3x^2 = 6x


# --------------------------------------------------------------------------------------------
# detect_anomaly
# --------------------------------------------------------------------------------------------


def anomaly_message(fn) -> str:
    with pytest.raises(FloatingPointError) as info, autograd.detect_anomaly():
        fn()
    return str(info.value)


def test_infinity_in_forward_names_op_operands_and_labels():
    a, b = Value(math.inf, label="top"), Value(1e200, label="big_b")
    message = anomaly_message(lambda: a * b)
    for part in ("mul", "top", "big_b", "1e+200", "inf"):
        assert part in message, (part, message)


def test_overflow_is_the_same_overflow_error_under_detect_anomaly():
    a, b = Value(1e200, label="big_a"), Value(1e200, label="big_b")
    with pytest.raises(OverflowError, match=r"mul\(big_a=1e\+200, big_b=1e\+200\)"):
        a * b
    with pytest.raises(OverflowError, match=r"mul\(big_a=1e\+200, big_b=1e\+200\)"):
        with autograd.detect_anomaly():
            a * b


def test_nan_in_forward_is_reported():
    inf = Value(math.inf, label="top")
    message = anomaly_message(lambda: inf - inf)
    assert "sub" in message and "top" in message and "nan" in message


def test_overflow_in_backward_is_the_same_overflow_error_under_detect_anomaly():
    # as in forward: an infinity made from finite numbers is an OverflowError, with or without
    # detect_anomaly (it was a FloatingPointError under detect_anomaly before)
    x = Value(1e-300, label="tiny")
    w = x * 1e200  # forward stays finite: 1e-100
    out = w * 1e200  # 1e100; d out / d x = 1e400 overflows
    for block in (contextlib.nullcontext, autograd.detect_anomaly):
        with block(), pytest.raises(OverflowError) as info:
            out.backward()
        message = str(info.value)
        assert message.startswith("backward through mul(tiny=1e-300, 1e+200): the gradient ")
        assert x.grad == 0.0


def test_infinity_coming_into_backward_is_reported_under_detect_anomaly():
    x = Value(math.inf, label="top")
    out = x * Value(2.0, label="two")  # d out / d two = inf, from an infinite operand
    message = anomaly_message(out.backward)
    assert "backward" in message and "mul" in message and "top" in message and "inf" in message


def test_nan_in_backward_is_reported():
    # Built outside detect_anomaly, so the NaN in forward is allowed; d out / d c = nan.
    nan_node = Value(math.inf) * 0.0
    c = Value(2.0, label="scale")
    out = nan_node * c
    message = anomaly_message(out.backward)
    assert "backward" in message and "mul" in message and "scale" in message and "nan" in message


def test_infinities_pass_on_outside_detect_anomaly_in_forward_and_backward():
    a, b = Value(math.inf), Value(1e200)
    product = a * b  # an infinite operand passes its infinity on
    assert math.isinf(product.data)
    product.backward()  # d product / d b = inf, from the infinite a: passed on too
    assert math.isinf(b.grad) and a.grad == 1e200
    nan_node = Value(math.inf) * 0.0
    c = Value(2.0)
    (nan_node * c).backward()
    assert math.isnan(c.grad)


def test_detect_anomaly_restores_the_previous_setting():
    with pytest.raises(FloatingPointError), autograd.detect_anomaly():
        Value(math.inf) * 0.0
    assert math.isnan((Value(math.inf) * 0.0).data)


def test_anomaly_in_backward_leaves_every_grad_as_it_was():
    x = Value(math.inf, label="top")
    out = (x * 2.0) * Value(3.0)  # d out / d 3.0 = inf, passed on from x: an anomaly
    nodes = autograd.topological_order(out)
    before = [n.grad for n in nodes]
    with pytest.raises(FloatingPointError), autograd.detect_anomaly():
        out.backward()
    assert [n.grad for n in nodes] == before


# --------------------------------------------------------------------------------------------
# gradcheck
# --------------------------------------------------------------------------------------------


SQUARE_WITH_WRONG_RULE = Primitive(
    "bad_square", "sq", lambda a: a * a, lambda g, out, a: (g * 3 * a,)
)


def test_gradcheck_passes_good_functions():
    assert autograd.gradcheck(lambda x, y: (x * y).tanh() + y.exp() / x, [0.7, -0.3])
    assert autograd.gradcheck(lambda x: x.sigmoid() * x.log(), 1.3)
    assert autograd.gradcheck(lambda x, y: x**y, [Value(1.5), Value(2.5)])


@pytest.mark.parametrize(
    "x", [1.5, 2, np.float64(1.5), np.float32(1.5), np.int64(2)], ids=lambda x: type(x).__name__
)
def test_gradcheck_accepts_a_single_number_of_any_real_type(x):
    # Value(x) accepts all of these, so gradcheck(fn, x) should too
    assert autograd.gradcheck(lambda v: v * v.sin(), x)


def test_gradcheck_inside_no_grad_still_checks_the_gradients():
    # the analytic gradients used to be all 0 there (fn built no graph): a right op "failed"
    with autograd.no_grad():
        assert autograd.gradcheck(lambda x, y: (x * y).tanh(), [0.5, -1.5])
        with pytest.raises(GradcheckError):
            autograd.gradcheck(lambda v: apply(SQUARE_WITH_WRONG_RULE, v), [1.0])
        assert not autograd.is_grad_enabled()


def test_gradcheck_does_not_change_its_inputs():
    x = Value(0.5, label="x")
    autograd.gradcheck(lambda v: v.sin(), [x])
    assert (x.data, x.grad) == (0.5, 0.0)


def test_gradcheck_raises_a_per_input_table_on_a_wrong_derivative():
    x, y = Value(1.5, label="good"), Value(2.0, label="bad")
    with pytest.raises(GradcheckError) as info:
        autograd.gradcheck(lambda u, v: u.exp() + apply(SQUARE_WITH_WRONG_RULE, v), [x, y])
    lines = str(info.value).splitlines()
    good_row = next(line for line in lines if "good" in line)
    bad_row = next(line for line in lines if "bad" in line and "bad_square" not in line)
    assert good_row.rstrip().endswith("yes")
    assert bad_row.rstrip().endswith("NO")
    assert "analytic" in lines[1] and "numeric" in lines[1]
    analytic, numeric = (float(t) for t in bad_row.split()[-4:-2])
    assert analytic == 6.0  # the wrong rule: 3 * 2
    assert numeric == pytest.approx(4.0, rel=1e-6)  # d(v^2)/dv at 2
    assert "1 of 2" in lines[0]


def test_gradcheck_can_return_false_instead_of_raising():
    wrong = autograd.gradcheck(
        lambda v: apply(SQUARE_WITH_WRONG_RULE, v), [1.0], raise_exception=False
    )
    assert wrong is False


def test_wrong_primitive_is_not_added_to_the_shared_table():
    assert "bad_square" not in autograd.PRIMITIVES


def test_gradcheck_refuses_a_function_that_returns_a_number():
    with pytest.raises(TypeError, match="Value"):
        autograd.gradcheck(lambda x: 3.0, [1.0])


def test_detect_anomaly_names_a_non_finite_seed():
    x = Value(2.0)
    with (
        autograd.detect_anomaly(),
        pytest.raises(FloatingPointError, match="the seed gradient is nan"),
    ):
        (x * x).backward(float("nan"))
    assert x.grad == 0.0
