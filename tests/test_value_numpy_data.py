"""A Value whose .data was set to a numpy scalar still differentiates through every rule."""

import numpy as np
import pytest

from autograd import Value


@pytest.mark.parametrize("scalar", [np.float32(-1.5), np.float64(-1.5), np.int64(-2)])
def test_rules_accept_numpy_scalars_in_data(scalar):
    x = Value(2.0)
    x.data = scalar
    y = x.relu() + abs(x) + x.leaky_relu(0.1) + x.sin() + x.step()
    y.backward()
    expected = 0.0 - 1.0 + 0.1 + float(np.cos(float(scalar)))
    assert x.grad == pytest.approx(expected, rel=1e-6)
