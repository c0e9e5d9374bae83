"""micrograd's ``_backward``: each node's local step, called by hand or set by hand.

micrograd gives every node a closure ``_backward`` that passes ``out.grad`` to its children; its
lecture calls them one by one (``o._backward(); n._backward(); ...``) and teaches extending
``Value`` by setting one (``out._backward = _backward``).  Both work here, without a closure per
built-in node: reading ``_backward`` builds the node's step from the primitive table.
"""

from __future__ import annotations

import math

import pytest
from test_engine_micrograd import readme_example, sanity_check

import autograd
from autograd import Value, topological_order


def lecture_neuron():
    """The lecture's neuron: o = tanh(x1 w1 + x2 w2 + b), with its intermediate names."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    return locals()


def test_the_lectures_backward_by_hand_node_by_node():
    v = lecture_neuron()
    v["o"].grad = 1.0
    for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"):  # the lecture's order
        v[name]._backward()
    assert v["n"].grad == pytest.approx(0.5)
    assert (v["x1"].grad, v["w1"].grad) == pytest.approx((-1.5, 1.0))
    assert (v["x2"].grad, v["w2"].grad) == pytest.approx((0.5, 0.0))


@pytest.mark.parametrize("example", [readme_example, sanity_check])
def test_backward_by_hand_in_reverse_topological_order_equals_backward(example):
    *leaves, root = example(Value)
    root.grad = 1.0
    for node in reversed(topological_order(root)):
        node._backward()
    by_hand = [x.grad for x in leaves]
    *leaves, root = example(Value)
    root.backward()
    assert by_hand == pytest.approx([x.grad for x in leaves], rel=1e-12)


def test_a_leafs_backward_does_nothing():
    x = Value(3.0)
    x.grad = 2.0
    x._backward()
    assert x.grad == 2.0


def test_a_hand_set_backward_replaces_the_ops_rule_and_runs_once():
    x = Value(0.3)
    t = x.tanh()
    calls = []

    def _backward():
        calls.append(t.grad)
        x.grad += 10.0 * t.grad

    t._backward = _backward
    (t * 2.0).backward()
    assert calls == [2.0] and x.grad == 20.0
    assert t._backward is _backward and t.op == "tanh"


def test_a_hand_set_backward_on_x_op_x_counts_both_uses_once_each():
    x = Value(3.0)
    y = x * x

    def _backward():  # micrograd's __mul__ closure, with self and other the same Value
        x.grad += x.data * y.grad
        x.grad += x.data * y.grad

    y._backward = _backward
    (y + 1.0).backward()
    assert x.grad == 6.0


def test_a_hand_set_backward_runs_on_values_under_create_graph():
    x = Value(0.5)
    t = x.tanh()

    def _backward():
        x.grad += (1 - t * t) * t.grad  # Value arithmetic: differentiable again

    t._backward = _backward
    (g,) = autograd.grad(t, x, create_graph=True)
    (gg,) = autograd.grad(g, x)
    th = math.tanh(0.5)
    assert (g.data, gg) == pytest.approx((1 - th**2, -2 * th * (1 - th**2)))


def lecture_style(op: str, x: Value, t: float, derivative: float) -> Value:
    """Value(t, (x,), op) with micrograd's closure: it scales out.grad by a number."""
    out = Value(t, (x,), op)

    def _backward():
        x.grad += derivative * out.grad

    out._backward = _backward
    return out


@pytest.mark.parametrize("how", ["grad", "backward"])
def test_create_graph_through_a_closure_computing_with_numbers_is_refused(how):
    # d tanh / dx = 1 - t**2 with t a float: differentiating it again would give None or 0,
    # silently, where the second derivative is -2 t (1 - t**2)
    x = Value(0.5, label="x")
    t = math.tanh(0.5)
    y = lecture_style("tanh", x, t, 1 - t**2)
    message = r"^backward with create_graph=True through tanh\(x=0.5\), .*define_primitive$"
    with pytest.raises(RuntimeError, match=message):
        if how == "grad":
            autograd.grad(y * 3.0, x, create_graph=True)
        else:
            (y * 3.0).backward(create_graph=True)
    assert x.grad == 0.0 and y.grad == 0.0  # nothing half-changed
    (y * 3.0).backward()  # without create_graph the closure's numbers are exactly right
    assert x.grad == pytest.approx(3 * (1 - t**2))


def test_create_graph_through_a_closure_computing_with_the_operands_values_is_exact():
    x, w = Value(1.5), Value(-2.0)
    y = Value(x.data * w.data, (x, w), "*")

    def _backward():  # micrograd's __mul__ closure, on the operands themselves
        x.grad += w * y.grad
        w.grad += x * y.grad

    y._backward = _backward
    gx, gw = autograd.grad(y * y, [x, w], create_graph=True)  # 2 x w^2, 2 x^2 w
    assert autograd.grad(gx, [x, w]) == pytest.approx((2 * 4.0, 4 * 1.5 * -2.0))
    assert autograd.grad(gw, [x, w]) == pytest.approx((4 * 1.5 * -2.0, 2 * 1.5**2))


def test_a_micrograd_style_op_can_be_made_under_no_grad():
    # an evaluation loop under no_grad calls the student's tanh: its result is a leaf, and the
    # closure it sets has nothing to pass a gradient to
    x = Value(0.5)
    with autograd.no_grad():
        y = lecture_style("tanh", x, math.tanh(0.5), 1 - math.tanh(0.5) ** 2)
    assert y.is_leaf and y.data == math.tanh(0.5)
    y.backward()
    assert x.grad == 0.0


def test_gradcheck_checks_a_micrograd_style_op():
    # gradcheck runs fn under no_grad for its finite differences: the op must work there
    def tanh(x, sign=-1):
        t = math.tanh(x.data)
        return lecture_style("tanh", x, t, 1 + sign * t**2)

    assert autograd.gradcheck(tanh, [0.5])
    with pytest.raises(autograd.GradcheckError):
        autograd.gradcheck(lambda x: tanh(x, sign=1), [0.5])  # a wrong closure is caught


def test_a_failing_hand_set_backward_changes_no_grad():
    x, w = Value(1.0), Value(2.0)
    y = x * w
    z = y * 3.0
    x.grad, w.grad = 0.5, None

    def _backward():
        x.grad += w.data * y.grad
        raise RuntimeError("half done")

    y._backward = _backward
    before = [(node, node.grad) for node in topological_order(z)]
    with pytest.raises(RuntimeError, match="half done"):
        z.backward()
    assert all(node.grad is old for node, old in before)


def test_backward_must_be_a_function_and_a_leaf_has_none_to_set():
    y = Value(1.0) * 2.0
    with pytest.raises(TypeError, match="_backward must be a function"):
        y._backward = 3.0
    with pytest.raises(ValueError, match="a leaf has no parents"):
        Value(1.0)._backward = lambda: None


def test_built_in_nodes_hold_no_closure():
    y = Value(1.0) * 2.0
    assert "_backward" not in Value.__slots__ and not hasattr(y, "__dict__")
    assert y._backward is not y._backward  # made when asked for, not stored


def test_the_lectures_tanh_added_by_hand_backpropagates(monkeypatch):
    # The lecture extends Value by hand, exactly so (Value(t, (self,), 'tanh') and a closure).
    def tanh(self):
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    monkeypatch.setattr(Value, "tanh", tanh)
    v = lecture_neuron()
    v["o"].backward()
    assert v["o"].op == "tanh" and v["o"].data == pytest.approx(0.7071, abs=1e-4)
    assert v["n"].grad == pytest.approx(0.5)
    assert (v["x1"].grad, v["w1"].grad, v["x2"].grad, v["w2"].grad) == pytest.approx(
        (-1.5, 1.0, 0.5, 0.0)
    )
    for node in topological_order(v["o"]):  # and node by node, by hand
        node.grad = 0.0
    v["o"].grad = 1.0
    for node in reversed(topological_order(v["o"])):
        node._backward()
    assert (v["x1"].grad, v["w1"].grad) == pytest.approx((-1.5, 1.0))
