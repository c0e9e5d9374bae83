"""The lecture's matrix names for parameters (``nn.notation``, ``named_weights()``)."""

from __future__ import annotations

import pytest

import nn
from nn import notation

SLIDE_W1 = [[-0.78, 0.13], [0.85, 0.23]]
SLIDE_W2 = [[1.8], [0.40]]


def test_slide_network_weights_are_named_as_on_the_slide_counting_from_one():
    model = nn.MLP.from_weights([SLIDE_W1, SLIDE_W2], activation="linear")
    named = {name: p.data for name, p in model.named_weights()}
    assert named == {
        "W1[1][1]": -0.78,
        "W1[1][2]": 0.13,
        "W1[2][1]": 0.85,
        "W1[2][2]": 0.23,
        "W2[1]": 1.8,  # one output unit: the slide's w^(2)_j, no unit index
        "W2[2]": 0.40,
    }


def test_named_weights_follow_named_parameters_one_for_one():
    model = nn.MLP(3, [4, 2], seed=0)
    dotted = model.named_parameters()
    matrix = model.named_weights()
    assert [p for _, p in matrix] == [p for _, p in dotted]
    assert len({name for name, _ in matrix}) == len(matrix)


def test_matrix_name_gives_layer_source_and_unit():
    model = nn.MLP(3, [4, 2], seed=0)
    names = notation.matrix_names(model)
    # weight 2 of neuron 3 in layer 0 (Python's counting) comes from input 3 into unit 4
    assert names["layers.0.neurons.3.w.2"] == notation.MatrixName("W", 1, 3, 4, 4)
    assert str(names["layers.0.neurons.3.w.2"]) == "W1[3][4]"
    assert str(names["layers.1.neurons.1.b"]) == "b2[2]"
    assert names["layers.1.neurons.1.b"].source is None


def test_every_weight_sits_where_the_weight_matrix_puts_it():
    W = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    model = nn.MLP.from_weights([W, [[7.0], [8.0], [9.0]]], biases=[[0.1, 0.2, 0.3], [0.4]])
    names = notation.matrix_names(model)
    for dotted, p in model.named_parameters():
        m = names[dotted]
        if m.kind == "W" and m.layer == 1:
            assert p.data == W[m.source - 1][m.unit - 1]
    assert {str(m) for m in names.values() if m.kind == "b"} == {"b1[1]", "b1[2]", "b1[3]", "b2"}


def test_lone_layer_neuron_and_perceptron_have_no_layer_number():
    assert [n for n, _ in nn.Layer(2, 2).named_weights()] == [
        "W[1][1]",
        "W[2][1]",
        "b[1]",
        "W[1][2]",
        "W[2][2]",
        "b[2]",
    ]
    assert [n for n, _ in nn.Neuron(2, bias=False).named_weights()] == ["w[1]", "w[2]"]
    assert [n for n, _ in notation.named_weights(nn.Perceptron(2))] == ["w[1]", "w[2]", "b"]


def test_value_names_follow_the_lecture():
    assert [notation.unit_name(0, j, [2, 1]) for j in range(2)] == ["h_1", "h_2"]
    assert notation.unit_name(1, 0, [2, 1]) == "ŷ"
    assert [notation.sum_name(0, j, [2, 1]) for j in range(2)] == ["z_1", "z_2"]
    assert notation.sum_name(1, 0, [2, 1]) == "z"
    # two hidden layers: the layer number joins the unit's; several outputs are numbered
    assert notation.unit_name(1, 2, [4, 4, 3]) == "h2_3"
    assert notation.unit_name(2, 2, [4, 4, 3]) == "ŷ_3"
    assert notation.sum_name(2, 2, [4, 4, 3]) == "z3_3"
    assert notation.sum_name(1, 0, [4, 2]) == "z2_1"  # beside z_1 of the hidden layer
    assert notation.input_name(0) == "x_1"


def test_a_module_without_neurons_is_refused_by_name():
    with pytest.raises(TypeError, match="Module is not a network of neurons"):
        notation.matrix_names(nn.Module())


def test_labels_carry_the_lecture_names_pictures_show_and_keep_the_dotted_ones():
    import copy
    import pickle

    model = nn.MLP(2, [2, 1], seed=0)
    w = model.layers[0].neurons[1].w[0]
    assert w.label == "layers.0.neurons.1.w.0" and w.label.shown == "W1[1][2]"
    out = model([1.0, 2.0])
    assert out.label == "layers.1.neurons.0"
    assert (out.label.shown, out.label.layer_shown) == ("ŷ", "output layer")
    hidden = model.layers[0]([1.0, 2.0])[1].label
    assert (hidden.shown, hidden.layer_shown) == ("h_2", "hidden layer")
    for label in (w.label, out.label):
        for again in (copy.deepcopy(label), pickle.loads(pickle.dumps(label))):
            assert again == label and again.shown == label.shown


def test_a_custom_module_keeps_its_dotted_names_in_pictures():
    class Scale(nn.Module):
        def __init__(self):
            self.k = nn.Neuron(1).w[0]
            self.relabel()

    assert Scale().k.label == "k" and Scale().k.label.shown is None
