"""autograd.compare_with_torch: one function run on Values and on torch tensors, side by side.

Every primitive of the table is reached through the Value API (operators and methods) and must
give torch's value and gradient, also at the kinks (where the conventions must agree).  torch
stays optional: the tests that simulate a missing torch run in a subprocess, with or without it.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import autograd
from autograd import PRIMITIVES, Value, no_grad
from autograd.pytorch import Comparison, Row, relative_difference

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# One way to reach each primitive through the Value API, with points in its domain (kinks
# included: torch and chainrule must take the same one-sided derivative there).
SMOOTH = (-1.7, -0.3, 0.6, 2.2)
VIA_VALUE_API = {
    "add": (lambda a, b: a + b, [(1.5, -0.25), (-2.0, 3.0)]),
    "sub": (lambda a, b: a - b, [(1.5, -0.25), (-2.0, 3.0)]),
    "mul": (lambda a, b: a * b, [(1.5, -0.25), (-2.0, 3.0)]),
    "div": (lambda a, b: a / b, [(1.5, -0.25), (-2.0, 3.0)]),
    "neg": (lambda a: -a + 2 * a.neg(), [(x,) for x in SMOOTH]),
    "abs": (lambda a: abs(a) + 2 * a.abs(), [(x,) for x in (*SMOOTH, 0.0)]),
    "pow": (lambda a: a**3 + a**-2 + abs(a) ** 0.5, [(x,) for x in SMOOTH]),
    "value_pow": (lambda a, b: a**b + 2**b, [(1.5, -0.25), (0.3, 3.0), (2.0, 0.0)]),
    "exp": (lambda a: a.exp(), [(x,) for x in SMOOTH]),
    "log": (lambda a: a.log(), [(0.6,), (2.2,), (1e-3,)]),
    "sqrt": (lambda a: a.sqrt(), [(0.6,), (2.2,), (1e-3,)]),
    "sin": (lambda a: a.sin(), [(x,) for x in SMOOTH]),
    "cos": (lambda a: a.cos(), [(x,) for x in SMOOTH]),
    "tanh": (lambda a: a.tanh(), [(x,) for x in (*SMOOTH, 20.0)]),
    "sigmoid": (lambda a: a.sigmoid(), [(x,) for x in (*SMOOTH, -40.0, 40.0)]),
    "softplus": (lambda a: a.softplus(), [(x,) for x in (*SMOOTH, -40.0, 40.0)]),
    "relu": (lambda a: a.relu(), [(x,) for x in (*SMOOTH, 0.0)]),
    "leaky_relu": (
        lambda a: a.leaky_relu() + a.leaky_relu(0.2),
        [(x,) for x in (*SMOOTH, 0.0)],
    ),
    "step": (lambda a, b: a.step() * b + a, [(x, 1.5) for x in (*SMOOTH, 0.0)]),
}


def test_every_primitive_has_a_torch_check():
    assert set(VIA_VALUE_API) == set(PRIMITIVES)


def test_every_value_method_exists_on_the_tensors_fn_gets(torch):
    from autograd.torch_ops import ValueTensor

    methods = [n for n, f in vars(Value).items() if not n.startswith("_") and callable(f)]
    assert {"exp", "softplus", "leaky_relu", "step"} <= set(methods)
    assert [n for n in methods if not hasattr(ValueTensor, n)] == []


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_gives_torchs_value_and_gradients(torch, name):
    fn, points = VIA_VALUE_API[name]
    for point in points:
        report = autograd.compare_with_torch(fn, *point, rtol=1e-12, atol=0.0)
        assert report.ok, str(report)
        assert len(report.gradients) == len(point)


def test_report_lists_output_and_each_gradient_with_parameter_names(torch):
    def f(a, b):
        return (a * b + a**2).tanh()

    report = autograd.compare_with_torch(f, 2.0, Value(-3.0, label="ignored"))
    assert [r.name for r in report.rows] == ["f", "df/da", "df/db"]
    assert [r.kind for r in report.rows] == ["value", "grad", "grad"]
    assert report.values == (report["f"],)
    assert report["df/da"].chainrule == pytest.approx(0.07065082485316443, rel=1e-15)
    assert report["df/db"].torch == pytest.approx(0.14130164970632886, rel=1e-12)
    assert report.ok and report.max_rel_diff < 1e-12
    text = str(report)
    assert text.splitlines()[0] == "chainrule vs torch: f(a=2.0, b=-3.0)"
    assert "rel. diff" in text and "df/db" in text
    assert text.splitlines()[-1].startswith("all 3 agree")
    assert repr(report) == text


def test_lambda_and_star_args_are_named_from_labels_or_position(torch):
    report = autograd.compare_with_torch(
        lambda *xs: xs[0] * xs[1], Value(2.0, label="w"), Value(3.0)
    )
    assert [r.name for r in report.rows] == ["f", "df/dw", "df/dx1"]


def test_a_function_that_differs_on_tensors_is_reported_as_disagreeing(torch):
    def sneaky(a):
        return a * 2 if isinstance(a, Value) else a * 2.5

    report = autograd.compare_with_torch(sneaky, 3.0)
    assert not report.ok
    assert [r.name for r in report.disagreeing] == ["sneaky", "dsneaky/da"]
    assert report["dsneaky/da"].rel_diff == pytest.approx(0.2)
    assert "2 of 2 DISAGREE" in str(report)
    assert "✗" in str(report)


def test_an_input_the_output_does_not_use_has_gradient_zero_in_both(torch):
    report = autograd.compare_with_torch(lambda a, b: a.exp(), 1.0, 5.0)
    assert (report["df/db"].chainrule, report["df/db"].torch) == (0.0, 0.0)
    assert report.ok


def test_inputs_given_as_values_are_left_as_they_were(torch):
    a = Value(0.5, label="a")
    a.grad = 7.0
    autograd.compare_with_torch(lambda x: x.sigmoid(), a)
    assert (a.data, a.grad, a.is_leaf) == (0.5, 7.0, True)


def test_works_inside_no_grad(torch):
    with no_grad():
        report = autograd.compare_with_torch(lambda x: x * x, 3.0)
    assert report["df/dx"].chainrule == 6.0 == report["df/dx"].torch


def test_a_value_made_inside_fn_is_a_clear_error_on_tensors(torch):
    with pytest.raises(TypeError, match="ran on Values but not on torch tensors.*operators"):
        autograd.compare_with_torch(lambda x: x * Value(2.0), 1.0)


def test_a_model_inside_fn_points_to_to_torch(torch):
    import nn

    model = nn.Neuron(1, "tanh", seed=0)
    with pytest.raises(TypeError, match="model.to_torch.*compare_parameters"):
        autograd.compare_with_torch(lambda x: model([x]), 0.5)


def test_a_primitive_of_ones_own_is_named_as_having_no_torch_counterpart(torch):
    softsign = autograd.define_primitive(
        "softsign_for_torch_test",
        forward=lambda a: a / (1 + abs(a)),
        vjp=lambda g, out, a: (g / ((1 + abs(a)) * (1 + abs(a))),),
    )
    try:
        for fn in (softsign, lambda x: x.softsign_for_torch_test()):
            with pytest.raises(TypeError, match="uses softsign_for_torch_test, a primitive torch"):
                autograd.compare_with_torch(fn, 0.5)
    finally:  # out of the table again, so other tests never see it
        PRIMITIVES.pop("softsign_for_torch_test")
        delattr(Value, "softsign_for_torch_test")


def test_compare_with_torch_is_listed_by_dir():
    assert "compare_with_torch" in dir(autograd)


def test_a_report_is_not_a_truth_value(torch):
    report = autograd.compare_with_torch(lambda x: x * 2, 1.0)
    with pytest.raises(TypeError, match="use .ok"):
        assert report


def test_a_chainrule_loss_inside_fn_is_a_clear_error_on_tensors(torch):
    import nn

    with pytest.raises(TypeError, match="nn.functional.mse"):
        autograd.compare_with_torch(lambda x: nn.functional.mse(x, 1.0), 3.0)


def test_several_outputs_are_refused_with_advice(torch):
    with pytest.raises(TypeError, match="one number.*got a list of 2.*one at a time"):
        autograd.compare_with_torch(lambda x: [x, x * 2], 1.0)
    with pytest.raises(TypeError, match="got float"):
        autograd.compare_with_torch(lambda x: 1.0, 1.0)


def test_bad_inputs_are_named(torch):
    with pytest.raises(ValueError, match="at least one input"):
        autograd.compare_with_torch(lambda: Value(1.0))
    with pytest.raises(TypeError, match="input 1: Value wraps one real number"):
        autograd.compare_with_torch(lambda a, b: a * b, 1.0, "2")


def test_a_domain_error_is_chainrules_own(torch):
    with pytest.raises(ValueError, match=r"log\(a=-1.0\)"):
        autograd.compare_with_torch(lambda a: a.log(), -1.0)


def test_relative_difference_and_closeness():
    assert relative_difference(1.0, 1.0) == 0.0
    assert relative_difference(2.0, 1.0) == 0.5
    assert relative_difference(math.nan, math.nan) == 0.0
    assert relative_difference(math.nan, 1.0) == math.inf
    assert relative_difference(-math.inf, -math.inf) == 0.0
    assert Row("x", "value", 0.0, 1e-13).close(rtol=1e-9, atol=1e-12)
    assert not Row("x", "value", 0.0, 1e-11).close(rtol=1e-9, atol=1e-12)
    report = Comparison("t", (Row("x", "value", 1.0, 1.0 + 1e-10),), rtol=1e-9)
    assert report.ok and not Comparison("t", report.rows, rtol=1e-11).ok
    with pytest.raises(KeyError, match="no row 'y'; rows: x"):
        report["y"]


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_autograd_and_nn_never_import_torch():
    result = _python(
        """
        import sys
        import autograd, nn, autograd.pytorch, nn.pytorch
        from autograd import Value
        m = nn.MLP(2, [3, 1], seed=0)
        m([1.0, 2.0]).backward()
        assert "torch" not in sys.modules, "torch was imported"
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_without_torch_compare_with_torch_says_how_to_install_it():
    result = _python(
        """
        import sys
        sys.modules["torch"] = None  # as if torch were not installed
        import autograd
        try:
            autograd.compare_with_torch(lambda a: a * a, 2.0)
        except ModuleNotFoundError as exc:
            assert exc.name == "torch", exc.name
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "compare_with_torch needs PyTorch" in result.stdout
    assert 'pip install "chainrule[torch]"' in result.stdout
