"""nn's bridge to PyTorch: to_torch and MLP.from_torch, exact both ways, same forward and gradients.

The tests that need torch skip without it (``python3 dev.py test`` installs it); the ones that
simulate a missing torch run in a subprocess either way.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import lecture
from nn.functional import ACTIVATIONS, LAYER_ACTIVATIONS

ROOT = Path(__file__).resolve().parent.parent
EVERY_ACTIVATION = [*ACTIVATIONS, *LAYER_ACTIVATIONS]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _bits(state: dict[str, float]) -> dict[str, str]:
    return {name: float.hex(x) for name, x in state.items()}


def _same_bits(torch, a, b) -> bool:
    return a.dtype == b.dtype == torch.float64 and torch.equal(
        a.detach().view(torch.int64), b.detach().view(torch.int64)
    )


def _model(activation: str, bias: bool = True, seed: int = 0) -> nn.MLP:
    """An MLP(3 -> 5 -> 4 -> 2) with `activation` in its hidden layers and at its output."""
    return nn.MLP(3, [5, 4, 2], activation, activation, bias=bias, init="xavier", seed=seed)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("activation", EVERY_ACTIVATION)
def test_round_trip_through_torch_is_exact_bit_for_bit(torch, activation, bias):
    model = _model(activation, bias)
    net = model.to_torch()
    assert all(p.dtype == torch.float64 for p in net.parameters())
    back = nn.MLP.from_torch(net)
    assert _bits(back.state_dict()) == _bits(model.state_dict())
    assert [layer.activation for layer in back.layers] == [activation] * 3
    assert repr(back) == repr(model)
    again = back.to_torch()
    assert repr(again) == repr(net)
    for p, q in zip(net.parameters(), again.parameters(), strict=True):
        assert _same_bits(torch, p, q)


def test_a_torch_network_round_trips_exactly_through_chainrule(torch):
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 8, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 8, dtype=torch.float64),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3, bias=False, dtype=torch.float64),
        torch.nn.LogSoftmax(dim=1),
    )
    model = nn.MLP.from_torch(net)
    assert [layer.activation for layer in model.layers] == ["tanh", "relu", "log_softmax"]
    assert model.sizes == [4, 8, 8, 3]
    for p, q in zip(net.parameters(), model.to_torch().parameters(), strict=True):
        assert _same_bits(torch, p, q)


def _random_batch(seed: int, n: int = 7, nin: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, nin)) * 1.5


@pytest.mark.parametrize("activation", EVERY_ACTIVATION)
def test_forward_and_every_gradient_agree_to_1e_12(torch, activation):
    model = _model(activation, seed=3)
    net = model.to_torch()
    X = _random_batch(4)
    C = np.random.default_rng(5).normal(size=2)  # the loss weighs the two outputs
    # chainrule, one sample at a time
    outputs = [model(list(x)) for x in X]
    loss = sum(float(c) * o for out in outputs for c, o in zip(C, out, strict=True)) / len(X)
    model.zero_grad()
    loss.backward()
    # torch, the whole batch at once
    t_out = net(torch.tensor(X))
    t_loss = (t_out * torch.tensor(C)).sum() / len(X)
    t_loss.backward()
    ours = np.array([[o.data for o in out] for out in outputs])
    np.testing.assert_allclose(ours, t_out.detach().numpy(), rtol=1e-12, atol=0)
    assert loss.data == pytest.approx(t_loss.item(), rel=1e-12, abs=0)
    report = nn.pytorch.compare_parameters(model, net, grad=True, rtol=1e-12, atol=0.0)
    assert len(report) == model.num_parameters()
    assert report.ok, str(report)
    nonzero = sum(r.chainrule != 0 for r in report.gradients)
    if activation == "step":  # a network of steps has gradient 0 everywhere, in both
        assert nonzero == 0
    else:  # most are not 0 (relu's dead units give a few), so the comparison means something
        assert nonzero >= model.num_parameters() / 3


@pytest.mark.parametrize("output_activation", ["linear", "sigmoid"])
@pytest.mark.parametrize("bias", [False, True], ids=["slide", "bias"])
@pytest.mark.parametrize("activation", sorted(lecture.ACTIVATIONS))
def test_lecture_example_gradients_from_torch_equal_the_slides(
    torch, activation, bias, output_activation
):
    example, model = lecture.compute(activation, bias, output_activation)
    net = model.to_torch()
    y_hat = net(torch.tensor(lecture.X, dtype=torch.float64))
    loss = 0.5 * (y_hat[0] - lecture.Y) ** 2
    loss.backward()
    hidden, output = net[0], [m for m in net if isinstance(m, torch.nn.Linear)][-1]
    from_torch = {  # in the slide's layout: W1[i][j], W2[j][0], b1[j], b2[0]
        "W1": hidden.weight.grad.T.tolist(),
        "W2": output.weight.grad.T.tolist(),
    }
    if bias:
        from_torch["b1"] = hidden.bias.grad.tolist()
        from_torch["b2"] = output.bias.grad.tolist()
    slide = example.formula_grad  # the lecture's hand-derived formulas, evaluated on floats
    assert from_torch.keys() == slide.keys()
    for name in slide:
        np.testing.assert_allclose(from_torch[name], slide[name], rtol=1e-12, atol=1e-15)
    assert loss.item() == pytest.approx(example.loss, rel=1e-12)
    if (activation, bias, output_activation) == ("linear", False, "linear"):  # the slide's own
        assert loss.item() == pytest.approx(0.675122, abs=1e-6)
        np.testing.assert_allclose(from_torch["W1"], [[4.1832, 0.9296], [6.2748, 1.3944]])
        np.testing.assert_allclose(from_torch["W2"], [[1.15038], [1.1039]])


def test_neuron_and_layer_export_with_micrograds_nonlin_flag(torch):
    neuron = nn.Neuron(3, nonlin=False, seed=1)
    net = neuron.to_torch()
    assert [type(m).__name__ for m in net] == ["Linear"]
    assert net[0].weight.tolist() == [[w.data for w in neuron.w]]
    assert net[0].bias.tolist() == [neuron.b.data]
    layer = nn.Layer(3, 2, nonlin=True, seed=1)  # micrograd's nonlin=True: relu
    net = layer.to_torch()
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU"]
    assert net[0].weight.tolist() == [[w.data for w in n.w] for n in layer.neurons]
    x = [0.3, -1.2, 2.0]
    assert net(torch.tensor(x, dtype=torch.float64)).tolist() == pytest.approx(
        [v.data for v in layer(x)], rel=1e-12
    )
    micrograd_mlp = nn.MLP(2, [16, 16, 1], seed=0)  # micrograd's demo network
    names = [type(m).__name__ for m in micrograd_mlp.to_torch()]
    assert names == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # the output is linear
    assert [type(m).__name__ for m in nn.Neuron(2, "step").to_torch()] == ["Linear", "Step"]


def test_float32_on_request(torch):
    net = _model("tanh").to_torch(dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    back = nn.MLP.from_torch(net)  # widened to float64 exactly: the float32 numbers
    assert back.layers[0].neurons[0].w[0].data == net[0].weight[0, 0].item()


def test_a_dtype_that_is_not_a_float_is_refused(torch):
    for dtype in (torch.int64, "float64"):
        with pytest.raises(TypeError, match="floating-point dtype"):
            _model("tanh").to_torch(dtype=dtype)


def test_export_leaves_torchs_random_generator_alone(torch):
    torch.manual_seed(7)
    before = torch.random.get_rng_state()
    _model("relu").to_torch()
    assert torch.equal(before, torch.random.get_rng_state())


def test_the_exported_module_is_a_copy(torch):
    model = _model("tanh")
    state = model.state_dict()
    net = model.to_torch()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    assert model.state_dict() == state


def test_nested_sequentials_of_exported_layers_are_read(torch):
    a, b = nn.Layer(2, 3, "tanh", seed=1), nn.Layer(3, 1, "sigmoid", seed=2)
    net = torch.nn.Sequential(a.to_torch(), torch.nn.Identity(), b.to_torch())
    model = nn.MLP.from_torch(net)
    assert [layer.activation for layer in model.layers] == ["tanh", "sigmoid"]
    assert model.layers[1].state_dict() == b.state_dict()


@pytest.mark.parametrize(
    "layers, message",
    [
        (
            lambda t: [t.Linear(2, 3), t.ReLU(), t.Dropout(0.5), t.Linear(3, 1)],
            r"cannot read layer 2 of the Sequential, Dropout\(p=0.5.*\(an unsupported layer\)"
            r".*at most one of ReLU, Tanh",
        ),
        (
            lambda t: [t.Linear(2, 3), t.GELU(), t.Linear(3, 1)],
            r"cannot read layer 1 of the Sequential, GELU",
        ),
        (
            lambda t: [t.Linear(2, 3), t.LeakyReLU(0.2)],
            r"layer 1 .*LeakyReLU.*slope 0.01 below 0, this one 0.2",
        ),
        (lambda t: [t.Linear(2, 3), t.Softmax(dim=0)], r"layer 1 .*Softmax\(dim=0\).*dim=-1"),
        (lambda t: [t.ReLU(), t.Linear(2, 3)], r"layer 0 .*ReLU\(\).*before any Linear"),
        (
            lambda t: [t.Linear(2, 3), t.Tanh(), t.ReLU()],
            r"layer 2 .*ReLU\(\).*follows another activation \(tanh\)",
        ),
        (
            lambda t: [t.Linear(2, 3), t.Linear(4, 1)],
            r"layer 1 .*takes 4 inputs but layer 0 gives 3",
        ),
        (lambda t: [], r"no Linear layer"),
        (
            lambda t: [t.Sequential(t.Linear(2, 3), t.Tanh()), t.Sequential(t.Dropout())],
            r"layer 1\.0 of the Sequential, Dropout",
        ),
    ],
    ids=[
        "dropout",
        "gelu",
        "leaky-slope",
        "softmax-dim",
        "first",
        "two-acts",
        "sizes",
        "empty",
        "nested",
    ],
)
def test_from_torch_names_the_first_unsupported_layer(torch, layers, message):
    with pytest.raises(ValueError, match=message):
        nn.MLP.from_torch(torch.nn.Sequential(*layers(torch.nn)))


def test_from_torch_wants_a_sequential_and_finite_weights(torch):
    with pytest.raises(TypeError, match="torch.nn.Sequential.*got Linear"):
        nn.MLP.from_torch(torch.nn.Linear(2, 1))
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    with torch.no_grad():
        net[1].weight[0, 1] = math.nan
    with pytest.raises(ValueError, match=r"layer 1 of the Sequential, Linear.*W\[1\]\[0\]"):
        nn.MLP.from_torch(net)


def test_an_activation_of_ones_own_cannot_be_exported(torch):
    model = nn.MLP(2, [3, 1], activation=lambda v: v * v)
    with pytest.raises(ValueError, match=r"Layer \(layers.0\) is a function of your own"):
        model.to_torch()


def test_compare_parameters_refuses_a_different_shape(torch):
    model = _model("tanh")
    with pytest.raises(ValueError, match="3 layers but the torch module 1 Linear"):
        nn.pytorch.compare_parameters(model, torch.nn.Sequential(torch.nn.Linear(3, 5)))
    other = nn.MLP(3, [5, 4, 2], bias=False).to_torch()
    with pytest.raises(ValueError, match="layer 0: chainrule has 3 -> 5 units \\(with bias\\)"):
        nn.pytorch.compare_parameters(model, other)


def test_compare_parameters_after_a_step_in_each(torch):
    model = _model("sigmoid")
    net = model.to_torch()
    x = [0.5, -1.0, 2.0]
    sum(model(x)).backward()
    net(torch.tensor(x, dtype=torch.float64)).sum().backward()
    nn.SGD(model, lr=0.1).step()
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    report = nn.pytorch.compare_parameters(model, net)
    assert report.ok and report.values and not report.gradients
    assert report.rows[0].name == "layers.0.neurons.0.w.0"
    assert "the values of MLP(3 -> 5 -> 4 -> 2)" in report.title


def test_without_torch_export_and_import_say_how_to_install_it():
    code = """
        import sys
        sys.modules["torch"] = None  # as if torch were not installed
        import nn
        model = nn.MLP(2, [2, 1], seed=0)
        for call in (model.to_torch, lambda: nn.MLP.from_torch(object())):
            try:
                call()
            except ModuleNotFoundError as exc:
                assert exc.name == "torch"
                print(exc)
        """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("MLP.to_torch needs PyTorch")
    assert lines[1].startswith("MLP.from_torch needs PyTorch")
    assert all('pip install "chainrule[torch]"' in line for line in lines)
