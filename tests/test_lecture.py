"""`chainrule lecture`: the slide's numbers, its variants, its files and its JSON."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from functools import partial

import injection
import pytest

import autograd
from nn import lecture
from nn.cli import main

# The slide's values, worked out by hand from x = [2, 3], y = 1, W1, W2.
H = [2 * -0.78 + 3 * 0.85, 2 * 0.13 + 3 * 0.23]  # [0.99, 0.95]
Y_HAT = 1.8 * H[0] + 0.40 * H[1]  # 2.162
ERROR = Y_HAT - 1
SLIDE_GRAD = {
    "W1": [[ERROR * 1.8 * 2, ERROR * 0.40 * 2], [ERROR * 1.8 * 3, ERROR * 0.40 * 3]],
    "W2": [[ERROR * H[0]], [ERROR * H[1]]],
}


def run_json(capsys, *args) -> dict:
    assert main(["lecture", "--json", *args]) == 0
    out = capsys.readouterr().out
    return json.loads(out)  # the whole of stdout is one JSON object


def test_json_has_the_slides_numbers(capsys, tmp_path):
    result = run_json(capsys, "--no-draw")
    assert result["x"] == [2, 3] and result["y"] == 1
    assert result["h"] == pytest.approx(H, abs=1e-12)
    assert result["h"] == pytest.approx([0.99, 0.95], abs=1e-12)
    assert result["y_hat"] == pytest.approx(2.162, abs=1e-9)
    assert result["loss"] == pytest.approx(0.675122, abs=1e-9)
    for name, rows in SLIDE_GRAD.items():
        for got_row, formula_row, want_row in zip(
            result["grad"][name], result["formula_grad"][name], rows, strict=True
        ):
            assert got_row == pytest.approx(want_row, abs=1e-9)
            assert formula_row == pytest.approx(want_row, abs=1e-9)
    assert result["match"] is True
    assert result["files"] == []


def test_gradient_step_lowers_the_loss_with_a_small_rate(capsys):
    result = run_json(capsys, "--no-draw", "--lr", "0.01")
    assert result["step"]["loss"] < result["loss"]


def test_default_step_overshoots_and_says_so(capsys):
    assert main(["lecture", "--no-draw"]) == 0
    out = capsys.readouterr().out
    assert "All gradients agree." in out
    assert "overshot" in out


@pytest.mark.parametrize("activation", ["linear", "sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("bias", [False, True])
def test_variants_agree_with_formulas_and_finite_differences(activation, bias):
    example, _ = lecture.compute(activation, bias)
    assert example.match()
    if bias:
        assert set(example.grad) == {"W1", "W2", "b1", "b2"}
        assert example.grad["b2"][0] == pytest.approx(example.y_hat - 1, abs=1e-12)


def test_a_wrong_formula_would_be_caught():
    example, _ = lecture.compute("sigmoid")
    example.formula_grad["W1"][0][0] += 1e-6
    assert not example.match()


def test_bad_learning_rate_is_refused(capsys):
    assert main(["lecture", "--no-draw", "--lr", "-1"]) == 2
    assert "--lr must be a positive number" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args", [[], ["--activation", "sigmoid", "--output-activation", "tanh", "--bias"]]
)
def test_the_backward_table_stays_in_columns_with_the_longest_formula(capsys, args):
    assert main(["lecture", "--no-draw", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(k for k, line in enumerate(lines) if line.lstrip().startswith("weight"))
    rows = lines[start + 1 : lines.index("", start)]
    assert len(rows) >= 6 and len({len(row) for row in rows}) == 1, "\n".join(rows)


def test_one_input_and_one_weight_are_singular(capsys):
    assert main(["lecture", "--no-draw", "--x", "2", "--w1", "1,2", "--w2", "1,1"]) == 0
    assert "Network: 1 input -> 2 hidden units" in capsys.readouterr().out
    assert main(["lecture", "--no-draw", "--w2", "1"]) == 2
    assert "W2 has 1 weight but W1 is 2x2" in capsys.readouterr().err


def test_html_with_no_draw_is_refused_not_silently_ignored(capsys, tmp_path):
    out = tmp_path / "graphs"
    assert main(["lecture", "--html", "--no-draw", "--out", str(out)]) == 2
    assert "--html and --no-draw" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.skipif(
    not (shutil.which("dot") or shutil.which("graphviz-pure")), reason="no Graphviz renderer"
)
def test_graph_files_are_written(capsys, tmp_path):
    out = tmp_path / "graphs"
    result = run_json(capsys, "--out", str(out))
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "forward.dot",
        "forward.svg",
        "gradient.dot",
        "gradient.svg",
        "network.dot",
        "network.svg",
    ]
    assert sorted(result["files"]) == sorted(str(out / n) for n in names)
    for name in ("forward.svg", "gradient.svg", "network.svg"):
        assert (out / name).read_text().lstrip().startswith(("<?xml", "<svg"))


def test_python_dash_m_autograd_lecture_runs():
    done = subprocess.run(
        [sys.executable, "-m", "nn", "lecture", "--json", "--no-draw"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["match"] is True


# --------------------------------------------------------------------------------------------
# Without Graphviz, and with an output folder that cannot be written
# --------------------------------------------------------------------------------------------


@pytest.fixture
def no_renderer(monkeypatch):
    from autograd.viz import renderer

    monkeypatch.setattr(renderer.shutil, "which", lambda name, path=None: None)


def test_without_dot_the_json_lists_only_the_dot_files(capsys, tmp_path, no_renderer):
    out = tmp_path / "graphs"
    result = run_json(capsys, "--out", str(out))  # exit status 0: only the pictures are missing
    assert result["match"] is True
    assert result["files"] == [str(out / f"{n}.dot") for n in ("forward", "gradient", "network")]
    assert sorted(p.name for p in out.iterdir()) == ["forward.dot", "gradient.dot", "network.dot"]
    assert (out / "forward.dot").read_text().startswith("digraph")


def test_without_dot_the_table_is_printed_and_one_line_says_how_to_get_it(
    capsys, tmp_path, no_renderer
):
    assert main(["lecture", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "All gradients agree." in captured.out and "forward.dot" in captured.out
    assert "forward.svg" not in captured.out
    (line,) = captured.err.splitlines()
    assert "SVG pictures skipped" in line
    assert "apt-get install graphviz" in line and "pip install graphviz-pure" in line


def test_without_dot_on_path_the_command_runs_end_to_end(tmp_path):
    bin_dir = tmp_path / "bin"  # a PATH holding nothing but python: no dot, no graphviz-pure
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    out = tmp_path / "graphs"
    done = subprocess.run(
        [sys.executable, "-m", "nn", "lecture", "--json", "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(bin_dir)},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "RendererNotFoundError" not in done.stderr
    assert json.loads(done.stdout)["files"] == [
        str(out / f"{n}.dot") for n in ("forward", "gradient", "network")
    ]


@pytest.mark.parametrize("where", ["a_file/graphs", "a_file"])
def test_an_impossible_output_folder_is_a_clear_error(capsys, tmp_path, where):
    (tmp_path / "a_file").write_text("not a folder")
    out = tmp_path / where
    assert main(["lecture", "--json", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("chainrule lecture: cannot write the graph files to")
    assert str(out) in line and "Traceback" not in line


def test_help_documents_the_exit_status(capsys):
    with pytest.raises(SystemExit):
        main(["lecture", "--help"])
    text = capsys.readouterr().out
    assert "exit status" in text and "skipped" in text


# --------------------------------------------------------------------------------------------
# The student's own numbers, the deltas and the output activation
# --------------------------------------------------------------------------------------------

SLIDE_ARGS = ["--x", "2,3", "--y", "1", "--w1=-0.78,0.13;0.85,0.23", "--w2=1.8,0.4"]


def test_the_slides_numbers_given_explicitly_give_the_default_result(capsys):
    default = run_json(capsys, "--no-draw")
    explicit = run_json(capsys, "--no-draw", *SLIDE_ARGS)
    assert explicit == default
    assert explicit["W1"] == [[-0.78, 0.13], [0.85, 0.23]] and explicit["W2"] == [1.8, 0.4]


def test_help_shows_the_slides_numbers_as_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["lecture", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("default: 2,3", "default: -0.78,0.13;0.85,0.23", "default: 1.8,0.4"):
        assert shown in text


def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        main(["lecture", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("(default: 0.1)", "(default: lecture-output)", "activation f (default: linear)"):
        assert shown in text


def _by_hand(x, y, W1, W2, b1=None, b2=0.0, f=lambda z: z, f2=lambda z: z):
    """A forward pass written out independently of nn.lecture."""
    b1 = b1 or [0.0] * len(W2)
    z = [sum(x[i] * W1[i][j] for i in range(len(x))) + b1[j] for j in range(len(W2))]
    h = [f(zj) for zj in z]
    y_hat = f2(sum(hj * wj for hj, wj in zip(h, W2, strict=True)) + b2)
    return h, y_hat, 0.5 * (y_hat - y) ** 2


def test_a_homework_variant_with_three_inputs_and_three_hidden_units(capsys):
    result = run_json(
        capsys,
        "--no-draw",
        "--x=1,-2,0.5",
        "--y=0.25",
        "--w1=0.1,0.2,0.3;-0.4,0.5,0.6;0.7,-0.8,0.9",
        "--w2=1,-1,0.5",
        "--bias=0.1,0.2,0.3;-0.5",
    )
    W1 = [[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6], [0.7, -0.8, 0.9]]
    h, y_hat, loss = _by_hand([1, -2, 0.5], 0.25, W1, [1, -1, 0.5], [0.1, 0.2, 0.3], -0.5)
    assert result["h"] == pytest.approx(h, abs=1e-12)
    assert result["y_hat"] == pytest.approx(y_hat, abs=1e-12)
    assert result["loss"] == pytest.approx(loss, abs=1e-12)
    assert len(result["grad"]["W1"]) == 3 and len(result["grad"]["W1"][0]) == 3
    assert result["grad"]["b2"] == [pytest.approx(y_hat - 0.25, abs=1e-12)]
    assert result["match"] is True


def test_w2_may_be_written_as_a_column_as_on_the_slide(capsys):
    assert run_json(capsys, "--no-draw", "--w2=1.8;0.4") == run_json(capsys, "--no-draw")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--x=1,2,3"], ["x has 3 values", "W1 is 2x2"]),
        (["--w2=1,2,3"], ["W2 has 3 weights", "W1 is 2x2"]),
        (["--w1=1,2,3;4,5,6"], ["W2 has 2 weights", "W1 is 2x3"]),
        (["--w1=1,2;3"], ["--w1's rows have different lengths (2, 1)"]),
        (["--bias=1,2,3;0"], ["b1 has 3 values", "W1 is 2x2"]),
        (["--bias=1,2"], ["--bias '1,2' must be b1 ';' b2"]),
        (["--w2=1,2;3,4"], ["--w2 is 2x2", "one output"]),
        (["--x=2,three"], ["--x: 'three' is not a number"]),
        (["--y=1,2"], ["--y must be 1 number, got 2"]),
        (["--w1=nan,1;2,3"], ["--w1: 'nan' is not a finite number"]),
    ],
)
def test_numbers_that_do_not_fit_are_a_one_line_error(capsys, args, names):
    assert main(["lecture", "--no-draw", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("chainrule lecture: ")
    for name in names:
        assert name in line


def test_bias_alone_on_another_shape_asks_for_values(capsys):
    assert main(["lecture", "--no-draw", "--w1=1,2,3;4,5,6", "--w2=1,2,3", "--bias"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "b1 has 2 values but W1 is 2x3" in line


def test_json_deltas_are_the_slides_layer_by_layer_errors(capsys):
    result = run_json(capsys, "--no-draw")
    # delta_out = y_hat - y; delta_j = W2[j] delta_out (linear units): 1.162, [2.0916, 0.4648]
    assert result["delta"]["output"] == [pytest.approx(ERROR, abs=1e-12)]
    assert result["delta"]["hidden"] == pytest.approx([1.8 * ERROR, 0.40 * ERROR], abs=1e-12)
    assert result["delta"]["hidden"] == pytest.approx([2.0916, 0.4648], abs=1e-12)
    # every weight gradient is an activation times a delta
    for i, xi in enumerate([2, 3]):
        for j, dj in enumerate(result["delta"]["hidden"]):
            assert result["grad"]["W1"][i][j] == pytest.approx(xi * dj, abs=1e-12)


@pytest.mark.parametrize("activation", ["linear", "sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("output_activation", ["linear", "sigmoid", "tanh"])
def test_deltas_equal_the_engines_dl_dz(activation, output_activation):
    example, _ = lecture.compute(activation, True, output_activation)
    assert example.delta["hidden"] == pytest.approx(example.engine_delta["hidden"], abs=1e-12)
    assert example.delta["output"] == pytest.approx(example.engine_delta["output"], abs=1e-12)
    assert example.grad["b1"] == pytest.approx(example.delta["hidden"], abs=1e-12)
    assert example.match()


def test_a_wrong_delta_would_be_caught():
    example, _ = lecture.compute("sigmoid")
    example.delta["hidden"][1] += 1e-6
    assert not example.match()


def test_sigmoid_output_follows_the_lectures_f2(capsys):
    result = run_json(capsys, "--no-draw", "--output-activation", "sigmoid")
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h, y_hat, loss = _by_hand([2, 3], 1, [[-0.78, 0.13], [0.85, 0.23]], [1.8, 0.4], f2=sig)
    assert result["output_activation"] == "sigmoid"
    assert result["y_hat"] == pytest.approx(y_hat, abs=1e-12)
    assert result["loss"] == pytest.approx(loss, abs=1e-12)
    # delta_out = (y_hat - y) sigma'(z2) = (y_hat - y) y_hat (1 - y_hat)
    assert result["delta"]["output"] == [pytest.approx((y_hat - 1) * y_hat * (1 - y_hat))]
    assert result["match"] is True


def test_the_table_names_f2_when_the_output_is_not_linear(capsys):
    assert main(["lecture", "--no-draw", "--output-activation", "sigmoid"]) == 0
    out = capsys.readouterr().out
    assert "1 output (sigmoid)" in out and "(ŷ - y) f2'(z2) h_1" in out
    assert "All gradients agree." in out


def test_readmes_excerpt_of_the_table_is_what_the_command_prints(capsys):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("`python3 dev.py lecture` prints")
    block = readme[readme.index("```\n", start) + 4 : readme.index("\n```", start)]
    assert main(["lecture", "--no-draw"]) == 0
    printed = capsys.readouterr().out
    assert block in printed


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [("y", math.nan, "y"), ("b2", math.inf, "the biases"), ("W2", (1.0, math.nan), "W2")],
)
def test_numbers_from_python_refuse_what_is_not_finite(field, value, name):
    fields = {"b1": (0.0, 0.0), "b2": 0.0, field: value}
    with pytest.raises(ValueError, match=f"^{name} must be finite numbers"):
        lecture.Numbers(**fields)


def test_table_names_every_weight_as_the_slide_does_counting_from_one(capsys):
    assert main(["lecture", "--no-draw", "--bias"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines() if "✓" in line]
    assert rows == [
        "W1[1][1]",
        "W1[1][2]",
        "W1[2][1]",
        "W1[2][2]",
        "W2[1]",
        "W2[2]",
        "b1[1]",
        "b1[2]",
        "b2",
    ]


# ---- interrupted: the model is never left half-changed ---------------------------------------

LECTURE_FILES = tuple(
    os.path.join(os.path.dirname(m.__file__), name)
    for m, name in [(lecture, "lecture.py"), (autograd.flat, "flat.py")]
)


def _model_after_backward():
    model = lecture.build_network("tanh")
    model.zero_grad()
    lecture.loss_of(model)[2].backward()
    return model


@pytest.mark.parametrize("what", ["gradient_step", "numeric_gradients"])
def test_lecture_functions_interrupted_at_every_bytecode_leave_no_half_changed_model(what):
    def numbers(model):
        return [p.data for p in model.parameters()]

    model = _model_after_backward()
    before = numbers(model)
    lecture.gradient_step(model, 0.1)
    stepped = numbers(model)  # what a whole step gives; numeric_gradients changes nothing
    allowed = [before, stepped] if what == "gradient_step" else [before]
    k = 0
    while True:
        k += 1
        model = _model_after_backward()
        if what == "gradient_step":
            call = partial(lecture.gradient_step, model, 0.1)
        else:
            call = partial(lecture.numeric_gradients, model)
        if injection.run_interrupted_at(k, KeyboardInterrupt, call, LECTURE_FILES) < k:
            break
        assert numbers(model) in allowed, f"interrupted at bytecode {k}: the model changed"
    assert k > 50
