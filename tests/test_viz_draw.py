"""``autograd.draw``: the DOT text of small graphs, checked for values, gradients, edge
derivatives, chain-rule sums, kinds, clusters, collapsing, size limits and determinism.

No renderer is needed here: these tests read the DOT source.  Rendering is tested in
test_viz_render.py.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import textwrap

import pytest

import autograd
import nn
from autograd import Constant, Value
from autograd.viz import Drawing, GraphTooLargeError, draw, draw_dot, groups, style


def neuron():
    """Karpathy's neuron: o = tanh(x*w + b), labelled."""
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    o = (x * w + b).tanh()
    o.label = "o"
    return o, x, w, b


def node_line(source: str, label: str) -> str:
    """The DOT statement of the value box whose label cell says `label` (tooltip left out)."""
    lines = [line for line in source.splitlines() if f"<B>{label}</B>" in line]
    assert len(lines) == 1, (label, lines)
    return lines[0].split(" tooltip=")[0]


def node_id(line: str) -> str:
    return line.split()[0]


# --------------------------------------------------------------------------------------------
# What a drawing is
# --------------------------------------------------------------------------------------------


def test_draw_returns_a_graphviz_digraph():
    import graphviz

    o, *_ = neuron()
    drawing = draw(o)
    assert isinstance(drawing, graphviz.Digraph) and isinstance(drawing, Drawing)
    assert autograd.draw is draw and autograd.draw_dot is draw_dot


def test_draw_dot_takes_micrograds_arguments_format_second():
    o, *_ = neuron()
    assert draw_dot(o).format == "svg" and draw_dot(o).source == draw(o).source
    png = draw_dot(o, "png", rankdir="TB")  # micrograd: draw_dot(root, format='svg', rankdir='LR')
    assert png.format == "png" and "rankdir=TB" in png.source
    assert draw_dot(o, format="pdf", view="forward").source == draw(o, view="forward").source
    with pytest.raises(ValueError, match="format must be one of"):
        draw_dot(o, "gif")


def test_importing_autograd_does_not_import_graphviz():
    code = "import sys, autograd; assert 'graphviz' not in sys.modules; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_op_nodes_sit_between_values():
    o, x, w, _ = neuron()
    source = draw(o).source
    x_id, w_id = node_id(node_line(source, "x")), node_id(node_line(source, "w"))
    product = re.search(rf"\t{x_id} -> (v\d+op)", source).group(1)
    assert f"\t{w_id} -> {product}" in source
    assert f"\t{product} -> {product[:-2]}\n" in source  # op -> its result
    assert re.search(rf"\t{product} \[label=\"\*\"", source)
    assert "label=tanh" in source


# --------------------------------------------------------------------------------------------
# Views and gradients
# --------------------------------------------------------------------------------------------


def test_forward_view_shows_data_and_no_gradient():
    o, *_ = neuron()
    o.backward()
    source = draw(o, view="forward").source
    assert "data 2.0000" in node_line(source, "x")
    assert "data 0.7064" in node_line(source, "o")
    assert "grad" not in source.replace("grad &gt; 0", "")


def test_gradient_view_shows_gradients_and_no_data():
    o, *_ = neuron()
    o.backward()
    source = draw(o, view="gradient").source
    assert "grad -1.5029" in node_line(source, "x")
    assert "grad 1.0019" in node_line(source, "w")
    assert "grad 1.0000" in node_line(source, "o")
    assert "data" not in node_line(source, "x")


def test_both_view_shows_both():
    o, *_ = neuron()
    o.backward()
    line = node_line(draw(o).source, "b")
    assert "data 6.8800" in line and "grad 0.5010" in line


def test_gradients_before_backward_show_as_not_computed_not_zero():
    o, *_ = neuron()
    source = draw(o, view="gradient").source
    assert "grad 0.0000" not in source
    assert source.count("grad not computed</I>") == 6  # x, w, x*w, b, x*w + b, o


def test_a_zero_gradient_after_backward_shows_as_zero():
    x = Value(-1.0, label="x")
    y = x.relu()
    y.label = "y"
    y.backward()
    line = node_line(draw(y, view="gradient").source, "x")
    assert "grad 0.0000" in line and "not computed" not in line


def test_grads_mapping_marks_missing_nodes_as_not_computed():
    o, x, w, b = neuron()
    source = draw(o, view="gradient", grads={o: 1.0, x: 0.25}).source
    assert "grad 0.2500" in node_line(source, "x")
    assert "grad not computed" in node_line(source, "w")


def test_grads_compute_draws_gradients_without_touching_dot_grad():
    o, x, w, b = neuron()
    source = draw(o, view="gradient", grads="compute").source
    assert "grad -1.5029" in node_line(source, "x")
    assert x.grad == 0.0 and o.grad == 0.0


def test_bad_view_and_bad_root_are_refused():
    o, *_ = neuron()
    with pytest.raises(ValueError, match="view must be one of"):
        draw(o, view="backward")
    with pytest.raises(TypeError, match="Value"):
        draw(3.0)
    with pytest.raises(ValueError, match="grads must be"):
        draw(o, grads="later")


# --------------------------------------------------------------------------------------------
# The chain rule made visible
# --------------------------------------------------------------------------------------------


def test_edge_derivatives_are_the_local_derivatives():
    o, x, w, b = neuron()
    source = draw(o, edge_derivatives=True).source
    x_id, w_id = node_id(node_line(source, "x")), node_id(node_line(source, "w"))
    # d(x*w)/dx = w = -3, d(x*w)/dw = x = 2, d tanh(n)/dn = 1 - tanh^2 = 0.501
    assert re.search(rf"\t{x_id} -> v\d+op \[label=<<FONT[^>]*>\u2202 -3</FONT>>", source)
    assert re.search(rf"\t{w_id} -> v\d+op \[label=<<FONT[^>]*>\u2202 2</FONT>>", source)
    assert "\u2202 0.501<" in source
    assert "\u2202" not in draw(o).source  # off by default


def test_edge_derivative_where_the_derivative_is_undefined():
    x = Value(0.0, label="x")
    y = x.sqrt()
    assert "\u2202 undefined" in draw(y, edge_derivatives=True).source


def test_chain_rule_sum_over_two_uses():
    x = Value(3.0, label="x")
    y = x * x + x  # dy/dx = 2x + 1 = 7: three uses
    y.label = "y"
    y.backward()
    line = node_line(draw(y, chain_rule=True).source, "x")
    # backward's order: the + first (upstream 1, local 1), then the * (its 2nd operand, then 1st)
    assert "grad = 1 \u00d7 1<BR/>+ 1 \u00d7 3<BR/>+ 1 \u00d7 3<" in line  # a term a line
    assert 'BALIGN="LEFT"' in line
    assert "grad 7.0000" in line
    seed = node_line(draw(y, chain_rule=True).source, "y")
    assert "grad = 1 (the seed)" in seed and "BALIGN" not in seed  # one line: centred


def test_chain_rule_lists_a_few_terms_then_counts_the_rest():
    x = Value(1.0, label="x")
    y = sum((x * k for k in range(1, 9)), Value(0.0))
    y.backward()
    line = node_line(draw(y, chain_rule=True).source, "x")
    assert "<BR/>+ \u2026 (5 more)<" in line


# --------------------------------------------------------------------------------------------
# Kinds, colours and the legend
# --------------------------------------------------------------------------------------------


def table_attrs(line: str) -> str:
    return re.search(r"<<TABLE ([^>]*)>", line).group(1)


def test_inputs_parameters_constants_and_output_look_different():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    y = w * x + 1.0
    y.label = "y"
    source = draw(y, params=[w]).source
    fill, border, width, table_style, _ = style.KINDS[style.PARAMETER]
    assert f'BORDER="{width}"' in table_attrs(node_line(source, "w"))
    assert 'STYLE="rounded"' in table_attrs(node_line(source, "x"))
    assert f'BORDER="{style.KINDS[style.OUTPUT].width}"' in table_attrs(node_line(source, "y"))
    constant = [line for line in source.splitlines() if "data 1.0000" in line]
    assert len(constant) == 1 and 'STYLE="dashed"' in constant[0]
    kinds = {kind: style.KINDS[kind].fill for kind in style.KINDS}
    assert len(set(kinds.values())) == len(kinds)  # every kind its own colour


def test_legend_lists_the_kinds_present_and_the_gradient_key():
    o, *_ = neuron()
    source = draw(o, view="gradient").source
    legend = [line for line in source.splitlines() if line.startswith("\tlegend ")][0]
    assert ">input<" in legend and ">output (root)<" in legend
    assert ">parameter<" not in legend and ">constant<" not in legend
    assert "grad &gt; 0" in legend and "grad &lt; 0" in legend
    assert "grad &gt; 0" not in draw(o, view="forward").source
    assert "\tlegend " not in draw(o, legend=False).source


def test_legend_kind_swatches_are_filled_only_where_nodes_are_filled_by_kind():
    o, *_ = neuron()
    input_fill = style.KINDS[style.INPUT].fill

    def legend(view):
        source = draw(o, view=view).source
        return [line for line in source.splitlines() if line.startswith("\tlegend ")][0]

    assert input_fill in legend("forward") and input_fill in legend("both")
    assert input_fill not in legend("gradient")  # there the fill is the gradient's colour


def test_gradient_view_colours_by_sign_and_magnitude():
    a, b, c = Value(1.0, label="a"), Value(1.0, label="b"), Value(1.0, label="c")
    y = a * 4.0 - b - c * 0.5  # grads 4, -1, -0.5
    y.backward()
    source = draw(y, view="gradient").source

    def fill(label):
        return re.search(r'BGCOLOR="(#[0-9a-f]{6})"', table_attrs(node_line(source, label))).group(
            1
        )

    def rgb(colour):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))

    ra, rb, rc = rgb(fill("a")), rgb(fill("b")), rgb(fill("c"))
    assert ra[2] > ra[0]  # positive: blue
    assert rb[0] > rb[2] and rc[0] > rc[2]  # negative: red
    assert sum(rb) < sum(rc)  # |-1| > |-0.5|: darker
    assert fill("a") == style.grad_fill(4.0, 4.0)


def test_grad_fill_handles_zero_nan_inf_and_none():
    assert style.grad_fill(0.0, 1.0) == style.ZERO_FILL
    assert style.grad_fill(None, 1.0) == style.NOT_COMPUTED_FILL
    assert style.grad_fill(float("nan"), 1.0).startswith("#")
    assert style.grad_fill(float("-inf"), 1.0) == style.grad_fill(-1.0, 1.0)
    assert style.number(float("inf")) == "inf" and style.number(1e-9) == "1.000e-09"


# --------------------------------------------------------------------------------------------
# Networks from nn
# --------------------------------------------------------------------------------------------


def small_mlp_loss(sizes=(3, 1), activation="tanh"):
    model = nn.MLP(2, list(sizes), seed=1, activation=activation)
    x = [Value(2.0, label="x0"), Value(-1.0, label="x1")]
    loss = (model(x) - 1.0) ** 2
    loss.backward()
    return model, loss


def test_parameters_are_found_from_nn_names_with_or_without_the_model():
    model, loss = small_mlp_loss()
    for source in (draw(loss).source, draw(loss, model=model).source):
        # each parameter shows its lecture name (W1[i][j], b1[j], W2[j], b2), once
        for name, _ in model.named_weights():
            assert source.count(f"<B>{name}</B>") == 1
        assert "<B>w.0</B>" not in source
        param_width = style.KINDS[style.PARAMETER].width
        for line in source.splitlines():
            if "<B>W1[2][" in line:
                assert f'BORDER="{param_width}"' in table_attrs(line)


def test_each_neuron_and_layer_is_a_cluster():
    model, loss = small_mlp_loss()
    source = draw(loss, model=model).source
    layers = re.findall(r"subgraph (cluster_\d+) \{", source)
    neurons = re.findall(r"subgraph (cluster_n\d+) \{", source)
    assert len(layers) == 2 and len(neurons) == 4
    assert ">hidden layer<" in source and ">output layer<" in source
    # each neuron's cluster and its output carry the unit's name: h_1 .. h_3, then ŷ
    for unit in ("h_1", "h_2", "h_3", "ŷ"):
        assert f">{unit}<" in source and source.count(f"<B>{unit}</B>") == 1
    assert "<B>out</B>" not in source and not re.search(r"<B>[^<]*neurons\.", source)
    assert "subgraph" not in draw(loss, clusters=False).source


def test_collapse_draws_each_neuron_as_one_node():
    model, loss = small_mlp_loss()
    source = draw(loss, collapse="neuron").source
    assert "<B>w.0</B>" not in source  # parameters are inside their neuron
    assert 'label="*"' not in source  # so are the products
    assert source.count("<B>h_") == 3 and source.count("<B>ŷ</B>") == 1
    assert ">tanh<" in source and ">linear<" in source
    neuron_ids = re.findall(r"\t\t(v\d+) \[label=<<TABLE[^\n]*<B>(?:h_\d|ŷ)", source)
    x0 = node_id(node_line(source, "x0"))
    for nid in neuron_ids[:3]:  # layer 0 neurons read both inputs
        assert f"\t{x0} -> {nid}\n" in source
    last = neuron_ids[3]
    assert all(f"\t{n} -> {last}\n" in source for n in neuron_ids[:3])


def test_collapse_keeps_a_parameter_that_is_also_used_outside_its_neuron():
    model = nn.MLP(2, [2, 1], seed=3)
    x = [Value(1.0, label="x0"), Value(2.0, label="x1")]
    w = model.layers[0].neurons[0].w[0]
    loss = model(x) + 0.1 * w * w  # weight decay on one weight
    source = draw(loss, collapse="neuron", model=model).source
    assert "<B>W1[1][1]</B>" in source
    assert source.count("<B>h_") + source.count("<B>ŷ</B>") == 3


def test_big_mlp_is_refused_with_a_hint_and_drawn_collapsed():
    model, loss = small_mlp_loss(sizes=(16, 16, 1), activation="relu")
    with pytest.raises(GraphTooLargeError, match="collapse='neuron'"):
        draw(loss)
    source = draw(loss, collapse="neuron", model=model).source
    assert len(re.findall(r"<B>h[12]_\d+</B>", source)) == 32 and "<B>ŷ</B>" in source
    assert len(re.findall(r"\tv\d+op \[", source)) < 10


def test_a_large_graph_without_neurons_is_not_told_to_collapse_them():
    x = Value(1.0, label="x")
    total = sum((x * i for i in range(300)), Value(0.0))
    with pytest.raises(GraphTooLargeError, match="draw a smaller graph, or raise max_nodes") as err:
        draw(total)
    assert "collapse" not in str(err.value)


def test_collapsing_reads_each_nodes_uses_at_most_twice():
    """A weight shared by every sample's neuron is checked once, not once per sample: a
    100-sample loss took 20 s to display in Jupyter, nearly all of it in those checks."""
    from collections import Counter

    from autograd.viz import chain, collapse

    class Counting(dict):
        def __getitem__(self, v):
            reads[v] += 1
            return super().__getitem__(v)

        def get(self, v, default=None):
            reads[v] += 1
            return super().get(v, default)

    model = nn.MLP(2, [4, 1], seed=0)
    loss = sum((model([float(i), 1.0]) for i in range(20)), Value(0.0))
    order, reads = autograd.topological_order(loss), Counter()
    structure = collapse.analyse(order, Counting(chain.uses(order)), collapse="neuron")
    assert len(structure.collapsed) == 20 * 5 and set(model.parameters()) <= structure.hidden
    assert max(reads.values()) <= 2


class _Unit(nn.Module):
    """A neuron whose attributes are not called w and b: drawings must not care."""

    drawn_as = "neuron"

    def __init__(self, nin: int, j: int) -> None:
        self.weights = [Value(0.1 * (i + 1) * (-1) ** j) for i in range(nin)]
        self.bias = Value(0.2)

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.weights, x, strict=True)), self.bias)
        return self.label_output(act.tanh())


class _Block(nn.Module):
    drawn_as = "layer"

    def __init__(self, nin: int, nout: int) -> None:
        self.units = [_Unit(nin, j) for j in range(nout)]

    def __call__(self, x):
        return [u(x) for u in self.units]


class _Net(nn.Module):
    def __init__(self) -> None:
        self.blocks = [_Block(2, 3), _Block(3, 1)]
        self.relabel()

    def __call__(self, x):
        for block in self.blocks:
            x = block(x)
        return x[0]


def test_clusters_come_from_the_model_not_its_attribute_names():
    net = _Net()
    loss = (net([Value(2.0, label="x0"), Value(-1.0, label="x1")]) - 1.0) ** 2
    loss.backward()
    for source in (draw(loss).source, draw(loss, model=net).source):
        assert len(re.findall(r"subgraph (cluster_\d+) \{", source)) == 2  # layers
        assert len(re.findall(r"subgraph (cluster_n\d+) \{", source)) == 4  # neurons
        assert ">blocks.0<" in source and source.count(">units.0<") == 2
        assert source.count("<B>out</B>") == 4 and source.count("<B>weights.0</B>") == 4
        param_width = style.KINDS[style.PARAMETER].width
        biases = [line for line in source.splitlines() if "<B>bias</B>" in line]
        assert len(biases) == 4
        assert all(f'BORDER="{param_width}"' in table_attrs(line) for line in biases)
    collapsed = draw(loss, collapse="neuron").source
    assert collapsed.count("<B>units.") == 4 and "<B>weights.0</B>" not in collapsed


def test_a_network_labels_its_parameters_and_neurons_for_the_drawings():
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([1.0, 2.0])
    assert isinstance(model.layers[0].neurons[1].w[0].label, groups.ParameterLabel)
    assert isinstance(out.label, groups.NeuronLabel)
    assert out.label == "layers.1.neurons.0" and out.label.layer == "layers.1"
    assert out.label.short == "neurons.0" and repr(out.label) == "'layers.1.neurons.0'"
    assert pickle.loads(pickle.dumps(out.label)).layer == "layers.1"
    # a root Layer is no layer cluster of its own: its neurons have no layer
    assert nn.Layer(2, 2, seed=0)([1.0, 2.0])[0].label.layer is None
    with pytest.raises(ValueError, match="not inside its layer"):
        groups.NeuronLabel("a.b", layer="c")


def test_max_nodes_counts_values_and_ops():
    o, *_ = neuron()  # x, w, b, 3 results, 3 ops = 9 boxes
    draw(o, max_nodes=9)
    with pytest.raises(GraphTooLargeError, match="9 nodes"):
        draw(o, max_nodes=8)


def test_bad_collapse_is_refused():
    o, *_ = neuron()
    with pytest.raises(ValueError, match="collapse"):
        draw(o, collapse="layer")


# --------------------------------------------------------------------------------------------
# Other graphs
# --------------------------------------------------------------------------------------------


def test_graph_of_a_gradient_computation_can_be_drawn():
    x = Value(2.0, label="x")
    y = x * x * x
    y.backward(create_graph=True)
    dydx = x.grad  # 3 x^2 as a graph of Values
    assert isinstance(dydx, Value) and dydx.data == 12.0
    dydx.label = "dy/dx"
    source = draw(dydx, view="forward").source
    assert "<B>dy/dx</B>" in source and "data 12.0000" in source
    assert "<B>x</B>" in source and source.count('label="*"') >= 2
    # and differentiated again: d2y/dx2 = 6x = 12
    x.grad = 0.0
    dydx.backward()
    assert "grad 12.0000" in node_line(draw(dydx, view="gradient").source, "x")


def test_several_roots_are_drawn_together():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    s, p = a + b, a * b
    s.label, p.label = "s", "p"
    source = draw([s, p]).source
    assert source.count("<B>a</B>") == 1
    out_width = style.KINDS[style.OUTPUT].width
    for label in ("s", "p"):
        assert f'BORDER="{out_width}"' in table_attrs(node_line(source, label))


def test_pow_exponent_and_leaky_slope_are_shown_in_the_op():
    x = Value(3.0, label="x")
    y = x**2 + x.leaky_relu(0.2)
    source = draw(y).source
    assert 'label="**2"' in source and 'label="LeakyReLU(0.2)"' in source
    assert "data 2.0000" not in source and "data 0.2000" not in source


def test_highlight_marks_a_node():
    o, x, *_ = neuron()
    line = node_line(draw(o, highlight=x).source, "x")
    assert f'COLOR="{style.HIGHLIGHT}"' in line


def test_title():
    o, *_ = neuron()
    assert "<B>my &lt;graph&gt;</B>" in draw(o, title="my <graph>").source


# --------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------


def test_same_graph_same_text():
    model, loss = small_mlp_loss()
    for options in ({}, {"collapse": "neuron"}, {"edge_derivatives": True, "chain_rule": True}):
        assert draw(loss, **options).source == draw(loss, **options).source


def test_same_text_in_fresh_processes_with_different_hash_seeds():
    code = textwrap.dedent(
        """
        import nn
        from autograd import Value, draw
        model = nn.MLP(2, [3, 2, 1], seed=5)
        loss = (model([Value(1.0, label="x0"), Value(-2.0, label="x1")]) - 1.0) ** 2
        loss.backward()
        print(draw(loss, edge_derivatives=True, chain_rule=True).source)
        print(draw(loss, collapse="neuron").source)
        """
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_constants_are_not_mistaken_for_inputs():
    c = Constant(2.5)
    x = Value(1.0, label="x")
    source = draw(x * c).source
    line = [s for s in source.splitlines() if "data 2.5000" in s][0]
    assert 'STYLE="dashed"' in line and "grad" not in line


def test_parameter_names_come_from_the_model_even_without_labels():
    model = nn.MLP(2, [2, 1], seed=2)
    for p in model.parameters():
        p.label = ""  # names come from named_parameters(), not from labels
    loss = model([Value(1.0, label="x0"), Value(2.0, label="x1")])
    source = draw(loss, model=model).source
    assert source.count("<B>w.1</B>") == 3 and source.count("<B>b</B>") == 3


def test_params_given_as_name_value_pairs():
    w, x = Value(0.5), Value(2.0, label="x")
    y = w * x
    source = draw(y, params=[("weight", w)]).source
    line = node_line(source, "weight")
    assert f'BORDER="{style.KINDS[style.PARAMETER].width}"' in table_attrs(line)
    with pytest.raises(TypeError, match="params"):
        draw(y, params=[3.0])
