"""fit checks its inputs against the loss before any step runs, and says what to do instead."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from nn import data


def _no_step_taken(model, before):
    return [p.data for p in model.parameters()] == before


@pytest.mark.parametrize("engine", ["eager", "tape"])
def test_bce_on_a_linear_output_advises_sigmoid_or_logits_before_training(engine):
    X, y = data.moons(40, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)  # linear output: scores, not probabilities
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError) as info:
        nn.fit(model, X, y, loss="bce", engine=engine, epochs=2, progress=False)
    message = str(info.value)
    assert "output_activation='sigmoid'" in message and "bce_with_logits" in message
    assert "linear output layer" in message
    assert _no_step_taken(model, before)


def test_bce_on_a_sigmoid_output_trains():
    X, y = data.moons(40, seed=0)
    model = nn.MLP(2, [8, 1], output_activation="sigmoid", seed=0)
    history = nn.fit(model, X, y, loss="bce", epochs=2, progress=False)
    assert history.epochs == 2


def test_bce_on_a_model_that_cannot_be_inspected_looks_at_its_outputs():
    class Shifted(nn.Module):  # outputs a linear neuron's score: not a probability
        def __init__(self):
            self.inner = nn.Neuron(2, "linear", seed=0)

        def __call__(self, x):
            return self.inner(x) + 5.0

    X, y = data.moons(20, seed=0)
    with pytest.raises(ValueError, match="outputs values outside \\(0, 1\\).*bce_with_logits"):
        nn.fit(Shifted(), X, y, loss="bce", epochs=1, progress=False)


def test_hinge_with_0_1_labels_points_to_signed():
    X, y = data.moons(30, seed=0)
    model = nn.MLP(2, [4, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=r"hinge' expects labels -1/\+1.*nn\.data\.signed\(y\)"):
        nn.fit(model, X, y, loss="hinge", epochs=1, progress=False)
    assert _no_step_taken(model, before)
    history = nn.fit(model, X, data.signed(y), loss="hinge", epochs=1, progress=False)
    assert history.epochs == 1


def test_hinge_with_other_labels_names_them():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"expects labels -1/\+1, got 0\.5, 2"):
        nn.fit(nn.MLP(2, [1]), X, [0.5, 2.0, 2.0], loss="hinge", epochs=1, progress=False)


def test_bce_targets_outside_0_1_are_refused():
    X = np.zeros((2, 2))
    model = nn.MLP(2, [1], output_activation="sigmoid")
    with pytest.raises(ValueError, match=r"targets in \[0, 1\].*got -1, 1.*\(y \+ 1\) / 2"):
        nn.fit(model, X, [-1.0, 1.0], loss="bce", epochs=1, progress=False)


@pytest.mark.parametrize(
    "y, expected",
    [
        ([0.5, 1.0, 2.0], r"class indices .*got float64 labels such as 0\.5"),
        ([0, 1, 3], r"got labels 0, 1, 3, outside 0\.\.2 for a model with 3 outputs"),
        ([[1, 0, 0], [0, 1, 1], [0, 0, 1]], r"rows such as .* are not one-hot"),
        ([[1, 0], [0, 1], [1, 0]], r"one-hot rows of 3 columns.*shape \(3, 2\)"),
    ],
)
def test_cross_entropy_targets_must_be_classes_or_one_hot(y, expected):
    X = np.zeros((3, 2))
    model = nn.MLP(2, [3])
    with pytest.raises(ValueError, match=expected):
        nn.fit(model, X, y, loss="cross_entropy", epochs=1, progress=False)


def test_cross_entropy_accepts_whole_floats_and_one_hot_rows():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    for y in ([0.0, 1.0, 2.0], data.one_hot(np.array([0, 1, 2]))):
        history = nn.fit(
            nn.MLP(2, [3], seed=0), X, y, loss="cross_entropy", epochs=1, progress=False
        )
        assert history.epochs == 1


def test_validation_targets_get_the_same_advice():
    X, y = data.moons(30, seed=0)
    with pytest.raises(ValueError, match="nn.data.signed"):
        nn.fit(
            nn.MLP(2, [4, 1]), X, data.signed(y), loss="hinge", val=(X, y), epochs=1, progress=False
        )


def test_an_input_size_mismatch_is_named_before_any_step():
    X = np.zeros((4, 3))
    model = nn.MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match=r"takes 2 inputs but X has 3 columns.*MLP\(3, \.\.\.\)"):
        nn.fit(model, X, np.zeros(4), epochs=1, progress=False)


def test_a_custom_loss_named_like_a_builtin_gets_no_builtin_advice():
    def hinge(score, target):  # the user's own: 0/1 targets are their business
        return (score - target) ** 2

    X = np.zeros((2, 2))
    history = nn.fit(nn.MLP(2, [1]), X, [0.0, 1.0], loss=hinge, epochs=1, progress=False)
    assert history.epochs == 1
