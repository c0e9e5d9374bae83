"""Grad mode, anomaly mode and tracing are per thread, as in PyTorch.

Each test runs real threads and forces one interleaving with barriers (no sleeps): one thread
holds a mode open at a barrier while the other works, so the outcome does not depend on timing.
"""

from __future__ import annotations

import math
import threading

import pytest

import autograd
from autograd import Value

TIMEOUT = 30  # seconds a barrier waits before the test fails instead of hanging


def run_threads(*bodies) -> list:
    """Run each body in its own thread; return their results, re-raising the first error."""
    results: list = [None] * len(bodies)
    errors: list = []

    def wrap(i, body):
        try:
            results[i] = body()
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(i, b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def test_no_grad_in_one_thread_does_not_stop_another_recording():
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def inside_no_grad():
        with autograd.no_grad():
            barrier.wait()  # 1: the other thread now computes while this one is in no_grad
            barrier.wait()  # 2: it is done
            return autograd.is_grad_enabled()

    def recording():
        barrier.wait()
        x, w = Value(2.0), Value(3.0)
        y = x * w + x
        y.backward()
        barrier.wait()
        return autograd.is_grad_enabled(), x.grad, w.grad

    grad_enabled_inside, other = run_threads(inside_no_grad, recording)
    assert grad_enabled_inside is False
    assert other == (True, 4.0, 2.0)


def test_threads_leaving_no_grad_out_of_order_leave_recording_on():
    # A enters, B enters, A leaves, B leaves: with one process-wide switch, B restores the
    # "off" it saw on entry and recording stays off for everyone.
    a_entered, b_entered, a_left = (threading.Event() for _ in range(3))

    def thread_a():
        with autograd.no_grad():
            a_entered.set()
            assert b_entered.wait(TIMEOUT)
        a_left.set()
        return autograd.is_grad_enabled()

    def thread_b():
        assert a_entered.wait(TIMEOUT)
        with autograd.no_grad():
            b_entered.set()
            assert a_left.wait(TIMEOUT)
        return autograd.is_grad_enabled(), (Value(1.0) * 2).op

    assert run_threads(thread_a, thread_b) == [True, (True, "mul")]
    assert autograd.is_grad_enabled()
    assert (Value(1.0) + 1).op == "add"
    assert not autograd.mode.hot.checks  # no thread has a mode on: ops take the fast path again


def test_detect_anomaly_in_one_thread_does_not_raise_in_another():
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def with_anomaly():
        with autograd.detect_anomaly():
            barrier.wait()
            barrier.wait()
            with pytest.raises(FloatingPointError):
                Value(math.inf) * 0.0  # this thread still checks

    def without():
        barrier.wait()
        nan = Value(math.inf) * 0.0
        barrier.wait()
        return nan.data

    _, data = run_threads(with_anomaly, without)
    assert math.isnan(data)


def test_a_trace_in_one_thread_does_not_refuse_comparisons_in_another():
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    calls = []

    def fn(x):
        calls.append(1)
        if len(calls) == 1:  # trace records fn twice; hold the first recording open
            barrier.wait()
            barrier.wait()
        return x * 2

    def tracing():
        return autograd.trace(fn, 1)([[3.0]])

    def comparing():
        barrier.wait()
        try:
            return Value(1.0) < Value(2.0), max(Value(1.0), Value(5.0)).data
        finally:
            barrier.wait()

    forward, compared = run_threads(tracing, comparing)
    assert compared == (True, 5.0)
    assert forward.tolist() == [6.0]


def test_a_new_thread_starts_with_the_default_modes():
    with autograd.no_grad(), autograd.detect_anomaly():
        (modes,) = run_threads(
            lambda: (
                autograd.is_grad_enabled(),
                (Value(1.0) * 2).op,
                math.isnan((Value(math.inf) * 0.0).data),
            )
        )
        assert (Value(1.0) * 2).op == ""  # still off here
    assert modes == (True, "mul", True)
