"""fit on the tape, failing or interrupted at ANY point, leaves the model as one whole step made it.

While the tape trains, the parameters live in arrays; the Values get them wherever user code
can look.  An exception is injected with a trace function at every bytecode fit runs in the
training loop's files (fit, the tape's replay, the optimizer, the array write-back), once as
KeyboardInterrupt (Ctrl-C) and once as an ordinary exception.  After each, every parameter's
``.data`` and ``.grad`` must be exactly those of an uninterrupted run at a step boundary:
before training, after a step's backward, or after its update, never a mix of two steps.
"""

from __future__ import annotations

import os

import injection
import numpy as np
import pytest

import autograd
import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WATCHED = tuple(
    os.path.join(ROOT, *parts)
    for parts in [
        ("nn", "train.py"),
        ("nn", "optim.py"),
        ("autograd", "flat.py"),
        ("autograd", "tape", "replay.py"),
        ("autograd", "tape", "groups.py"),
        ("autograd", "tape", "dense.py"),
    ]
)
EPOCHS = 3


class Injected(Exception):
    """The failure the tests inject."""


def setup():
    X = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 0.5], [0.2, 0.9]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    model = nn.MLP(2, [3, 1], seed=0)
    for p in model.parameters():
        p.grad = 0.125  # an old gradient, which a step replaces
    optimizer = nn.SGD(model, lr=0.1, momentum=0.5)
    return model, optimizer, X, y


def training(engine: str = "tape"):
    """A fresh model and a call that trains it for EPOCHS epochs."""
    model, optimizer, X, y = setup()
    return model, lambda: train(model, optimizer, X, y, EPOCHS, engine)


def train(model, optimizer, X, y, epochs, engine="tape"):
    return nn.fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer=optimizer,
        epochs=epochs,
        l2=1e-3,
        engine=engine,
        progress=False,
        shuffle=False,
    )


def state(model) -> tuple[tuple[float, ...], tuple[float, ...]]:
    params = model.parameters()
    return tuple(p.data for p in params), tuple(p.grad for p in params)


def boundaries(engine: str) -> list:
    """Every (data, grad) a whole number of steps leaves: before training; after step j's
    backward (step j-1's numbers, step j's gradients); after step j's update."""
    model, _, _, _ = setup()
    states = [state(model)]
    for epochs in range(1, EPOCHS + 1):
        model, optimizer, X, y = setup()
        train(model, optimizer, X, y, epochs, engine)
        data, grad = state(model)
        states += [(states[-1][0], grad), (data, grad)]
    return states


def run_interrupted_at(k: int, exc_type: type[BaseException], call, steps=None) -> int:
    """Run call() raising exc_type at the k-th bytecode executed in the WATCHED files;
    return how many ran there (fewer than k: call() finished first).  ``steps``: a list to
    which the count at the start of every training step is appended."""

    def on_call(frame, count):
        code = frame.f_code
        if steps is not None and code.co_name == "step" and "train" in code.co_filename:
            steps.append(count)

    # fit wraps what breaks a step (ours included) in a DivergenceError
    return injection.run_interrupted_at(
        k, exc_type, call, WATCHED, on_call=on_call, wrapped=(nn.DivergenceError,)
    )


def injection_points(engine: str, stride: int, step_stride: int = 1) -> list[int]:
    """Every step_stride-th bytecode of the second training step (forward, backward,
    gradients, update, history: the code every step runs), every stride-th one elsewhere."""
    starts: list[int] = []
    total = run_interrupted_at(0, KeyboardInterrupt, training(engine)[1], starts)
    assert len(starts) == EPOCHS
    second = range(starts[1] + 1, starts[2] + 1, step_stride)
    return sorted({*range(1, total + 1, stride), *second, total})


@pytest.mark.parametrize(
    "exc_type, step_stride",
    [
        (Injected, 5),
        pytest.param(KeyboardInterrupt, 1, marks=pytest.mark.slow),  # ~3000 runs, 15-20 s
    ],
)
def test_tape_fit_interrupted_at_any_bytecode_leaves_one_whole_step(exc_type, step_stride):
    allowed = boundaries("tape")
    points, seen = injection_points("tape", 23, step_stride), set()
    for k in points:
        model, call = training()
        assert run_interrupted_at(k, exc_type, call) == k
        now = state(model)
        assert now in allowed, f"interrupted at bytecode {k}: parameters from no single step"
        seen.add(allowed.index(now))
    assert len(points) > 600
    assert seen == set(range(len(allowed))), "some step boundary was never interrupted at"


def test_eager_fit_interrupted_anywhere_never_half_updates_the_parameters():
    allowed = {data for data, _ in boundaries("eager")}
    points = injection_points("eager", 11)
    for k in points:
        model, call = training("eager")
        assert run_interrupted_at(k, KeyboardInterrupt, call) == k
        assert state(model)[0] in allowed, f"interrupted at bytecode {k}: half an update"
    assert len(points) > 100


def test_write_back_is_all_or_nothing():
    values = [autograd.Value(1.0), autograd.Value(2.0)]
    with pytest.raises(ValueError, match=r"grad has shape \(3,\); expected \(2,\)"):
        autograd.flat.write(values, data=np.array([5.0, 6.0]), grad=np.zeros(3))
    assert [v.data for v in values] == [1.0, 2.0]
    autograd.flat.write(values, data=np.array([5.0, 6.0]), grad=np.array([0.5, -0.5]))
    assert [(v.data, v.grad) for v in values] == [(5.0, 0.5), (6.0, -0.5)]
