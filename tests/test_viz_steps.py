"""Step-through backward: one Step per node in the order backward completes them, with the
chain-rule terms that made each gradient, numbers identical to the engine's; and one frame
per step."""

from __future__ import annotations

import math

import injection
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value
from autograd.backward import backpropagate
from autograd.viz import backward_steps, find_renderer, render_steps


def test_root_comes_first_with_the_seed_and_no_terms():
    x = Value(2.0, label="x")
    y = x * 3.0
    steps = list(backward_steps(y))
    assert steps[0].node is y and steps[0].grad == 1.0 and steps[0].terms == ()
    assert steps[0].index == 0
    assert [s.index for s in steps] == list(range(len(steps)))


def test_each_gradient_is_the_sum_of_its_terms():
    x = Value(3.0, label="x")
    y = x * x + x  # three uses of x
    steps = {s.node: s for s in backward_steps(y)}
    step = steps[x]
    assert len(step.terms) == 3
    assert [(t.upstream, t.local) for t in step.terms] == [(1.0, 1.0), (1.0, 3.0), (1.0, 3.0)]
    assert step.grad == 7.0 == sum(t.product for t in step.terms)
    assert step.explain() == "x (data 3.0): grad = 1 \u00d7 1 + 1 \u00d7 3 + 1 \u00d7 3 = 7.0"


def test_every_node_comes_after_all_of_its_uses():
    model = nn.MLP(2, [3, 1], seed=0)
    loss = (model([Value(1.0), Value(-2.0)]) - 1.0) ** 2
    seen = set()
    for step in backward_steps(loss):
        for t in step.terms:
            assert t.child in seen or t.child.__class__.__name__ == "Constant"
        seen.add(step.node)


def test_constants_are_skipped_and_dot_grad_is_untouched():
    x = Value(2.0, label="x")
    y = (x + 1.0) * 2.0
    steps = list(backward_steps(y))
    assert all(type(s.node) is Value for s in steps)
    assert len(steps) == 3  # y, x + 1, x
    assert x.grad == 0.0 and y.grad == 0.0


def test_explain_rounds_long_floats_and_says_so():
    x = Value(2.0, label="x")
    y = x * (0.1 + 0.2)  # 0.30000000000000004
    y.label = "y"
    steps = {s.node: s for s in backward_steps(y)}
    assert steps[x].grad == 0.1 + 0.2
    assert steps[x].explain() == "x (data 2.0): grad = 1 \u00d7 0.3 \u2248 0.3"
    assert steps[y].explain() == "y (data \u2248 0.6): grad = 1.0 (the seed)"


def test_undefined_local_derivative_is_reported_as_such():
    x = Value(0.0, label="x")
    y = x.sqrt()
    (_, step) = list(backward_steps(y))
    assert step.terms[0].local is None and math.isnan(step.grad)
    assert "undefined" in step.explain()


# expressions from a handful of ops, to compare with the engine bit for bit
def expressions(draw_):
    leaves = [Value(draw_(st.floats(0.5, 2.0)), label=f"x{i}") for i in range(3)]
    nodes = list(leaves)
    for _ in range(draw_(st.integers(1, 12))):
        op = draw_(st.sampled_from(["add", "mul", "sub", "div", "tanh", "exp", "pow", "sigmoid"]))
        a = nodes[draw_(st.integers(0, len(nodes) - 1))]
        b = nodes[draw_(st.integers(0, len(nodes) - 1))]
        if op == "add":
            nodes.append(a + b)
        elif op == "mul":
            nodes.append(a * b)
        elif op == "sub":
            nodes.append(a - b)
        elif op == "div":
            nodes.append(a / (b * b + 1.0))
        elif op == "tanh":
            nodes.append(a.tanh())
        elif op == "exp":
            nodes.append((a * 0.1).exp())
        elif op == "pow":
            nodes.append(a**2)
        else:
            nodes.append(a.sigmoid())
    return nodes[-1]


@settings(max_examples=60, deadline=None)
@given(st.composite(expressions)())
def test_step_gradients_equal_the_engines_bit_for_bit(root):
    engine = backpropagate([root], [1.0])
    steps = list(backward_steps(root))
    assert len(steps) == sum(type(v) is Value for v in engine)
    for step in steps:
        assert step.grad == engine[step.node]


def test_backward_steps_needs_a_value():
    with pytest.raises(TypeError, match="Value"):
        next(backward_steps(1.0))


needs_renderer = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer")


@needs_renderer
def test_render_steps_writes_one_frame_per_step_plus_the_forward_one(tmp_path):
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    y = (x * w).tanh()
    y.label = "y"
    paths = render_steps(y, tmp_path / "frames")
    assert [p.name for p in paths] == [f"step_{k:03d}.svg" for k in range(5)]
    first, second, last = (p.read_text() for p in (paths[0], paths[1], paths[-1]))
    assert first.count("grad not computed</text>") == 4
    assert "grad not computed" in second and "grad not computed" not in last
    assert "forward pass: no gradient yet" in first
    assert "y (data" in second  # the title explains the step


def test_render_steps_as_dot_needs_no_renderer(tmp_path, monkeypatch):
    from autograd.viz import renderer

    monkeypatch.setattr(renderer.shutil, "which", lambda name, path=None: None)
    x = Value(2.0, label="x")
    paths = render_steps(x * x, tmp_path, fmt="dot")
    assert len(paths) == 3 and all(p.suffix == ".dot" for p in paths)
    from autograd.viz.style import HIGHLIGHT

    texts = [p.read_text() for p in paths]
    assert HIGHLIGHT not in texts[0] and all(HIGHLIGHT in t for t in texts[1:])


def test_render_steps_refuses_more_frames_than_its_budget_and_writes_nothing(tmp_path):
    from autograd.viz import StepsBudgetError

    x = Value(2.0, label="x")
    with pytest.raises(
        StepsBudgetError, match=r"^4 frames .* over the budget of 3 frames: .*max_frames"
    ):
        render_steps(x * x * x, tmp_path / "f", fmt="dot", max_frames=3)
    assert not (tmp_path / "f").exists()
    assert len(render_steps(x * x * x, tmp_path / "f", fmt="dot", max_frames=4)) == 4


def test_render_steps_stops_when_the_first_frames_show_the_time_budget_is_too_small(
    tmp_path, monkeypatch
):
    from autograd.viz import StepsBudgetError, steps

    clock = iter(range(0, 10**6, 10))  # each reading 10 s later: a frame seems to take 10 s
    monkeypatch.setattr(steps, "_clock", lambda: next(clock))
    x = Value(2.0, label="x")
    with pytest.raises(StepsBudgetError, match=r"about 40 s .* over the budget of 30 s") as info:
        render_steps(x * x * x, tmp_path / "f", fmt="dot", max_seconds=30)
    assert (info.value.budget, info.value.limit, info.value.needed) == ("seconds", 30, 40)
    assert not (tmp_path / "f").exists()
    monkeypatch.setattr(steps, "_clock", lambda: 0.0)
    assert len(render_steps(x * x * x, tmp_path / "f", fmt="dot", max_seconds=30)) == 4


@pytest.mark.parametrize("fail_at", [1, 2, 4])
def test_interrupted_rendering_writes_no_frame_and_keeps_old_ones(tmp_path, monkeypatch, fail_at):
    from autograd.viz import render

    old = tmp_path / "step_000.svg"
    old.write_text("old frame")
    calls = []

    def fake_render(source, fmt="svg", timeout=None):
        calls.append(fmt)
        if len(calls) == fail_at:
            raise KeyboardInterrupt
        return b"<svg/>"

    monkeypatch.setattr(render, "render", fake_render)
    x = Value(2.0, label="x")
    with pytest.raises(KeyboardInterrupt):
        render_steps(x * x * x, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["step_000.svg"]
    assert old.read_text() == "old frame"


def test_writing_frames_interrupted_anywhere_leaves_all_old_frames_or_all_new(tmp_path):
    # every 5th bytecode of the writing (each run draws every frame again); write_all_atomically
    # itself is interrupted at every bytecode in test_files.py
    from autograd import files

    x = Value(2.0, label="x")
    old_root, new_root = x * x, x * 3.0  # as many frames, other pictures

    def frames() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(tmp_path.iterdir())}

    render_steps(new_root, tmp_path, fmt="dot")
    new = frames()
    render_steps(old_root, tmp_path, fmt="dot")
    old = frames()
    assert old.keys() == new.keys() and old != new
    k = 0
    while True:
        k += 5
        for name, picture in old.items():
            (tmp_path / name).write_bytes(picture)
        call = lambda: render_steps(new_root, tmp_path, fmt="dot")  # noqa: E731
        if injection.run_interrupted_at(k, KeyboardInterrupt, call, files.__file__) < k:
            break
        assert frames() in (old, new), f"interrupted at bytecode {k}: frames of two graphs"
    assert k > 100
