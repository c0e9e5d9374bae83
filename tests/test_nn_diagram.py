"""``nn.draw_network``: the lecture's network diagram, its DOT, its numbers and its names."""

from __future__ import annotations

import re

import pytest

import nn
import nn.diagram
from nn import lecture
from nn.functional import mse

H = [2 * -0.78 + 3 * 0.85, 2 * 0.13 + 3 * 0.23]  # [0.99, 0.95]
ERROR = 1.8 * H[0] + 0.40 * H[1] - 1  # ŷ - y = 1.162
# the slide's gradients, W1[i][j] from input i to hidden unit j (counted from 1)
SLIDE = {
    ("x_1", "h_1"): ("W1[1][1]", -0.78, ERROR * 1.8 * 2),
    ("x_1", "h_2"): ("W1[1][2]", 0.13, ERROR * 0.40 * 2),
    ("x_2", "h_1"): ("W1[2][1]", 0.85, ERROR * 1.8 * 3),
    ("x_2", "h_2"): ("W1[2][2]", 0.23, ERROR * 0.40 * 3),
    ("h_1", "ŷ"): ("W2[1]", 1.8, ERROR * H[0]),
    ("h_2", "ŷ"): ("W2[2]", 0.40, ERROR * H[1]),
}
# δ = dL/dz of each unit: ŷ - y at the (linear) output, (ŷ - y) W2[j] at hidden unit j
DELTA = {"h_1": ERROR * 1.8, "h_2": ERROR * 0.40, "ŷ": ERROR}


def half_mse(prediction, target):
    return mse(prediction, target, half=True)


def parse(source: str):
    """{node id: tooltip lines} and [(tail, head, tooltip lines)] with label boxes bridged."""
    nodes, edges = {}, []
    for m in re.finditer(r"^\s*(\w+) \[(.*)\]$", source, re.M):
        tip = re.search(r'tooltip="([^"]*)"', m.group(2))
        nodes[m.group(1)] = tip.group(1).split("\\n") if tip else []
    for m in re.finditer(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", source, re.M):
        if "invis" in (m.group(3) or ""):
            continue
        edges.append((m.group(1), m.group(2)))
    # a weight's label box w... sits on its edge: tail -> box -> head is one edge
    joined = []
    for tail, head in edges:
        if tail.startswith("w"):
            continue
        if head.startswith("w"):
            (after,) = [h for t, h in edges if t == head]
            joined.append((tail, after, nodes[head]))
        else:
            joined.append((tail, head, []))
    return nodes, joined


def names(nodes) -> dict[str, str]:
    """{node id: the name it is drawn with} (the first tooltip line names it)."""
    return {k: v[0].split(":")[0].split(" = ")[0] for k, v in nodes.items() if v}


def test_the_six_weights_are_on_the_six_right_edges():
    drawing = nn.draw_network(lecture.build_network(), x=[2, 3])
    nodes, edges = parse(drawing.source)
    name = names(nodes)
    found = {(name[t], name[h]): tip for t, h, tip in edges}
    assert set(found) == set(SLIDE)
    for pair, (weight, value, _) in SLIDE.items():
        assert found[pair][0] == f"{weight} = {value!r}"
        assert f"{weight} = {value:g}" in drawing.source  # and on the label itself


def test_after_backward_the_gradients_and_deltas_are_the_lectures():
    drawing = nn.draw_network(lecture.build_network(), x=[2, 3], y=1, loss=half_mse)
    nodes, edges = parse(drawing.source)
    name = names(nodes)
    for tail, head, tip in edges:
        if name.get(head) == "L":
            continue
        weight, _, slide_grad = SLIDE[(name[tail], name[head])]
        (line,) = [t for t in tip if t.startswith(f"dL/d{weight} = ")]
        assert float(line.split(" = ")[1]) == pytest.approx(slide_grad, abs=1e-12)
    for node, tip in nodes.items():
        if name.get(node) in DELTA:
            (line,) = [t for t in tip if t.startswith("δ = ")]
            assert float(line.split(" = ")[-1]) == pytest.approx(DELTA[name[node]], abs=1e-12)
    (loss_line,) = [t for t in nodes["loss"] if t.startswith("L = ")]
    assert float(loss_line[4:]) == pytest.approx(0.675122, abs=1e-12)


def test_drawing_leaves_the_models_gradients_alone():
    model = lecture.build_network()
    before = [p.grad for p in model.parameters()]
    nn.draw_network(model, x=[2, 3], y=1, loss=half_mse)
    assert [p.grad for p in model.parameters()] == before


def test_without_a_target_edges_show_the_last_backward():
    model = lecture.build_network()
    half_mse(model([2.0, 3.0]), 1.0).backward()
    source = nn.draw_network(model).source
    assert f"dL/dW1[2][1] = {ERROR * 1.8 * 3!r}"[:24] in source
    assert "δ" not in source  # no sample, so no δ


def test_forward_shows_z_and_output_and_biases():
    source = nn.draw_network(lecture.build_network("sigmoid", bias=True), x=[2, 3]).source
    assert "b1[1] = 0.1" in source and "b2 = 0.05" in source
    assert "z_1 = 1.09" in source and "h_1 = 0.7484" in source


@pytest.mark.parametrize(
    "model",
    [nn.xor_network(), nn.Perceptron(2, seed=1), nn.Adaline(3, seed=1), nn.Layer(2, 3, "tanh")],
    ids=["xor", "perceptron", "adaline", "layer"],
)
def test_any_network_of_neurons_draws(model):
    layers = nn.notation.units_of(model)
    nin, nout = len(layers[0][0].w), len(layers[-1])
    drawing = nn.draw_network(model, x=[1.0] * nin, y=[0.0] * nout)
    assert "δ = " in drawing.source
    weights = sum(len(n.w) for units in layers for n in units)
    assert drawing.source.count("arrowhead=none") == weights  # one label box on each edge


def test_xor_network_computes_xor_in_its_picture():
    source = nn.draw_network(nn.xor_network(), x=[1, 0]).source
    assert "ŷ = 1" in source
    source = nn.draw_network(nn.xor_network(), x=[1, 1]).source
    assert "ŷ = 0" in source


def test_a_wide_network_stays_readable_thin_edges_no_labels_unless_asked():
    model = nn.MLP(2, [16, 16, 1], seed=1)
    drawing = nn.draw_network(model, x=[0.5, -1.0], y=1.0)
    widths = [float(w) for w in re.findall(r'penwidth="?([\d.]+)', drawing.source)]
    assert max(widths) <= 3
    assert not re.search(r"^\s*w\d+_\d+_\d+ \[", drawing.source, re.M)  # no label boxes
    labelled = nn.draw_network(model, x=[0.5, -1.0], labels=True).source
    assert "W2[16][16] = " in labelled


def test_bad_arguments_are_refused_by_name():
    model = lecture.build_network()
    with pytest.raises(ValueError, match="the network has 2 inputs, x has 3"):
        nn.draw_network(model, x=[1, 2, 3])
    with pytest.raises(ValueError, match="y needs x"):
        nn.draw_network(model, y=1)
    with pytest.raises(ValueError, match="view must be one of"):
        nn.draw_network(model, view="sideways")
    with pytest.raises(TypeError, match="not a network of neurons"):
        nn.draw_network(nn.Module())


def test_the_numbers_notebooks_state_about_the_diagrams():
    # notebook 6: W1[2][1] has gradient 6.275 and h_1's δ is 2.092
    source = nn.draw_network(lecture.build_network(), x=[2, 3], y=1, loss=half_mse).source
    assert "W1[2][1] = 0.85<BR/>∂L/∂w = 6.275" in source and "δ = 2.092" in source
    # notebook 8: more than 20 edges are drawn unlabelled, and its MLP(2, [4, 4, 1]) has 28
    assert nn.diagram.LABEL_LIMIT == 20
    model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=0)
    assert sum(len(n.w) for layer in model.layers for n in layer.neurons) == 28


def test_deltas_are_drawn_inside_no_grad_too():
    from autograd import no_grad

    with no_grad():
        source = nn.draw_network(lecture.build_network(), x=[2, 3], y=1, loss=half_mse).source
    assert "δ = 2.092" in source
