"""The classic rules: the perceptron learns AND and OR but not XOR; Adaline is LMS; XOR by hand."""

from __future__ import annotations

import warnings
from functools import partial

import injection
import numpy as np
import pytest

import nn
from autograd import Value, flat
from nn import data


@pytest.mark.parametrize("gate", ["and", "or"])
def test_perceptron_converges_on_linearly_separable_gates(gate):
    X, t = data.truth_table(gate)
    perceptron = nn.Perceptron(2)
    result = perceptron.fit(X, t, epochs=20)
    assert result.converged and result.errors[-1] == 0
    assert [perceptron(x).data for x in X.tolist()] == t.tolist()


def test_perceptron_reports_that_xor_did_not_converge():
    X, t = data.truth_table("xor")
    with pytest.warns(nn.classic.ConvergenceWarning, match="did not converge within 25 epochs"):
        result = nn.Perceptron(2).fit(X, t, epochs=25)
    assert not result.converged and result.epochs == 25
    assert min(result.errors) > 0
    assert "linearly separable" in result.message


def test_perceptron_applies_rosenblatts_rule_by_hand():
    perceptron = nn.Perceptron(2, lr=0.5)
    # zero weights: step(0) = 1, so the first sample (target 0) is wrong: w += 0.5 (0 - 1) x
    with pytest.warns(nn.classic.ConvergenceWarning):  # one epoch with an error: not converged yet
        perceptron.fit([[1.0, 2.0]], [0.0], epochs=1)
    assert perceptron.state_dict() == {"w.0": -0.5, "w.1": -1.0, "b": -0.5}


def test_perceptron_output_is_a_step_value_with_zero_gradient():
    perceptron = nn.Perceptron(2)
    out = perceptron([1.0, 1.0])
    assert out.op == "step"
    out.backward()
    assert all(p.grad == 0.0 for p in perceptron.parameters())


def test_adaline_update_is_the_sgd_step_on_half_squared_error():
    adaline = nn.Adaline(2, lr=0.1, seed=3)
    x, t = [0.5, -1.5], 2.0
    clone = nn.Adaline(2, lr=0.1, seed=3)
    loss = 0.5 * (clone(x) - t) ** 2
    loss.backward()
    expected = {name: p.data - 0.1 * p.grad for name, p in clone.named_parameters()}
    adaline.fit([x], [t], epochs=1)
    assert adaline.state_dict() == pytest.approx(expected, rel=1e-12)


def test_adaline_learns_a_noisy_line():
    X, y = data.noisy_line(200, slope=2.0, intercept=1.0, noise=0.05, seed=1)
    adaline = nn.Adaline(1, lr=0.05)
    result = adaline.fit(X, y, epochs=100)
    assert adaline.w[0].data == pytest.approx(2.0, abs=0.05)
    assert adaline.b.data == pytest.approx(1.0, abs=0.05)
    assert result.errors[-1] < 0.01 and result.errors[-1] < result.errors[0]


def test_adaline_classifies_and_by_thresholding_its_linear_output():
    X, t = data.truth_table("and")
    adaline = nn.Adaline(2, lr=0.05)
    adaline.fit(X, t, epochs=200)
    assert [adaline.predict(x) for x in X.tolist()] == [0, 0, 0, 1]


def test_hand_wired_xor_network_is_the_lectures_or_and_nand_feeding_and():
    net = nn.xor_network()
    X, t = data.truth_table("xor")
    assert [net(x).data for x in X.tolist()] == t.tolist()
    hidden = [[h.data for h in net.layers[0](x)] for x in X.tolist()]
    assert hidden == [[0, 1], [1, 1], [1, 1], [1, 0]]  # unit 0 is OR, unit 1 is NAND
    # the figure's numbers: weights +1 +1 and thresholds +1 (OR), -1 -1 and -1 (NAND),
    # +1 +1 and +2 (AND); a threshold theta is a bias of -theta
    assert net.state_dict() == {
        "layers.0.neurons.0.w.0": 1.0,
        "layers.0.neurons.0.w.1": 1.0,
        "layers.0.neurons.0.b": -1.0,
        "layers.0.neurons.1.w.0": -1.0,
        "layers.0.neurons.1.w.1": -1.0,
        "layers.0.neurons.1.b": 1.0,
        "layers.1.neurons.0.w.0": 1.0,
        "layers.1.neurons.0.w.1": 1.0,
        "layers.1.neurons.0.b": -2.0,
    }
    assert net([1, 0]).op == "step"
    assert [h.op for h in net.layers[0]([1, 0])] == ["step", "step"]


def test_hand_wired_xor_network_gives_backprop_no_signal():
    net = nn.xor_network()
    loss = nn.functional.mse(net([1.0, 0.0]), 0.0)  # wrong on purpose: target 0 for XOR = 1
    loss.backward()
    assert loss.data == 1.0 and all(p.grad == 0.0 for p in net.parameters())


def test_xor_is_then_learned_by_backprop_with_a_small_mlp():
    X, t = data.truth_table("xor")
    model = nn.MLP(2, [4, 1], activation="tanh", seed=0)
    history = nn.fit(
        model,
        X,
        data.signed(t),
        loss="mse",
        optimizer=nn.SGD(model, lr=0.1),
        epochs=300,
        progress=False,
    )
    assert np.sign(nn.predict(model, X)).tolist() == data.signed(t).tolist()
    assert history.loss[-1] < 0.1


def test_classic_units_name_their_parameters():
    assert [name for name, _ in nn.Perceptron(3).named_parameters()] == ["w.0", "w.1", "w.2", "b"]
    assert nn.Perceptron(2)([Value(1.0), Value(0.0)]).data == 1.0


@pytest.mark.parametrize("unit", [nn.Perceptron, nn.Adaline])
def test_training_interrupted_at_every_bytecode_never_half_applies_an_update(unit, monkeypatch):
    X, t = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0]

    def weights(u) -> tuple:
        return (*(w.data for w in u.w), u.b.data)

    # the start and every whole update of a run: the only states an interruption may leave
    update, reference = unit._update, unit(2, seed=1)
    allowed = {weights(reference)}

    def recorded(self, x, error):
        update(self, x, error)
        allowed.add(weights(self))

    monkeypatch.setattr(unit, "_update", recorded)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nn.classic.ConvergenceWarning)
        reference.fit(X, t, epochs=3)
        monkeypatch.setattr(unit, "_update", update)
        watched = (nn.classic.__file__, flat.__file__)
        k = 0
        while True:
            k += 1
            u = unit(2, seed=1)
            if (
                injection.run_interrupted_at(k, KeyboardInterrupt, partial(u.fit, X, t, 3), watched)
                < k
            ):
                break
            assert weights(u) in allowed, f"interrupted at bytecode {k}: half an update"
    assert k > 50 and len(allowed) > 3
