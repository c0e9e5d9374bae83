"""relaxed_gc raises the cyclic collector's thresholds for a block and always restores them."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import autograd
import nn
from autograd import Value, relaxed_gc


@pytest.fixture(autouse=True)
def _known_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_thresholds_are_raised_inside_and_restored_after():
    with relaxed_gc():
        assert gc.get_threshold() == autograd.collector.RELAXED_THRESHOLDS
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_thresholds_come_back_on_an_exception_or_ctrl_c(error):
    with pytest.raises(error), relaxed_gc():
        raise error()
    assert gc.get_threshold() == (700, 10, 10)


def test_blocks_nest():
    with relaxed_gc((5000, 10, 10)):
        with relaxed_gc():
            assert gc.get_threshold()[0] == 100_000
        assert gc.get_threshold() == (5000, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_bad_thresholds_are_refused_before_anything_changes():
    with pytest.raises(ValueError, match="three non-negative ints"):
        with relaxed_gc((100, -1, 10)):
            pass
    assert gc.get_threshold() == (700, 10, 10)


def test_fit_trains_with_relaxed_thresholds_and_restores_them():
    seen = []
    X, y = nn.data.moons(20, seed=0)
    nn.fit(
        nn.MLP(2, [4, 1], seed=0),
        X,
        y,
        epochs=2,
        progress=False,
        callback=lambda h: seen.append(gc.get_threshold()),
    )
    assert seen == [autograd.collector.RELAXED_THRESHOLDS] * 2
    assert gc.get_threshold() == (700, 10, 10)


def test_fit_restores_the_thresholds_when_training_fails():
    X, y = nn.data.noisy_line(20, seed=0)
    with pytest.raises(nn.DivergenceError):
        nn.fit(nn.MLP(1, [1], seed=0), np.asarray(X) * 1e200, y, epochs=5, progress=False)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_graph_is_freed_by_reference_counting_alone():
    # why relaxing the collector is safe: Values make no cycles, so nothing waits for it
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        xs = [Value(float(i)) for i in range(2000)]
        loss = sum((x * x).tanh() for x in xs)
        loss.backward()
        grown = tracemalloc.get_traced_memory()[0] - base
        del xs, loss
        left = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
    finally:
        gc.enable()
    assert grown > 100_000 and left < grown / 50
