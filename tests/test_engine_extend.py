"""A primitive defined from user code (``autograd.define_primitive``) is a full member of the table:
differentiated correctly (finite differences, second order, the tape), a Value method, a
``chainrule draw`` function, drawn; a refused definition changes nothing."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autograd
import nn
from autograd import PRIMITIVES, TracingError, Value, define_primitive, gradcheck, trace
from nn.cli import main


def _forget(name: str) -> None:
    """Take a test's primitive out of the table again, so other tests never see it."""
    PRIMITIVES.pop(name, None)
    if name in vars(Value):
        delattr(Value, name)


@pytest.fixture
def softsign():
    # softsign(x) = x / (1 + |x|); d/dx = 1 / (1 + |x|)^2.  Not in the table.
    assert "softsign" not in PRIMITIVES and not hasattr(Value, "softsign")
    op = define_primitive(
        "softsign",
        forward=lambda a: a / (1 + abs(a)),
        vjp=lambda g, out, a: (g / ((1 + abs(a)) * (1 + abs(a))),),
        doc="x / (1 + |x|).",
    )
    yield op
    _forget("softsign")


@pytest.fixture
def hypot():
    op = define_primitive(
        "hypot2",
        forward=lambda a, b: (a * a + b * b) ** 0.5,
        vjp=lambda g, out, a, b: (g * a / out, g * b / out),
        symbol="hypot",
    )
    yield op
    _forget("hypot2")


@pytest.mark.parametrize("x", [-2.5, -0.4, 0.3, 1.7])
def test_a_user_primitive_matches_finite_differences(softsign, x):
    assert gradcheck(softsign, [x])
    assert gradcheck(lambda v: v.softsign(), [x])  # the method is the same op


def test_a_user_primitive_is_in_the_table_and_a_method(softsign):
    x = Value(3.0, label="x")
    y = x.softsign()
    assert y.data == 0.75 and y.op == "softsign" and y.primitive is PRIMITIVES["softsign"]
    assert softsign(x).primitive is softsign.primitive is PRIMITIVES["softsign"]
    assert Value.softsign.__doc__ == "x / (1 + |x|)."
    y.backward()
    assert x.grad == pytest.approx(1 / 16)


def test_a_user_rule_differentiates_again(softsign):
    # d2/dx2 softsign = -2 sign(x) / (1 + |x|)^3: the rule ran on Values
    x = Value(1.0)
    (dx,) = autograd.grad(softsign(x), [x], create_graph=True)
    (d2x,) = autograd.grad(dx, [x])
    assert dx.data == pytest.approx(0.25) and d2x == pytest.approx(-2 / 8)


@pytest.fixture
def scalar_softplus():
    # written with math: runs on floats only (no array_forward), so a tape cannot replay it
    op = define_primitive(
        "scalar_softplus",
        forward=lambda a: math.log1p(math.exp(a)),
        vjp=lambda g, out, a: (g * autograd.primitives.sigmoid(a),),
    )
    yield op
    _forget("scalar_softplus")


def test_a_user_primitive_that_runs_on_floats_only_is_refused_when_traced(scalar_softplus):
    w = Value(0.5)
    with pytest.raises(TracingError, match=r"scalar_softplus.*numpy arrays.*array_forward"):
        trace(lambda x: (w * x).scalar_softplus(), 1)


def test_fit_and_predict_on_a_float_only_primitive_use_the_eager_engine(scalar_softplus):
    X, y = nn.data.noisy_line(10, seed=1)
    runs = []
    for engine in ("eager", "tape"):
        model = nn.MLP(1, [3, 1], activation=lambda z: z.scalar_softplus(), seed=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = nn.fit(model, X, y, epochs=2, engine=engine, progress=False)
        assert history.engine == "eager"
        if engine == "tape":
            assert any("scalar_softplus" in str(w.message) for w in caught)
        runs.append((history.step_loss, nn.predict(model, X), nn.predict(model, X, "eager")))
    (eager_loss, eager_out, _), (taped_loss, taped_out, reference) = runs
    assert taped_loss == eager_loss
    np.testing.assert_array_equal(taped_out, reference)
    np.testing.assert_array_equal(eager_out, reference)


def test_a_user_primitive_runs_on_the_tape(softsign):
    w = Value(0.5)
    tape = trace(lambda x: (w * x).softsign(), 1)
    X = np.array([[-3.0], [0.5], [2.0]])
    np.testing.assert_allclose(tape(X), [(w.data * x) / (1 + abs(w.data * x)) for x in X[:, 0]])
    tape.backward()
    eager = Value(0.5)
    for x in X[:, 0]:
        (eager * x).softsign().backward()
    assert w.grad == pytest.approx(eager.grad)


def test_a_user_primitive_is_drawn_and_a_command_line_function(softsign, capsys):
    assert "softsign" in autograd.draw(Value(1.0).softsign()).source
    assert main(["draw", "softsign(x) * 2", "x=3", "-o", "-"]) == 0
    out, err = capsys.readouterr()
    assert 'tooltip="softsign: softsign"' in out and "d/dx = 0.1250" in err
    with pytest.raises(SystemExit):
        main(["draw", "--help"])
    assert "softsign(x)          x / (1 + |x|)." in capsys.readouterr().out


def test_a_two_operand_user_primitive_is_a_function(hypot):
    a, b = Value(3.0), Value(4.0)
    c = hypot(a, b)
    assert c.data == 5.0 and c.parents == (a, b) and not hasattr(Value, "hypot2")
    assert gradcheck(hypot, [3.0, -4.0]) and gradcheck(lambda x: hypot(x, 2.0), [1.5])
    assert hypot(a, 0.0).data == 3.0  # a number becomes a Constant operand


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "relu"}, ValueError, "exists already"),
        ({"name": "backward"}, ValueError, "Value already has an attribute 'backward'"),
        ({"name": "not a name"}, ValueError, "public Python name"),
        ({"name": "_hidden"}, ValueError, "public Python name"),
        ({"vjp": lambda g, out: (g,)}, TypeError, r"\(g, out, a\)"),
        ({"vjp": max}, TypeError, r"\(g, out, a\)"),
        ({"forward": 3.0}, TypeError, "forward must be a function"),
    ],
)
def test_a_refused_definition_changes_nothing(kwargs, error, message):
    before = dict(PRIMITIVES)
    arguments = {
        "name": "twice",
        "forward": lambda a: 2 * a,
        "vjp": lambda g, out, a: (2 * g,),
        **kwargs,
    }
    with pytest.raises(error, match=message):
        define_primitive(**arguments)
    assert PRIMITIVES == before and not hasattr(Value, "twice")


@pytest.mark.parametrize(
    ("vjp", "got"),
    [
        (lambda g, out, a: 2 * g, "got 2.0"),  # the usual slip: no comma, so no tuple
        (lambda g, out, a: (2 * g, 0.0), r"got \(2.0, 0.0\)"),
        (lambda g, out, a: (None,), r"got \(None,\)"),
    ],
    ids=["a number", "two gradients", "None"],
)
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_rule_returning_other_than_one_gradient_per_input_is_named(vjp, got, create_graph):
    twice = define_primitive("twice", forward=lambda a: 2 * a, vjp=vjp)
    try:
        x = Value(1.0)
        shown = ".*" if create_graph else got  # the rule ran on Values: their reprs
        message = rf"^twice: vjp must return a tuple of 1 gradient, one per input .*, {shown}$"
        with pytest.raises(TypeError, match=message):
            twice(x).backward(create_graph=create_graph)
        assert x.grad == 0.0
    finally:
        _forget("twice")


def test_a_two_operand_rule_returning_one_gradient_is_named():
    times = define_primitive("times", forward=lambda a, b: a * b, vjp=lambda g, out, a, b: (g * b,))
    try:
        with pytest.raises(TypeError, match=r"^times: vjp must return a tuple of 2 gradients"):
            times(Value(1.0), Value(2.0)).backward()
    finally:
        _forget("times")


def test_define_primitive_interrupted_at_every_bytecode_registers_all_or_nothing():
    import os

    import injection

    engine = os.path.dirname(autograd.__file__)

    def define():
        define_primitive(
            "softsign",
            forward=lambda a: a / (1 + abs(a)),
            vjp=lambda g, out, a: (g / ((1 + abs(a)) * (1 + abs(a))),),
        )

    k = 0
    try:
        while True:
            k += 1
            finished = injection.run_interrupted_at(k, KeyboardInterrupt, define, engine) < k
            registered = ("softsign" in PRIMITIVES, hasattr(Value, "softsign"))
            assert registered in ((False, False), (True, True)), f"half registered at {k}"
            _forget("softsign")
            if finished:
                break
    finally:
        _forget("softsign")
    assert k > 50


@pytest.mark.parametrize(
    "vjp",
    [lambda g, out, a: (g * math.cos(a),), lambda g, out, a: (g * math.cos(float(a)),)],
    ids=["math.cos", "float"],
)
def test_a_rule_that_turns_a_value_into_a_number_under_create_graph_is_named(vjp):
    # math.cos(a) on a Value gives a float (Value.__float__): the first derivative is right, the
    # second came out None (0), silently, where it is -sin(a)
    mysin = define_primitive("mysin", forward=math.sin, vjp=vjp)
    try:
        x = Value(0.5, label="x")
        assert autograd.grad(mysin(x), [x]) == (pytest.approx(math.cos(0.5)),)
        message = r"^backward with create_graph=True through mysin\(x=0.5\): its rule turned"
        with pytest.raises(TypeError, match=message):
            autograd.grad(mysin(x), [x], create_graph=True)
        assert float(x) == 0.5  # float() of a Value works again after the pass
    finally:
        _forget("mysin")
