"""``chainrule draw``: expressions parsed safely (hostile ones refused before anything is
evaluated), inputs checked by name, output format from the -o suffix, steps, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograd.cli import main
from autograd.viz import expr, find_renderer, render

needs_renderer = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer")


def run(capsys, *args) -> tuple[int, str, str]:
    status = main(["draw", *args])
    out, err = capsys.readouterr()
    return status, out, err


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------


@needs_renderer
def test_draws_karpathys_neuron_to_svg(capsys, tmp_path):
    target = tmp_path / "graph.svg"
    status, out, _ = run(capsys, "tanh(x*w + b)", "x=2", "w=-3", "b=6.88", "-o", str(target))
    assert status == 0
    svg = target.read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg"))
    assert "grad &#45;1.5029" in svg and "data 0.7064" in svg  # dot writes - as &#45;
    assert "d/dx = -1.5029" in out and "d/dw = 1.0019" in out and f"wrote {target}" in out


@needs_renderer
def test_png_from_the_suffix(capsys, tmp_path):
    target = tmp_path / "g.png"
    assert run(capsys, "x**2", "x=3", "-o", str(target))[0] == 0
    assert target.read_bytes().startswith(b"\x89PNG")


def test_dot_from_the_suffix_and_options(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)  # DOT needs no renderer
    target = tmp_path / "sub" / "g.dot"
    status, *_ = run(
        capsys, "x*y", "x=2", "y=5", "-o", str(target), "--view", "gradient", "--edge-derivatives"
    )
    assert status == 0
    source = target.read_text()
    assert "grad 5.0000" in source and "data 2.0000" not in source
    assert "\u2202 5<" in source and "\u2202 2<" in source


def test_without_output_the_dot_text_goes_to_stdout(capsys):
    status, out, err = run(capsys, "x + 1", "x=1", "--chain-rule")
    assert status == 0 and out.startswith("digraph chainrule {")
    assert "grad = 1 \u00d7 1" in out
    assert "d/dx = 1.0000" in err


def test_unknown_suffix_is_refused(capsys, tmp_path):
    status, _, err = run(capsys, "x", "x=1", "-o", str(tmp_path / "g.gif"))
    assert status == 2 and ".svg, .png, .pdf or .dot" in err


@needs_renderer
def test_steps_writes_frames(capsys, tmp_path):
    status, out, _ = run(
        capsys,
        "sigmoid(w*x)",
        "x=1",
        "w=0.5",
        "-o",
        str(tmp_path / "g.svg"),
        "--steps",
        str(tmp_path / "f"),
    )
    assert status == 0
    frames = sorted(p.name for p in (tmp_path / "f").iterdir())
    assert frames == [f"step_{k:03d}.svg" for k in range(5)]  # forward + sigmoid, mul, w, x
    assert "wrote 5 frames" in out


def test_no_renderer_is_a_clear_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    status, _, err = run(capsys, "x", "x=1", "-o", str(tmp_path / "g.svg"))
    assert status == 1
    assert "apt-get install graphviz" in err and "pip install graphviz-pure" in err
    assert "Traceback" not in err


def test_every_function_is_accepted(capsys):
    text = "exp(x) + log(x) + sqrt(x) + tanh(x) + sigmoid(x) + relu(x) + leaky_relu(x, 0.1)"
    text += " + leaky_relu(-x) + step(x) + sin(x) + cos(x) + abs(-x) + x / 2 - -x + 2 ** x + +x"
    status, _, err = run(capsys, text, "x=0.5")
    assert status == 0, err


def test_domain_errors_are_reported(capsys):
    status, _, err = run(capsys, "log(x)", "x=-1")
    assert status == 2 and "cannot evaluate" in err and "log" in err
    status, _, err = run(capsys, "1 / (x - 1)", "x=1")
    assert status == 2 and "division by zero" in err
    status, _, err = run(capsys, "9 ** 9 ** 9", "")  # overflows fast, as floats
    assert status == 2


def test_python_dash_m_autograd_draw_runs():
    done = subprocess.run(
        [sys.executable, "-m", "autograd", "draw", "a*b", "a=2", "b=3"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.startswith("digraph")
    assert "d/da = 3.0000" in done.stderr


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x*y", "x=1"], "missing input value(s): y"),
        (["x", "x=1", "z=2", "q=3"], "input(s) not in the expression: z, q"),
        (["x*y"], "missing input value(s): x, y"),
        (["x", "x=1", "x=2"], "input x is given twice"),
        (["x", "x=one"], "'one' is not a number"),
        (["x", "x"], "name=number"),
        (["x", "x=nan"], "finite"),
        (["x", "x=inf"], "finite"),
        (["x", "exp=1"], "function name"),
        (["x", "__class__=1"], "names starting with _"),
    ],
)
def test_bad_inputs_are_named(capsys, args, message):
    status, out, err = run(capsys, *args)
    assert status == 2 and message in err and out == ""


# --------------------------------------------------------------------------------------------
# Hostile expressions: refused, and nothing evaluated
# --------------------------------------------------------------------------------------------

HOSTILE = [
    ("__import__('os').system('touch pwned')", "only the known functions"),
    ("__import__('os')", "names starting with _"),
    ("x.__class__", "attribute access"),
    ("x.real", "attribute access"),
    ("(lambda: 1)()", "only the known functions"),
    ("lambda: x", "lambda"),
    ("[x for x in (1, 2)]", "comprehensions"),
    ("sum(x for x in (1,))", "unknown function sum"),
    ("x[0]", "subscripts"),
    ("'a' * 3", "only numbers"),
    ("True + x", "only numbers"),
    ("1j * x", "only numbers"),
    ("x if x else x", "conditional"),
    ("x < 1", "comparisons"),
    ("x and x", "and/or"),
    ("(x := 2)", "assignment"),
    ("x // 2", "operator FloorDiv"),
    ("x % 2", "operator Mod"),
    ("x @ x", "operator MatMult"),
    ("x << 1", "operator LShift"),
    ("~x", "unary Invert"),
    ("not x", "unary Not"),
    ("exp(x=1)", "keyword"),
    ("exp(x, x)", "takes 1 argument"),
    ("leaky_relu(x, x)", "slope must be a number"),
    ("exp", "is a function"),
    ("eval('1')", "unknown function eval"),
    ("open('f')", "unknown function open"),
    ("getattr(x, 'y')", "unknown function getattr"),
    ("exp.__call__(x)", "only the known functions"),
    ("[x]", "lists"),
    ("(x, x)", "tuples"),
    ("{x: x}", "dicts"),
    ("f'{x}'", "f-strings"),
    ("*x", "not a valid expression"),
    ("x = 1", "not a valid expression"),
    ("import os", "not a valid expression"),
    ("x +", "not a valid expression"),
    ("", "empty"),
    ("x" + " + x" * 1000, "too long"),
    ("(" * 250 + "x" + ")" * 250, "nested"),
    ("-" * 500 + "x", "nested"),
    ("exp(" * 100 + "x" + ")" * 100, "nested"),
    ("x+" * 600 + "x", "too"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_hostile_expressions_are_refused_before_anything_runs(
    capsys, monkeypatch, tmp_path, text, message
):
    monkeypatch.chdir(tmp_path)
    evaluated = []
    monkeypatch.setattr(expr, "_evaluate", lambda *a: evaluated.append(a))
    status, out, err = (
        run(capsys, "--", text, "x=1") if text.startswith("-") else run(capsys, text, "x=1")
    )
    assert status == 2
    assert message in err, err
    assert "Traceback" not in err and out == ""
    assert evaluated == []
    assert not (tmp_path / "pwned").exists()


def test_parse_refuses_non_strings():
    with pytest.raises(expr.ExpressionError):
        expr.parse(b"x")  # type: ignore[arg-type]


def test_names_come_in_order_of_appearance():
    assert expr.names(expr.parse("b * tanh(a) + b + c")) == ["b", "a", "c"]
