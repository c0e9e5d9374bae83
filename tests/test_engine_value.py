"""The Value itself: what it accepts, how it prints, and the errors it raises on bad input.

A Value wraps one real number; anything else is a TypeError naming the type received.  Domain
errors (log of a non-positive number, division by zero, ...) name the op and the operand, and
the operand's label when it has one, so a failing expression is found from the message alone.
"""

from __future__ import annotations

import gc
import inspect
from fractions import Fraction

import numpy as np
import pytest

from autograd import Constant, Value
from autograd.value import weighted_sum

# --------------------------------------------------------------------------------------------
# What a Value accepts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [
        ("a", "str"),
        (None, "NoneType"),
        ([1], "list"),
        ((1.0,), "tuple"),
        (1 + 2j, "complex"),
        ({"x": 1}, "dict"),
    ],
)
def test_non_real_input_is_a_type_error_naming_the_type(bad, type_name):
    with pytest.raises(TypeError, match=type_name):
        Value(bad)


@pytest.mark.parametrize(
    ("array", "shape"),
    [(np.array([1.0, 2.0]), "2"), (np.zeros((2, 3)), "2x3"), (np.array([]), "0")],
    ids=["two_elements", "matrix", "empty"],
)
def test_numpy_array_without_exactly_one_element_is_a_type_error_naming_array_and_shape(
    array, shape
):
    with pytest.raises(TypeError, match="array") as info:
        Value(array)
    assert shape in str(info.value)


def test_complex_numpy_scalar_is_a_type_error():
    with pytest.raises(TypeError, match="complex"):
        Value(np.complex128(1 + 2j))


@pytest.mark.parametrize(
    ("good", "expected"),
    [
        (3, 3.0),
        (2.5, 2.5),
        (True, 1.0),
        (False, 0.0),
        (np.float64(1.25), 1.25),
        (np.float32(0.5), 0.5),
        (np.int64(-7), -7.0),
        (np.bool_(True), 1.0),
        (np.array([4.5]), 4.5),
        (np.array(4.5), 4.5),
        (np.array([[2]]), 2.0),
        (Fraction(1, 4), 0.25),
    ],
)
def test_real_numbers_are_accepted_and_stored_as_float(good, expected):
    v = Value(good)
    assert type(v.data) is float
    assert v.data == expected


def test_new_value_is_a_leaf_with_zero_grad():
    v = Value(2.0, label="w")
    assert (v.grad, v.op, v.parents, v.label, v.is_leaf) == (0.0, "", (), "w", True)


def test_label_must_be_a_string():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_adding_a_string_is_a_type_error():
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError):
        "a" + Value(1.0)
    with pytest.raises(TypeError):
        Value(1.0) * None


@pytest.mark.parametrize("alpha", ["a", None, [0.1]], ids=["str", "None", "list"])
def test_leaky_relu_with_a_non_number_alpha_is_a_type_error(alpha):
    # a method call, not an operator: returning NotImplemented would pass silently
    with pytest.raises(TypeError):
        Value(-1.0).leaky_relu(alpha)


def test_numpy_scalar_on_the_left_gives_a_value_not_an_array():
    x = Value(2.0)
    for out in (np.float64(3.0) * x, np.float64(3.0) + x, np.float64(8.0) / x):
        assert isinstance(out, Value)
    assert (np.float64(3.0) - x).data == 1.0


def test_numbers_mixed_in_become_constant_parents():
    x = Value(2.0)
    out = 3 * x
    a, b = out.parents
    assert isinstance(a, Constant) and a.data == 3.0
    assert b is x


# --------------------------------------------------------------------------------------------
# repr and comparisons
# --------------------------------------------------------------------------------------------


def test_repr_shows_data_and_grad():
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0.0)"


def test_repr_shows_label_when_set():
    v = Value(-2.0, label="w1")
    v.grad = 0.25
    assert repr(v) == "Value(data=-2.0, grad=0.25, label='w1')"


def test_an_unlabelled_value_holds_no_label_for_the_collector_to_visit():
    x, w = Value(1.0), Value(2.0, label="w")
    nodes = [x, x * w, x + 1.0, x.tanh(), weighted_sum([w], [x], x)]
    assert [v.label for v in nodes] == ["", "", "", "", ""]
    for v in nodes:
        assert "" not in gc.get_referents(v)  # what the collector visits: the filled slots
    assert "w" in gc.get_referents(w)
    nodes[1].label = "e"  # labelled later, as in the lecture
    assert nodes[1].label == "e" and repr(nodes[1]).endswith("label='e')")


def test_comparisons_read_data_and_equality_is_identity():
    a, b = Value(1.0), Value(2.0)
    assert a < b and b > 1 and a <= 1.0 and b >= a
    assert max([a, b]) is b
    assert Value(1.0) != Value(1.0)
    assert len({a, b, a}) == 2


def test_comparing_with_a_non_number_is_pythons_usual_type_error():
    with pytest.raises(TypeError, match="'<' not supported between instances of 'Value' and 'str'"):
        Value(1.0) < "a"  # noqa: B015


def test_an_int_too_large_for_a_float_is_named():
    with pytest.raises(OverflowError, match="Value wraps a float, and 1000.* is too large"):
        Value(10**400)


def test_backward_with_a_seed_that_is_not_a_number_says_so():
    x = Value(2.0)
    with pytest.raises(TypeError, match="gradient to backpropagate .* got NoneType"):
        (x * x).backward(grad=None)
    assert x.grad == 0.0


def test_float_of_a_value_is_its_data():
    assert float(Value(3.25)) == 3.25


def test_a_format_spec_formats_the_number_as_for_a_pytorch_scalar():
    loss = Value(0.6751219999, label="L")
    assert f"{loss:.4f}" == "0.6751" and f"{loss:>8.2f}" == "    0.68"
    assert f"{loss}" == str(loss) == repr(loss)  # no spec: the repr, as before


def test_a_format_spec_on_a_traced_value_is_refused_like_float():
    from autograd import TracingError, trace

    def printed(x):
        print(f"{x * 2:.3f}")  # would freeze the traced example's number into the tape
        return x * 2

    with pytest.raises(TracingError, match="float"):
        trace(printed, 1)


# --------------------------------------------------------------------------------------------
# Domain errors name the op, the operand and its label
# --------------------------------------------------------------------------------------------


def assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} missing from {message!r}"


@pytest.mark.parametrize("x", [-2.0, 0.0])
def test_log_of_non_positive_names_the_operand(x):
    with pytest.raises(ValueError) as info:
        Value(x).log()
    assert_names(str(info.value), "log", repr(x))


def test_log_of_negative_names_the_label():
    with pytest.raises(ValueError) as info:
        Value(-2.0, label="weight_7").log()
    assert_names(str(info.value), "log", "-2.0", "weight_7")


def test_sqrt_of_negative_names_the_operand_and_label():
    with pytest.raises(ValueError) as info:
        Value(-0.5, label="radius").sqrt()
    assert_names(str(info.value), "sqrt", "-0.5", "radius")


def test_sqrt_of_zero_is_zero():
    assert Value(0.0).sqrt().data == 0.0


@pytest.mark.parametrize(
    "divide",
    [lambda n, d: n / d, lambda n, d: n / d.data, lambda n, d: 3.0 / d],
    ids=["value_by_value", "value_by_number", "number_by_value"],
)
def test_division_by_zero_names_the_op(divide):
    with pytest.raises(ZeroDivisionError) as info:
        divide(Value(3.0, label="num"), Value(0.0, label="den"))
    assert_names(str(info.value), "div", "3.0", "0.0")


def test_division_by_zero_names_the_divisor_label():
    with pytest.raises(ZeroDivisionError) as info:
        Value(1.0) / Value(0.0, label="count")
    assert_names(str(info.value), "div", "count")


@pytest.mark.parametrize("exponent", [-1, -2.5])
def test_zero_to_a_negative_power_names_base_and_exponent(exponent):
    with pytest.raises(ZeroDivisionError) as info:
        Value(0.0, label="base") ** exponent
    assert_names(str(info.value), "pow", "base", "0.0", str(float(exponent)))


def test_negative_base_to_a_non_integer_power_names_the_operands():
    with pytest.raises(ValueError) as info:
        Value(-8.0, label="cube") ** (1 / 3)
    assert_names(str(info.value), "pow", "cube", "-8.0")


def test_negative_base_to_an_integer_power_is_fine():
    assert (Value(-2.0) ** 3).data == -8.0
    assert (Value(-2.0) ** 2.0).data == 4.0


def test_number_to_a_value_power_needs_a_positive_base():
    with pytest.raises(ValueError) as info:
        (-2.0) ** Value(0.5, label="e")
    assert_names(str(info.value), "value_pow", "-2.0", "e")


@pytest.mark.parametrize(
    ("overflow", "x", "op"),
    [
        (lambda x: x.exp(), 1000.0, "exp"),
        (lambda x: x**400, 10.0, "pow"),
        (lambda x: x ** Value(400.0), 10.0, "value_pow"),
        (lambda x: 10.0**x, 400.0, "value_pow"),
    ],
    ids=["exp", "pow", "value_pow", "number_to_a_value_power"],
)
def test_overflow_names_the_op_and_operand_and_says_it_overflows(overflow, x, op):
    with pytest.raises(OverflowError) as info:
        overflow(Value(x, label="big"))
    assert_names(str(info.value), op, f"big={x!r}", "overflow")


def test_failed_op_leaves_its_operands_untouched():
    x = Value(-1.0, label="x")
    with pytest.raises(ValueError):
        x.log()
    assert (x.data, x.grad, x.parents) == (-1.0, 0.0, ())


@pytest.mark.parametrize("scalar", [np.float32(-1.5), np.float64(-1.5), np.int64(-2)])
def test_rules_accept_numpy_scalars_in_data(scalar):
    # a Value whose .data was set to a numpy scalar still differentiates through every rule
    x = Value(2.0)
    x.data = scalar
    y = x.relu() + abs(x) + x.leaky_relu(0.1) + x.sin() + x.step()
    y.backward()
    expected = 0.0 - 1.0 + 0.1 + float(np.cos(float(scalar)))
    assert x.grad == pytest.approx(expected, rel=1e-6)


def test_a_subclass_with_its_own_init_is_made_as_with_a_plain_class():
    # Value's constructor lives in its metaclass (a speed trick, see _ValueType); a student's
    # subclass that calls super().__init__(data) must still work, and keep its own fields.
    class Named(Value):
        def __init__(self, data, name):
            super().__init__(data, label=name)
            self.name = name

    w = Named(2.0, "w")
    assert (type(w), w.data, w.grad, w.label, w.name) == (Named, 2.0, 0.0, "w", "w")
    y = w * w + 1
    y.backward()
    assert (y.data, w.grad) == (5.0, 4.0)
    assert str(inspect.signature(Named)) == "(data, name)"


def test_a_subclass_without_init_takes_values_arguments():
    class Plain(Value):
        pass

    p = Plain(3, label="p")
    assert (type(p), p.data, p.label) == (Plain, 3.0, "p")
    with pytest.raises(TypeError, match="one real number"):
        Plain("3")


def test_help_shows_micrograds_constructor_signature():
    assert str(inspect.signature(Value)).startswith("(data, _children")
    assert list(inspect.signature(Value).parameters) == ["data", "_children", "_op", "label"]
