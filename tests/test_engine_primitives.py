"""Every entry of the primitive table, found automatically and checked against finite differences.

The tests parametrize over ``autograd.PRIMITIVES``: a new entry is checked without touching this
file.  For each primitive, on a grid of points away from its ``kinks`` (points where the forward
raises a domain error are skipped), the gradient of every non-constant input is compared with a
central difference of the float forward, and the second derivatives (first derivative as a Value
from ``grad(create_graph=True)``, differentiated again) with a central difference of the analytic
first derivative.  Operands that are ``Constant`` by construction (pow's exponent, leaky_relu's
alpha) are listed in ``CONSTANT_OPERANDS`` with the values to try.
"""

from __future__ import annotations

import itertools
import math
import operator
import re

import numpy as np
import pytest

import autograd
from autograd import PRIMITIVES, Constant, Value
from autograd.value import apply

# Operands that are plain numbers to the rule (never differentiated): index -> values to try.
CONSTANT_OPERANDS = {
    "pow": {1: (2.0, 3.0, -1.0, 0.5, -1.5)},
    "leaky_relu": {1: (0.01, 0.2)},
}
GRID = (-2.3, -1.3, -0.6, 0.4, 1.1, 1.9, 2.7)
KINK_MARGIN = 0.05
DOMAIN_ERRORS = (ValueError, ArithmeticError)
MIN_POINTS = 3

# Two-operand primitives without a method of their name are Python operators, by symbol.
OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}


def via_value_api(name: str):
    """The way to reach a primitive through the Value API: its method (x.exp(), one per
    one-operand primitive, and leaky_relu) or its operator; constant operands go in as numbers."""
    prim = PRIMITIVES[name]

    def call(*operands):
        numbers = constant_slots(name)
        args = [v.data if i in numbers else v for i, v in enumerate(operands)]
        method = getattr(Value, name, None)
        return method(*args) if method is not None else OPERATORS[prim.symbol](*args)

    return call


VIA_VALUE_API = {name: via_value_api(name) for name in PRIMITIVES}


def constant_slots(name: str) -> dict[int, tuple[float, ...]]:
    return CONSTANT_OPERANDS.get(name, {})


def points(name: str):
    """Every grid point for the primitive: one tuple of operand values per point."""
    prim = PRIMITIVES[name]
    consts = constant_slots(name)
    axes = [consts.get(i, GRID) for i in range(prim.arity)]
    return itertools.product(*axes)


def near_kink(name: str, point) -> bool:
    consts = constant_slots(name)
    return any(
        abs(x - k) < KINK_MARGIN
        for i, x in enumerate(point)
        if i not in consts
        for k in PRIMITIVES[name].kinks
    )


def make_operands(name: str, point) -> list[Value]:
    consts = constant_slots(name)
    return [Constant(x) if i in consts else Value(x) for i, x in enumerate(point)]


def variable_indices(name: str) -> list[int]:
    consts = constant_slots(name)
    return [i for i in range(PRIMITIVES[name].arity) if i not in consts]


def valid_points(name: str) -> list[tuple[float, ...]]:
    """Grid points away from kinks where the forward is defined."""
    prim = PRIMITIVES[name]
    good = []
    for point in points(name):
        if near_kink(name, point):
            continue
        try:
            prim.forward(*point)
        except DOMAIN_ERRORS:
            continue
        good.append(point)
    return good


def step_size(x: float) -> float:
    return 1e-6 * max(1.0, abs(x))


def central_difference(f, point, i: int) -> float:
    """d f / d point[i] by a central difference."""
    h = step_size(point[i])
    plus, minus = list(point), list(point)
    plus[i] += h
    minus[i] -= h
    return (f(*plus) - f(*minus)) / (2 * h)


def analytic_first(name: str, point) -> list[float]:
    """Gradients of the primitive with respect to its variable inputs, from the engine."""
    operands = make_operands(name, point)
    out = apply(PRIMITIVES[name], *operands)
    variables = [operands[i] for i in variable_indices(name)]
    return list(autograd.grad(out, variables))


def assert_close(got, expected, what: str, rel: float = 1e-5) -> None:
    tol = rel * max(1.0, abs(expected))
    assert abs(got - expected) <= tol, f"{what}: engine {got!r}, finite differences {expected!r}"


# --------------------------------------------------------------------------------------------
# The table itself
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_table_entry_is_keyed_by_its_name_and_has_one_or_two_operands(name):
    prim = PRIMITIVES[name]
    assert prim.name == name
    assert prim.symbol
    assert prim.arity in (1, 2)


def test_constant_operand_list_names_existing_primitives():
    for name, slots in CONSTANT_OPERANDS.items():
        assert name in PRIMITIVES
        assert all(i < PRIMITIVES[name].arity for i in slots)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_grid_has_enough_valid_points_for_every_primitive(name):
    assert len(valid_points(name)) >= MIN_POINTS, f"{name}: too few valid grid points"


# --------------------------------------------------------------------------------------------
# Reaching every primitive from the Value API
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, p in PRIMITIVES.items() if p.arity == 1))
def test_every_one_operand_primitive_is_a_method_documented_by_its_entry(name):
    method = getattr(Value, name)
    assert method.__name__ == name and method.__doc__ == PRIMITIVES[name].doc != ""
    assert getattr(Value(0.7), name)().primitive is PRIMITIVES[name]


def test_unary_operators_reach_neg_and_abs():
    x = Value(-2.0)
    assert (-x).op == "neg" and abs(x).op == "abs" and abs(x).data == 2.0


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_value_api_records_the_table_entry_and_its_operands_in_order(name):
    point = valid_points(name)[0]
    operands = make_operands(name, point)
    out = VIA_VALUE_API[name](*operands)
    assert isinstance(out, Value)
    assert out.op == name
    assert out.primitive is PRIMITIVES[name]
    assert out.data == PRIMITIVES[name].forward(*point)
    variables = [operands[i] for i in variable_indices(name)]
    for var in variables:  # constants become fresh Constant leaves, variables stay themselves
        assert any(p is var for p in out.parents)
    assert len(out.parents) == PRIMITIVES[name].arity


def test_apply_refuses_a_wrong_number_of_operands_or_a_non_value():
    x = Value(1.0)
    with pytest.raises(TypeError, match="operands"):
        apply(PRIMITIVES["mul"], x)
    with pytest.raises(TypeError, match="float"):
        apply(PRIMITIVES["exp"], 1.0)


# --------------------------------------------------------------------------------------------
# Forward: floats and numpy arrays agree
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_array_forward_matches_float_forward(name):
    prim = PRIMITIVES[name]
    pts = valid_points(name)
    columns = [np.array(col) for col in zip(*pts, strict=True)]
    consts = constant_slots(name)
    for point in pts:
        arrays = [x if i in consts else np.array([x, x]) for i, x in enumerate(point)]
        got = prim.apply_arrays(*arrays)
        assert np.allclose(got, prim.forward(*point), rtol=1e-12, atol=1e-12), (name, point, got)
    if not consts:  # the whole grid at once, too
        expected = [prim.forward(*p) for p in pts]
        assert np.allclose(prim.apply_arrays(*columns), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_a_nan_operand_gives_the_same_forward_and_rule_on_floats_and_arrays(name):
    # The tape replays the array forms: where NaN reaches an op (a NaN feature), they must
    # give what the eager engine gives (NaN where it keeps NaN, 0 where its rule gives 0).
    prim = PRIMITIVES[name]
    for point in valid_points(name)[:2]:
        for i in variable_indices(name):
            floats = list(point)
            floats[i] = math.nan
            out = prim.forward(*floats)
            rule = prim.vjp(1.5, out, *floats)
            arrays = [np.array([x, x]) for x in floats]
            with np.errstate(all="ignore"):
                out_arrays = prim.apply_arrays(*arrays)
                rule_arrays = prim.vjp(np.full(2, 1.5), out_arrays, *arrays)
            where = f"{name}{tuple(floats)}"
            np.testing.assert_array_equal(out_arrays, [out, out], err_msg=f"forward of {where}")
            for k, (g, g_arrays) in enumerate(zip(rule, rule_arrays, strict=True)):
                expected = np.broadcast_to(g, (2,))
                got = np.broadcast_to(g_arrays, (2,))
                np.testing.assert_array_equal(got, expected, err_msg=f"rule {k} of {where}")


# --------------------------------------------------------------------------------------------
# First and second derivatives against finite differences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_first_derivative_matches_finite_differences(name):
    prim = PRIMITIVES[name]
    checked = 0
    for point in valid_points(name):
        grads = analytic_first(name, point)
        for g, i in zip(grads, variable_indices(name), strict=True):
            assert isinstance(g, float), f"{name}{point}: gradient {g!r} is not a float"
            numeric = central_difference(prim.forward, point, i)
            assert_close(g, numeric, f"d {name}{point} / d input {i}")
        checked += 1
    assert checked >= MIN_POINTS


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_second_derivative_matches_finite_differences_of_the_first(name):
    variables_at = variable_indices(name)
    checked = 0
    for point in valid_points(name):
        operands = make_operands(name, point)
        out = apply(PRIMITIVES[name], *operands)
        variables = [operands[i] for i in variables_at]
        firsts = autograd.grad(out, variables, create_graph=True)
        for k, (first, i) in enumerate(zip(firsts, variables_at, strict=True)):
            assert isinstance(first, Value), f"{name}{point}: create_graph gave {first!r}"
            assert_close(first.data, analytic_first(name, point)[k], f"{name}: first derivative")
            seconds = autograd.grad(first, variables, allow_unused=True)
            for second, j in zip(seconds, variables_at, strict=True):
                second = 0.0 if second is None else second

                def first_derivative(*p, k=k):
                    return analytic_first(name, p)[k]

                numeric = central_difference(first_derivative, point, j)
                assert_close(second, numeric, f"d2 {name}{point} / d input {i} d input {j}", 1e-4)
        checked += 1
    assert checked >= MIN_POINTS


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_backward_agrees_with_grad_and_seeds_the_output(name):
    point = valid_points(name)[-1]
    operands = make_operands(name, point)
    out = apply(PRIMITIVES[name], *operands)
    out.backward()
    variables = [operands[i] for i in variable_indices(name)]
    assert out.grad == 1.0
    assert [v.grad for v in variables] == analytic_first(name, point)


def test_step_has_zero_derivative_on_both_sides():
    for x in (-1.5, 2.0):
        v = Value(x)
        v.step().backward()
        assert v.grad == 0.0
    assert math.isclose(Value(-1.0).step().data, 0.0) and Value(0.0).step().data == 1.0


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda x: abs(x), 0.0),
        (lambda x: x.relu(), 0.0),
        (lambda x: x.leaky_relu(0.1), 0.1),
        (lambda x: x.step(), 0.0),
    ],
    ids=["abs", "relu", "leaky_relu", "step"],
)
def test_derivative_at_a_kink_follows_pytorch_convention(make, expected):
    x = Value(0.0)
    make(x).backward()
    assert x.grad == expected


# --------------------------------------------------------------------------------------------
# Overflow: one rule for every primitive, eager and taped
# --------------------------------------------------------------------------------------------

EXTREMES = (-1e308, -1e200, -3.0, -0.5, 0.0, 1e-300, 0.5, 3.0, 1e200, 1e308)


def float_forward_overflows(prim, point) -> bool | None:
    """True if the float forward overflows on these finite operands (an infinite or NaN result,
    or Python's own OverflowError), False if its result is finite, None for a domain error."""
    try:
        result = prim.forward(*point)
    except OverflowError:
        return True
    except (ValueError, ZeroDivisionError):
        return None
    return not math.isfinite(result)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_overflow_from_finite_operands_raises_an_overflow_error_naming_op_and_operands(name):
    prim = PRIMITIVES[name]
    for point in itertools.product(EXTREMES, repeat=prim.arity):
        overflows = float_forward_overflows(prim, point)
        if overflows is None:
            continue
        operands = [Value(x) for x in point]
        if overflows:
            call = f"{name}({', '.join(map(repr, point))}): the result overflows a float"
            with pytest.raises(OverflowError, match=re.escape(call)):
                apply(prim, *operands)
        else:
            assert apply(prim, *operands).data == prim.forward(*point), point


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_a_traced_primitive_overflows_exactly_where_the_eager_one_does(name):
    prim = PRIMITIVES[name]
    tape = autograd.trace(lambda *xs: apply(prim, *xs), prim.arity, example=valid_points(name)[0])
    for point in itertools.product(EXTREMES, repeat=prim.arity):
        overflows = float_forward_overflows(prim, point)
        if overflows is None:
            continue
        if overflows:
            with pytest.raises(OverflowError, match="over the batch: the result overflows a float"):
                tape(np.array([point]))
        else:
            got = tape(np.array([point]))[0]
            assert got == pytest.approx(prim.forward(*point), rel=1e-12), point


def test_infinite_operands_pass_their_infinity_on_without_an_error():
    assert (Value(math.inf) * 2).data == math.inf
    assert math.isnan((Value(math.inf) - math.inf).data)
    assert Value(-math.inf).exp().data == 0.0


# The operators record with a copy of _compute's steps (one call fewer per op): they must make
# the very node apply() makes, and raise the very error, on every extreme pair of operands.


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_an_operator_records_and_refuses_exactly_as_apply_does(name):
    prim = PRIMITIVES[name]
    op = OPERATORS[prim.symbol]
    for point in itertools.product(EXTREMES, repeat=2):
        x, y = Value(point[0], label="x"), Value(point[1])
        try:
            expected = apply(prim, x, y)
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            with pytest.raises(type(exc)) as info:
                op(x, y)
            assert str(info.value) == str(exc)
            continue
        got = op(x, y)
        assert (type(got), got.data, got.op, got.parents, got.label, got.grad) == (
            Value,
            expected.data,
            name,
            (x, y),
            "",
            0.0,
        )
        with autograd.no_grad():
            assert op(x, y).is_leaf and op(x, y).data == expected.data
