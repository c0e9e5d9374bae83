"""``chainrule draw``: expressions parsed safely (hostile ones refused before anything is
evaluated), inputs checked by name, output format from the -o suffix, steps, exit codes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from autograd import PRIMITIVES
from autograd.viz import expr, find_renderer, render, renderer
from nn.cli import main

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
    monkeypatch.setattr(
        renderer.shutil, "which", lambda name, path=None: None
    )  # DOT needs no renderer
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


@pytest.mark.parametrize("name", [n for n, p in PRIMITIVES.items() if p.arity == 1])
def test_every_one_operand_primitive_is_drawable_from_the_command_line(capsys, name):
    status, out, err = run(capsys, f"{name}(x)", "x=0.7", "-o", "-")
    assert status == 0, err
    assert f'tooltip="{name}: {PRIMITIVES[name].symbol}"' in out  # the op's ellipse
    assert f"{name}(x) = {PRIMITIVES[name].forward(0.7):.4f}" in err  # the summary line


def test_the_help_lists_every_function_with_its_entry_s_line(capsys):
    with pytest.raises(SystemExit):
        main(["draw", "--help"])
    out = capsys.readouterr().out
    for name, prim in PRIMITIVES.items():
        if prim.arity == 1:
            assert f"  {name}(x) " in out and prim.doc in out
    assert "leaky_relu(x, alpha)" in out


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
    monkeypatch.setattr(renderer.shutil, "which", lambda name, path=None: None)
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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x * 1e999", "the number 1e999 is too large for a float"),
        ("x - 1e999", "the number 1e999 is too large for a float"),
        ("x * 1" + "0" * 400, "the number 10000000000000000... is too large for a float"),
        ("x * 1e308 * 10", "mul(1e+308, 10.0): the result overflows a float"),
    ],
)
def test_literals_and_results_must_be_finite_as_inputs_must(capsys, text, message):
    status, out, err = run(capsys, text, "x=1")
    assert status == 2 and message in err and out == ""


def test_python_dash_m_autograd_draw_runs():
    done = subprocess.run(
        [sys.executable, "-m", "nn", "draw", "a*b", "a=2", "b=3"],
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
    ("leaky_relu(x, x)", "alpha must be a number"),
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


# --------------------------------------------------------------------------------------------
# Negative number exponents, long flat chains, --max-nodes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "grad"),
    [
        ("x**-2", "x=-3", "d/dx = 0.0741"),
        ("x**(-1)", "x=-2", "d/dx = -0.2500"),
        ("x**(-1/2)", "x=4", "d/dx = -0.0625"),
        ("x**-(2*1)", "x=-3", "d/dx = 0.0741"),
    ],
)
def test_a_negative_number_exponent_is_a_number_even_for_a_negative_base(capsys, text, value, grad):
    status, out, err = run(capsys, text, value)
    assert status == 0, err
    assert grad in err and "value_pow" not in out


def test_x_to_the_minus_two_draws_like_the_python_api():
    from autograd import Value
    from autograd.viz import draw

    x = Value(-3.0, label="x")
    api = x**-2
    api.backward()
    result, _ = expr.build("x**-2", {"x": -3.0})
    result.backward()
    assert draw(result).source == draw(api).source


def test_numbers_alone_fold_into_one_number_and_a_named_exponent_stays_differentiated(capsys):
    from autograd.value import Constant

    assert type(expr.build("-2", {})[0]) is Constant and expr.build("-2", {})[0].data == -2.0
    assert expr.build("2 * -(3 - 1)", {})[0].data == -4.0
    status, _, err = run(capsys, "x**y", "x=2", "y=3")
    assert status == 0 and "d/dx = 12.0000" in err and "d/dy = 5.5452" in err


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_a_long_flat_chain_is_one_level_of_nesting(capsys, op):
    status, out, err = run(capsys, op.join(["x"] * 61), "x=1")
    assert status == 0, err
    assert out.startswith("digraph")


def test_the_longest_accepted_inputs_build_differentiate_and_draw_without_recursion_errors():
    from autograd.viz import draw

    flat = "+".join(["x"] * 500)  # 999 parts: just under MAX_NODES
    nested = "tanh(" * 50 + "+".join(["x"] * 400) + ")" * 50
    signs = "-(" * 58 + "*".join(["x"] * 400) + ")" * 58
    for text, x in ((flat, 1.0), (nested, 0.001), (signs, 1.0)):
        result, leaves = expr.build(text, {"x": x})
        result.backward()
        assert leaves["x"].grad != 0
        assert draw(result, max_nodes=5000).source.startswith("digraph")


@pytest.mark.parametrize(
    "text",
    [
        "(x+" * 61 + "x" + ")" * 61,  # a chain only continues through its left operand
        "x**" * 61 + "x",  # ** nests to the right
        "tanh(" * 61 + "x" + ")" * 61,
        "-" * 61 + "x",
    ],
)
def test_genuine_nesting_is_still_refused(capsys, text):
    status, _, err = run(capsys, "--", text, "x=1")
    assert status == 2 and "nested too deeply" in err


def test_too_large_for_the_cli_suggests_max_nodes_not_a_python_option(capsys):
    from autograd.viz import GraphTooLargeError, draw

    status, out, err = run(capsys, "x*y + x", "x=1", "y=2", "--max-nodes", "3")
    assert status == 2 and out == ""
    assert "over --max-nodes 3" in err and "raise the limit with --max-nodes N" in err
    assert "collapse" not in err and "max_nodes" not in err
    result, _ = expr.build("x*y + x", {"x": 1.0, "y": 2.0})
    with pytest.raises(GraphTooLargeError, match="raise max_nodes"):
        draw(result, max_nodes=3)  # the Python API's message names its own option


def test_max_nodes_is_honoured_when_large_enough(capsys):
    assert run(capsys, "x*y + x", "x=1", "y=2", "--max-nodes", "7")[0] == 0


@pytest.mark.parametrize("bad", ["0", "-5", "many"])
def test_max_nodes_must_be_a_positive_whole_number(capsys, bad):
    with pytest.raises(SystemExit) as exit_info:
        main(["draw", "x", "x=1", f"--max-nodes={bad}"])
    assert exit_info.value.code == 2
    assert "argument --max-nodes" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Output files and --steps' budget
# --------------------------------------------------------------------------------------------


@needs_renderer
@pytest.mark.parametrize("name", ["G.SVG", "g.Svg", "graph.v2.svg"])
def test_output_is_written_under_exactly_the_name_given(capsys, tmp_path, name):
    status, out, _ = run(capsys, "x*2", "x=3", "-o", str(tmp_path / name))
    assert status == 0 and f"wrote {tmp_path / name}" in out
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_text().lstrip().startswith(("<?xml", "<svg"))


def test_python_save_writes_exactly_the_name_given(tmp_path):
    from autograd import Value
    from autograd.viz import save

    assert save(Value(2.0, label="x") * 3, tmp_path / "G.DOT") == tmp_path / "G.DOT"
    assert [p.name for p in tmp_path.iterdir()] == ["G.DOT"]


@pytest.mark.parametrize("under", ["afile/g.dot", "afile/deeper/g.dot"])
def test_output_under_a_file_says_which_file_is_in_the_way(capsys, tmp_path, under):
    (tmp_path / "afile").write_text("keep")
    status, _, err = run(capsys, "x*2", "x=3", "-o", str(tmp_path / under))
    assert status == 1
    assert err == (
        f"chainrule draw: cannot write {tmp_path / under}: {tmp_path / 'afile'} is a file, "
        "not a directory\n"
    )
    assert (tmp_path / "afile").read_text() == "keep"


def test_steps_folder_under_a_file_says_which_file_is_in_the_way(capsys, tmp_path):
    (tmp_path / "afile").write_text("keep")
    frames = tmp_path / "afile" / "frames"
    status, _, err = run(capsys, "x*2", "x=3", "-o", "-", "--steps", str(frames))
    assert status == 1
    assert err == (
        f"chainrule draw: cannot write {frames}: {tmp_path / 'afile'} is a file, not a directory\n"
    )
    assert (tmp_path / "afile").read_text() == "keep"


def test_explore_under_a_file_says_which_file_is_in_the_way(capsys, tmp_path):
    (tmp_path / "afile").write_text("keep")
    page = tmp_path / "afile" / "p.html"
    status = main(["explore", "x*2", "x=3", "-o", str(page)])
    _, err = capsys.readouterr()
    assert status == 1
    assert err == (
        f"chainrule explore: cannot write {page}: {tmp_path / 'afile'} is a file, not a directory\n"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_output_onto_a_fifo_is_refused_without_blocking(capsys, tmp_path):
    os.mkfifo(tmp_path / "g.dot")
    status, _, err = run(capsys, "x*2", "x=3", "-o", str(tmp_path / "g.dot"))
    assert status == 1
    assert err.startswith(f"chainrule draw: cannot write {tmp_path / 'g.dot'}: it is a FIFO")
    assert stat.S_ISFIFO(os.stat(tmp_path / "g.dot").st_mode)


@pytest.mark.skipif(os.name != "posix", reason="a shell script as the renderer")
def test_renderer_killed_by_a_signal_says_it_crashed_and_suggests_a_smaller_graph(
    capsys, tmp_path, monkeypatch
):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\ncat > /dev/null\nkill -SEGV $$\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    status, _, err = run(
        capsys, "tanh(x*w + b)", "x=1", "w=2", "b=3", "-o", str(tmp_path / "g.svg")
    )
    assert status == 1
    assert err.startswith("chainrule draw: dot -Tsvg crashed (killed by SIGSEGV")
    assert "draw fewer nodes: a smaller expression" in err and "Traceback" not in err
    assert not (tmp_path / "g.svg").exists()


def test_steps_over_the_frame_budget_is_refused_before_anything_is_written(capsys, tmp_path):
    status, _, err = run(
        capsys, "x+x+x+x", "x=1", "-o", str(tmp_path / "g.dot"), "--steps", str(tmp_path / "f"),
        "--max-frames", "2",
    )  # fmt: skip
    assert status == 2
    assert err == (
        "chainrule draw: --steps would write 5 frames, over the budget of 2 frames (one frame "
        "per backward step, each rendering the whole graph): draw a smaller expression, or "
        "raise the budget with --max-frames N\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_steps_default_frame_budget_refuses_a_199_term_sum(capsys, tmp_path, monkeypatch):
    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered before the budget was checked (40 minutes of dot)")

    monkeypatch.setattr(render, "render", no_rendering)
    status, _, err = run(capsys, "+".join(["x"] * 199), "x=1", "--steps", str(tmp_path / "f"))
    assert status == 2 and "200 frames, over the budget of 100 frames" in err
    assert not (tmp_path / "f").exists()


@needs_renderer
def test_steps_over_the_time_budget_names_it_and_writes_no_frame(capsys, tmp_path, monkeypatch):
    from autograd.viz import steps

    clock = iter(range(0, 10**6, 30))  # every reading of the clock: 30 s later, so the
    # first frame seems to take 60 s and its 4 frames about 4 minutes
    monkeypatch.setattr(steps, "_clock", lambda: next(clock))
    status, _, err = run(
        capsys, "x*x*x", "x=2", "--steps", str(tmp_path / "f"), "--max-seconds", "100"
    )
    assert status == 2
    assert err.startswith("chainrule draw: --steps would take about 4 minutes to render, over")
    assert err.endswith("raise the budget with --max-seconds S\n")
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize(
    ("flag", "bad"),
    [
        ("--max-frames", "0"),
        ("--max-seconds", "-1"),
        ("--max-seconds", "nan"),
        ("--max-seconds", "inf"),
    ],
)
def test_budget_flags_must_be_positive(capsys, flag, bad):
    with pytest.raises(SystemExit) as info:
        main(["draw", "x", "x=1", "--steps", "f", flag, bad])
    assert info.value.code == 2
    assert flag in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Non-ASCII names
# --------------------------------------------------------------------------------------------


def test_greek_names_work_as_inputs(capsys):
    status, out, err = run(capsys, "sin(θ) * α", "θ=0.5", "α=2")
    assert status == 0 and "d/dθ = 1.7552" in err and "d/dα = 0.4794" in err
    assert "<B>θ</B>" in out


@pytest.mark.parametrize(
    "text,written,read",
    [("ｘ*2", "ｘ", "x"), ("ｅｘｐ(x)", "ｅｘｐ", "exp"), ("ﬁ + x", "ﬁ", "fi"), ("ℌ*x", "ℌ", "H")],
)
def test_a_name_python_would_normalise_is_refused_never_read_as_another(
    capsys, text, written, read
):
    status, out, err = run(capsys, text, "x=3", "fi=1", "H=1")
    assert status == 2 and out == ""
    assert err.startswith(f"chainrule draw: the name {written} (U+")
    assert err.endswith(f"would be read as {read}: type {read} if you mean it\n")


def test_an_input_name_python_would_normalise_is_refused(capsys):
    status, _, err = run(capsys, "x*2", "ｘ=3")
    assert status == 2
    assert err == (
        "chainrule draw: input name ｘ (U+FF58 FULLWIDTH LATIN SMALL LETTER X) would be read "
        "as x in the expression: call it x\n"
    )


def test_a_look_alike_letter_is_named_by_its_code_point(capsys):
    status, _, err = run(capsys, "х*2", "x=3")  # Cyrillic х in the expression, Latin x given
    assert status == 2
    assert "missing input value(s): х (U+0445 CYRILLIC SMALL LETTER HA)" in err
    assert "input(s) not in the expression: x" in err


def test_a_caret_for_a_power_points_to_the_double_star(capsys):
    status, out, err = run(capsys, "x^2", "x=3")
    assert status == 2 and out == ""
    assert "^ is not allowed" in err and "for a power write x**2" in err, err


@pytest.mark.parametrize("command", ["draw", "explore"])
def test_a_missing_expression_does_not_claim_the_inputs_are_required(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "required: expression" in err and "NAME=VALUE" not in err.splitlines()[-1], err
