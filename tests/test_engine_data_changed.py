"""``.data`` changed between forward and backward: named under ``detect_anomaly``.

Gradients use the numbers as they are when backward() runs; a number changed after the forward
used it would be differentiated at a point the forward never computed.  The rule (update
parameters after backward, as every optimizer here does) must keep working.
"""

from __future__ import annotations

import math

import pytest

import autograd
import nn
from autograd import Value, topological_order


def test_an_operand_changed_after_forward_is_named_under_detect_anomaly():
    # issue 12's reproducer: y = x*x; x.data = 3.; y.backward() silently gave 6.0
    with autograd.detect_anomaly():
        x = Value(2.0, label="x")
        y = x * x
        x.data = 3.0
        with pytest.raises(
            RuntimeError, match=r"\.data of the Value 'x' was changed from 2\.0 to 3\.0"
        ):
            y.backward()
    assert (x.grad, y.grad) == (0.0, 0.0)  # nothing half-changed


def test_an_output_changed_after_forward_is_named_under_detect_anomaly():
    with autograd.detect_anomaly():
        x = Value(0.5)
        y = x.tanh()  # tanh's rule reads its output
        z = y * 2.0
        y.data = 0.9
        with pytest.raises(RuntimeError, match=r"the output of tanh was changed from 0\.46"):
            z.backward()
    assert all(node.grad == 0.0 for node in topological_order(z))


def test_an_unlabelled_value_is_named_by_its_repr():
    with autograd.detect_anomaly():
        x = Value(2.0)
        y = x * 4.0
        x.data = -1.0
        with pytest.raises(
            RuntimeError, match=r"the .data of a leaf was changed from 2\.0 to -1\.0"
        ):
            y.backward()


def test_the_same_number_written_back_is_not_a_change():
    with autograd.detect_anomaly():
        x = Value(2.0)
        y = x * x
        x.data = 3.0
        x.data = 2.0
        y.backward()
    assert x.grad == 4.0


def test_values_made_under_detect_anomaly_look_like_any_value():
    with autograd.detect_anomaly():
        y = Value(2.0) * 3.0
    assert repr(y) == "Value(data=6.0, grad=0.0)" and isinstance(y, Value)


def test_training_under_detect_anomaly_updates_after_backward_without_complaint():
    model = nn.MLP(2, [4, 1])
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    xs, ys = [[0.5, -1.0], [1.5, 0.25]], [1.0, -1.0]
    with autograd.detect_anomaly():
        for _ in range(3):
            loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys, strict=True))
            model.zero_grad()
            loss.backward()
            optimizer.step()  # writes every parameter's .data: after backward, as it should
    assert math.isfinite(loss.data)


def test_an_optimizer_step_between_forward_and_backward_is_named():
    w, b = Value(0.5, label="w"), Value(-0.25, label="b")
    optimizer = nn.SGD([w, b], lr=0.1)
    with autograd.detect_anomaly():
        loss = (w * 2.0 + b) ** 2
        loss.backward()
        optimizer.step()
        with pytest.raises(RuntimeError, match="'b' was changed from -0.25 to -0.4"):
            loss.backward()  # the old graph, at the new parameters
