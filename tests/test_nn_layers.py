"""Neuron, Layer and MLP: micrograd's shapes and numbers, names and labels, explicit weights."""

from __future__ import annotations

import contextlib
import os
import random

import injection
import pytest

import autograd
import nn
from autograd import Value

SLIDE_W1 = [[-0.78, 0.13], [0.85, 0.23]]
SLIDE_W2 = [[1.8], [0.40]]


def test_micrograd_mlp_has_337_parameters_relu_hidden_and_linear_output():
    model = nn.MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    assert isinstance(model([0.5, -1.0]), Value)


def test_default_init_is_micrograds_uniform_with_zero_bias():
    model = nn.MLP(3, [50, 1], seed=0)
    weights = [p.data for name, p in model.named_parameters() if ".w." in name]
    biases = [p.data for name, p in model.named_parameters() if name.endswith(".b")]
    assert all(-1 <= w <= 1 for w in weights) and max(weights) > 0.9 and min(weights) < -0.9
    assert biases == [0.0] * 51


def test_same_global_seed_gives_micrograds_exact_weights():
    micrograd_nn = pytest.importorskip("micrograd.nn")
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = nn.MLP(2, [16, 16, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    x = [0.3, -0.7]
    assert ours(x).data == theirs(x).data


def test_seed_makes_a_model_reproducible_without_touching_global_random():
    random.seed(5)
    expected_next = random.random()
    random.seed(5)
    a = nn.MLP(2, [4, 1], seed=3)
    assert random.random() == expected_next
    b = nn.MLP(2, [4, 1], seed=3)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != nn.MLP(2, [4, 1], seed=4).state_dict()


@pytest.mark.parametrize("init", ["xavier", "glorot", "he", "kaiming", "micrograd", "uniform"])
def test_initialisation_schemes_are_accepted_and_scaled(init):
    model = nn.MLP(100, [100, 1], init=init, seed=0)
    weights = [p.data for p in model.layers[0].parameters() if p.label.split(".")[-2] == "w"]
    var = sum(w * w for w in weights) / len(weights)
    expected = {"xavier": 1 / 100, "glorot": 1 / 100, "he": 2 / 100, "kaiming": 2 / 100}.get(
        init, 1 / 3
    )
    assert var == pytest.approx(expected, rel=0.1)


def test_unknown_init_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown init 'gaussian'; valid: micrograd, xavier, he"):
        nn.MLP(2, [3, 1], init="gaussian")


def test_neuron_accepts_micrographs_nonlin_flag():
    assert nn.Neuron(3, nonlin=True).activation == "relu"
    linear = nn.Neuron(3, nonlin=False)
    assert linear.activation == "linear" and not linear.nonlin
    out = linear([1.0, 2.0, 3.0])
    assert out.data == pytest.approx(
        sum(w.data * x for w, x in zip(linear.w, [1, 2, 3], strict=True))
    )


def test_neuron_and_layer_take_micrograds_flag_by_position_too():
    assert nn.Neuron(3, False).activation == "linear" and nn.Neuron(3, True).activation == "relu"
    assert nn.Layer(3, 2, nonlin=False).activation == "linear"
    with pytest.raises(ValueError, match="contradicts"):
        nn.Neuron(3, True, nonlin=False)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Neuron(2, "tanh", nonlin=True),
        lambda: nn.Neuron(2, "relu", nonlin=False),
        lambda: nn.Neuron(2, activation="sigmoid", nonlin=False),
        lambda: nn.Layer(2, 2, "sigmoid", nonlin=False),
        lambda: nn.Layer(2, 2, "tanh", nonlin=True),
        lambda: nn.Layer(2, 3, "softmax", nonlin=True),
    ],
)
def test_an_explicit_activation_and_a_contradicting_nonlin_are_refused(make):
    with pytest.raises(ValueError, match="contradicts the activation .*: pass one of them"):
        make()


def test_nonlin_alone_or_agreeing_with_the_activation_picks_relu_or_linear():
    assert nn.Neuron(2).activation == "relu" and nn.Layer(2, 3).activation == "relu"
    assert nn.Neuron(2, nonlin=False).activation == "linear"
    assert nn.Neuron(2, "relu", nonlin=True).activation == "relu"
    assert nn.Neuron(2, "linear", nonlin=False).activation == "linear"
    layer = nn.Layer(2, 3, nonlin=False)
    assert layer.activation == "linear"
    assert [n.activation for n in layer.neurons] == ["linear"] * 3
    assert nn.Layer(2, 3, "tanh").activation == "tanh"


def test_neuron_computes_micrograds_sum_then_activation():
    neuron = nn.Neuron.from_weights([2.0, -3.0], b=0.5, activation="relu")
    assert neuron([1.0, 1.0]).data == 0.0
    assert neuron([1.0, 0.0]).data == 2.5
    assert nn.Neuron.from_weights([2.0], b=0.0, activation="tanh")(0.5).data == pytest.approx(
        0.7615941559557649
    )


def micrograd_graph(root: Value) -> tuple:
    """root's graph as nested (op, data, parents), leaves by identity: equal graphs, equal."""
    if root.is_leaf:
        return ("leaf", id(root))
    return (root.op, root.data, tuple(micrograd_graph(p) for p in root.parents))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("mode", ["none", "no_grad", "detect_anomaly", "trace"])
def test_weighted_sum_records_micrograds_sum_node_for_node_in_every_mode(bias, mode):
    neuron = nn.Neuron(3, "tanh", bias=bias, seed=4)
    x = [Value(0.5, label="a"), Value(-2.0), Value(1.5)]

    def micrograd(w, x, b):  # micrograd's Neuron: sum((wi*xi for wi, xi in zip(w, x)), b)
        if b is not None:
            return sum((wi * xi for wi, xi in zip(w, x, strict=True)), b)
        products = [wi * xi for wi, xi in zip(w, x, strict=True)]
        return sum(products[1:], products[0])

    if mode == "trace":  # the tape sees micrograd's adds and muls (its dense layers need them)
        point = [0.5, -2.0, 1.5]
        ours = autograd.trace(lambda *x: neuron.net(x), 3, example=point)
        theirs = autograd.trace(lambda *x: micrograd(neuron.w, x, neuron.b), 3, example=point)
        assert [g.name for g in ours.groups] == [g.name for g in theirs.groups]
        return
    block = {"none": contextlib.nullcontext, "no_grad": autograd.no_grad}.get(
        mode, autograd.detect_anomaly
    )
    with block():
        z, expected = neuron.net(x), micrograd(neuron.w, x, neuron.b)
    assert type(z) is type(expected) and z.data == expected.data
    if mode == "no_grad":
        assert z.is_leaf and expected.is_leaf
        return
    assert micrograd_graph(z) == micrograd_graph(expected)
    z.backward()
    grads = [p.grad for p in (*neuron.parameters(), *x)]
    for v in (*neuron.parameters(), *x):
        v.grad = 0.0
    expected.backward()
    assert [p.grad for p in (*neuron.parameters(), *x)] == grads


def test_an_overflow_inside_a_neurons_sum_names_the_op_and_operands():
    neuron = nn.Neuron.from_weights([1e200, 1.0], b=1e308, activation="linear")
    with pytest.raises(OverflowError, match=r"mul\(w\.0=1e\+200, x=1e\+200\)"):
        neuron([Value(1e200, label="x"), Value(1.0)])
    with pytest.raises(OverflowError, match=r"add\(b=1e\+308, 1e\+308\)"):
        neuron([Value(1e108), Value(0.0)])


def test_an_input_that_is_neither_a_number_nor_a_value_is_refused_by_position():
    with pytest.raises(TypeError, match="input 1 must be a number or a Value, got str"):
        nn.MLP(2, [3, 1])([1.0, "2"])


def test_layer_returns_one_value_for_one_unit_and_a_list_otherwise():
    assert isinstance(nn.Layer(2, 1)([1, 2]), Value)
    out = nn.Layer(2, 3)([1, 2])
    assert isinstance(out, list) and len(out) == 3


def test_model_accepts_numbers_values_and_numpy_rows():
    import numpy as np

    model = nn.MLP(2, [3, 1], seed=1)
    a = model([0.5, 2.0]).data
    assert model([Value(0.5), Value(2.0)]).data == a
    assert model(np.array([0.5, 2.0])).data == a


def test_wrong_input_length_says_expected_and_got():
    model = nn.MLP(2, [16, 16, 1])
    with pytest.raises(ValueError, match="^expected 2 inputs, got 3$"):
        model([1, 2, 3])
    with pytest.raises(ValueError, match="^expected 2 inputs, got 1$"):
        nn.Neuron(2)([1])
    with pytest.raises(ValueError, match="^expected 4 inputs, got 2$"):
        nn.Layer(4, 2)([1, 2])


@pytest.mark.parametrize("where", ["activation", "output_activation"])
def test_unknown_activation_lists_the_valid_names(where):
    with pytest.raises(
        ValueError,
        match="unknown activation 'relux'; valid: linear, step, sigmoid, tanh, relu, leaky_relu",
    ):
        nn.MLP(2, [3, 1], **{where: "relux"})


def test_softmax_is_a_layer_activation_not_a_neuron_one():
    with pytest.raises(ValueError, match="whole layer"):
        nn.Neuron(2, "softmax")
    probs = nn.Layer(2, 3, "softmax", seed=0)([1.0, -1.0])
    assert sum(p.data for p in probs) == pytest.approx(1.0)


def test_named_parameters_use_dotted_names_and_labels_match():
    model = nn.MLP(2, [3, 1])
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert "layers.0.neurons.1.w.0" in names and "layers.0.neurons.1.b" in names
    assert names[-1] == "layers.1.neurons.0.b"
    assert all(p.label == name for name, p in model.named_parameters())


def test_each_neuron_call_labels_its_output_with_the_neurons_name():
    model = nn.MLP(2, [3, 1])
    hidden = model.layers[0]([1.0, 2.0])
    assert [h.label for h in hidden] == [
        "layers.0.neurons.0",
        "layers.0.neurons.1",
        "layers.0.neurons.2",
    ]
    assert model([1.0, 2.0]).label == "layers.1.neurons.0"


def test_named_modules_lists_every_module_like_pytorch():
    model = nn.MLP(2, [2, 1])
    names = [name for name, _ in model.named_modules()]
    assert names == [
        "",
        "layers.0",
        "layers.0.neurons.0",
        "layers.0.neurons.1",
        "layers.1",
        "layers.1.neurons.0",
    ]
    assert dict(model.named_modules())["layers.0.neurons.1"] is model.layers[0].neurons[1]


def test_zero_grad_clears_every_parameter():
    model = nn.MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


@pytest.mark.parametrize("clear", ["module", "optimizer"])
def test_zero_grad_interrupted_anywhere_clears_all_gradients_or_none(clear):
    files = (
        os.path.dirname(nn.__file__),
        os.path.join(os.path.dirname(autograd.__file__), "flat.py"),
    )
    k = 1
    while True:
        model = nn.MLP(2, [3, 1], seed=0)
        model([1.0, 2.0]).backward()
        before = [p.grad for p in model.parameters()]
        zero = model.zero_grad if clear == "module" else nn.SGD(model, lr=0.1).zero_grad
        ran = injection.run_interrupted_at(k, KeyboardInterrupt, zero, files)
        after = [p.grad for p in model.parameters()]
        if ran < k:  # it finished before the k-th bytecode: every gradient is 0
            assert all(g is autograd.value.ZERO for g in after)
            break
        assert after == before or all(g == 0 for g in after), f"half cleared at bytecode {k}"
        k += 1
    assert k > 3  # the injection reached the clearing code


def test_repr_shows_architecture_and_parameter_count():
    text = repr(nn.MLP(2, [16, 16, 1]))
    assert text.splitlines()[0] == "MLP(2 -> 16 -> 16 -> 1; 337 parameters)"
    assert "(layers.0): Layer(2 -> 16, relu)" in text
    assert "(layers.2): Layer(16 -> 1, linear)" in text


def test_slide_network_from_explicit_weights_gives_2_162():
    model = nn.MLP.from_weights([SLIDE_W1, SLIDE_W2], activation="linear")
    assert model([2, 3]).data == pytest.approx(2.162, abs=1e-12)
    assert model.num_parameters() == 6  # no biases


def test_explicit_weights_follow_input_i_to_unit_j():
    layer = nn.Layer.from_weights(SLIDE_W1)
    assert [w.data for w in layer.neurons[0].w] == [-0.78, 0.85]
    assert [w.data for w in layer.neurons[1].w] == [0.13, 0.23]
    h = layer([2, 3])
    assert [v.data for v in h] == pytest.approx([0.99, 0.95])


def test_explicit_weights_with_biases_and_bad_shapes():
    model = nn.MLP.from_weights([[[1.0], [1.0]]], biases=[[-1.5]], output_activation="step")
    assert [model(x).data for x in ([0, 0], [1, 0], [1, 1])] == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="rows but layer 0 has 2 units"):
        nn.MLP.from_weights([SLIDE_W1, [[1.0], [2.0], [3.0]]])
    with pytest.raises(ValueError, match="not rectangular"):
        nn.Layer.from_weights([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match="finite"):
        nn.Layer.from_weights([[float("nan")]])
    with pytest.raises(ValueError, match=r"w\[0\] must be a finite .* too large for a float"):
        nn.Neuron.from_weights([10**400])


def test_a_call_on_plain_numbers_makes_each_input_one_shared_leaf():
    model = nn.MLP(2, [16, 16, 1], seed=1)
    out = model([0.5, -1.0])
    leaves = [
        v
        for v in autograd.topological_order([out])
        if v.is_leaf and not isinstance(v, autograd.Constant) and v.label.startswith("x_")
    ]
    assert [(v.label, v.data) for v in leaves] == [("x_1", 0.5), ("x_2", -1.0)]
    out.backward()  # each input's gradient sums its 16 uses: it is d(out)/dx_1
    eps = 1e-6
    numeric = (model([0.5 + eps, -1.0]).data - model([0.5 - eps, -1.0]).data) / (2 * eps)
    assert leaves[0].grad == pytest.approx(numeric, abs=1e-6)
    drawing = autograd.draw(out, collapse="neuron", legend=False)
    assert drawing.source.count("<B>x_1</B>") == 1 and drawing.source.count("<B>x_2</B>") == 1


def test_given_values_are_used_as_they_are():
    x = [autograd.Value(0.5), autograd.Value(-1.0)]
    out = nn.MLP(2, [3, 1], seed=1)(x)
    assert {v for v in autograd.topological_order([out]) if v.is_leaf} >= set(x)


@pytest.mark.parametrize(
    "batch",
    [[[1, 2], [3, 4]], [[1, 2], [3, 4], [5, 6]], [(1, 2)], "numpy"],
    ids=["two_rows", "three_rows", "one_row", "numpy_rows"],
)
def test_a_batch_passed_as_one_sample_says_to_call_the_model_per_row(batch):
    import numpy as np

    if batch == "numpy":
        batch = np.array([[1.0, 2.0], [3.0, 4.0]])
    rows = f"{len(batch)} row" + ("s" if len(batch) != 1 else "")
    with pytest.raises(
        (TypeError, ValueError), match=rf"batch of {rows}, .*one sample.*\[model\(x\) for x in X\]"
    ):
        nn.MLP(2, [3, 1])(batch)
