"""micrograd compatibility: its README example's golden numbers, and micrograd-style code running.

The expressions are copied from micrograd's README and tests (``test_sanity_check``,
``test_more_ops``) with only the import changed.  When micrograd itself is installed it is run
on the same code as an extra oracle.
"""

from __future__ import annotations

import math
import random

import pytest

import autograd
from autograd import Value


def readme_example(Value):
    """micrograd's README example, verbatim; returns (a, b, g)."""
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return a, b, g


def sanity_check(Value):
    """micrograd's test_sanity_check; returns (x, y)."""
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    return x, y


def test_readme_example_golden_numbers():
    a, b, g = readme_example(Value)
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_readme_example_exact_values():
    # by hand: c = -1, d = 6, e = c - d = -7, f = e**2 = 49, g = f/2 + 10/f
    a, b, g = readme_example(Value)
    g.backward()
    f = 49.0
    assert g.data == pytest.approx(f / 2 + 10 / f, rel=1e-14)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-12)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-12)


def test_sanity_check_from_micrograd_tests():
    x, y = sanity_check(Value)
    y.backward()
    # y = (3x+2)^2 + (3x+2) x + (3x+2) x^2 at x = -4 (z < 0, so relu(z) = 0)
    assert y.data == -20.0
    assert x.grad == 46.0


@pytest.mark.parametrize("example", [readme_example, sanity_check])
def test_same_numbers_as_micrograd_itself(example):
    engine = pytest.importorskip("micrograd.engine")
    ours, theirs = example(Value), example(engine.Value)
    ours[-1].backward()
    theirs[-1].backward()
    for o, t in zip(ours, theirs, strict=True):
        assert o.data == pytest.approx(t.data, rel=1e-12)
        assert o.grad == pytest.approx(t.grad, rel=1e-12)


def test_micrograd_private_fields_describe_the_graph():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c + a
    r = d.relu()
    assert c._prev == {a, b} and c._op == "*"
    assert d._prev == {c, a} and d._op == "+"
    assert r._prev == {d} and r._op == "ReLU"
    assert a._prev == set() and a._op == ""
    assert (a**2)._op == "**2" and (a**0.5)._op == "**0.5"


def trace_like_micrograd(root):
    """micrograd's draw_dot helper (trace), which walks _prev recursively."""
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def test_micrograd_draw_dot_trace_runs():
    x, y = sanity_check(Value)
    nodes, edges = trace_like_micrograd(y)
    assert x in nodes and y in nodes
    assert all(isinstance(n._op, str) for n in nodes)
    assert len(edges) >= len(nodes) - 1


class Neuron:
    """micrograd's nn.Neuron, as a user would write it."""

    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


def test_micrograd_style_training_loop_lowers_the_loss():
    random.seed(1)
    neurons = [Neuron(2), Neuron(2)]
    head = Neuron(2, nonlin=False)
    xs = [[2.0, 3.0], [-1.0, -2.0], [3.0, -1.0], [0.5, 1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    params = [p for n in [*neurons, head] for p in n.parameters()]

    def loss():
        preds = [head([n(x) for n in neurons]) for x in xs]
        return sum((yout - ygt) ** 2 for ygt, yout in zip(ys, preds, strict=True))

    first = loss().data
    for _ in range(30):
        total = loss()
        for p in params:
            p.grad = 0  # micrograd zeroes with an int
        total.backward()
        for p in params:
            p.data += -0.02 * p.grad
    assert loss().data < first


def test_reflected_operators_with_numbers():
    x = Value(3.0)
    assert (2 + x).data == 5.0
    assert (2 - x).data == -1.0
    assert (2 * x).data == 6.0
    assert (6 / x).data == 2.0
    assert (2**x).data == 8.0
    assert (-x).data == -3.0
    for expr, expected_grad in [(2 - x, -1.0), (6 / x, -6 / 9), (2**x, 8.0 * 0.6931471805599453)]:
        x.grad = 0.0
        expr.backward()
        assert x.grad == pytest.approx(expected_grad, rel=1e-12)


def test_in_place_operators_build_new_values():
    x = Value(1.0)
    y = x
    y += 1
    y *= 3
    y -= 2
    y /= 2
    y **= 2
    assert y is not x and x.data == 1.0
    assert y.data == 4.0
    y.backward()
    assert x.grad == pytest.approx(2 * 2.0 * 3 / 2)


# --------------------------------------------------------------------------------------------
# Extending Value the lecture's way: Value(data, _children, _op)
# --------------------------------------------------------------------------------------------


def lecture_tanh(self):
    """The lecture's tanh, written as students write it (the _backward part is not shown)."""
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), "tanh")
    return out


def test_a_value_made_by_hand_records_its_children_and_op():
    x1, w1, b = Value(2.0, label="x1"), Value(-3.0, label="w1"), Value(6.88, label="b")
    n = x1 * w1 + b
    o = lecture_tanh(n)
    assert o.parents == (n,) and o.op == "tanh" and not o.is_leaf
    assert o._prev == {n} and o._op == "tanh"
    assert o.data == pytest.approx(math.tanh(0.88))
    product = Value(x1.data * w1.data, (x1, w1), "*")  # micrograd's __mul__, by hand
    assert product.parents == (x1, w1) and product._op == "*"
    assert autograd.topological_order(o)[-1] is o


def test_micrograds_constructor_takes_children_op_and_label_by_keyword():
    a, b = Value(1.0), Value(2.0)
    c = Value(3.0, _children=(a, b), _op="+", label="c")
    assert c.parents == (a, b) and c.op == "+" and c.label == "c"
    assert Value(1.0, label="x").parents == () and Value(1.0, (), "").is_leaf


def test_a_picture_shows_the_op_made_by_hand():
    pytest.importorskip("graphviz")
    n = Value(0.5, label="n")
    source = autograd.draw(lecture_tanh(n)).source
    assert "tanh" in source


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda x: Value(1.0, "x"), TypeError, "pass a label as label='x'"),
        (lambda x: Value(1.0, (2.0,), "*"), TypeError, r"_children\[0\] must be a Value"),
        (lambda x: Value(1.0, 7, "*"), TypeError, "_children must be a tuple of Values"),
        (lambda x: Value(1.0, (x,), 3), TypeError, "_op must be a str"),
        (lambda x: Value(1.0, (), "exp"), ValueError, "needs _children"),
        (lambda x: Value(3.0, (x, x, x), "sum3"), ValueError, "one or two"),
    ],
)
def test_bad_micrograd_constructor_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make(Value(1.0))


def test_a_value_made_by_hand_under_no_grad_is_a_leaf():
    x = Value(0.5)
    with autograd.no_grad():
        o = lecture_tanh(x)
    assert o.is_leaf and o.parents == () and o.op == ""


def test_a_value_made_by_hand_under_detect_anomaly_is_checked():
    x = Value(1.0, label="x")
    with pytest.raises(FloatingPointError, match=r"mystery\(x=1.0\)"), autograd.detect_anomaly():
        Value(math.nan, (x,), "mystery")


def test_a_value_made_by_hand_while_tracing_is_refused():
    w = Value(0.5)

    def fn(x):
        return x * Value(w.data * 2, (w,), "double")

    with pytest.raises(autograd.TracingError, match="declare the op as a Primitive"):
        autograd.trace(fn, 1)


def test_backward_through_an_op_made_by_hand_without_a_rule_says_so():
    x = Value(0.5)
    o = lecture_tanh(x)
    with pytest.raises(ValueError, match="made by hand.*set out._backward"):
        o.backward()
    assert x.grad == 0.0 and o.grad == 0.0  # nothing half-changed


def test_a_value_takes_no_new_attributes_and_keeps_its_size():
    # micrograd code that sets p.m = 0 gets an AttributeError: a __dict__ per Value would cost
    # 31% more memory per node (see Value's docstring); nothing is half-set.
    p = Value(1.0)
    with pytest.raises(AttributeError, match="'m'"):
        p.m = 0
    assert not hasattr(p, "__dict__") and not hasattr(p, "m")
    assert (p.data, p.grad) == (1.0, 0.0)
