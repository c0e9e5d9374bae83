"""The engine's switches, per thread: gradient recording (``no_grad``), ``detect_anomaly`` and
whether ``trace`` is recording.

The three switches live on ``state``, a ``threading.local``: a thread inside ``no_grad()`` does
not stop another from recording, and a new thread starts with the defaults (the class
attributes), as in PyTorch.  The context managers restore the previous setting on exit, so they
nest, and they also work as function decorators.

One fact is shared between threads, on purpose: ``hot.checks``, true while any thread has a
switch off its default.  Every op reads it (see ``value._compute``); only then does it read the
slower thread-local switches.  A thread that ends inside a mode (an unclosed ``no_grad()``)
leaves ``hot.checks`` on: the other threads stay correct but take the checked path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Hot:
    """The flag every op reads: does any thread have a switch off its default?"""

    __slots__ = ("checks",)

    def __init__(self) -> None:
        self.checks = False


# Why two objects: reading an attribute of a threading.local costs ~30 ns more than a plain
# object's (45 vs 15 ns in a timeit loop, Python 3.11), about 11% of `x*y` (270 ns).  So ops read
# the shared plain flag and only go to the thread-local switches when some thread set one.
# Against the old process-wide switches (callgrind instructions, PYTHONHASHSEED=0, with the
# overflow check of value.py included): micrograd's demo step 615M -> 612M, wide graph 24.8k ->
# 24.9k per leaf, deep chain 8.50k -> 8.44k per two ops; timeit of x*y, medians of 21
# alternating rounds: 272 -> 245 ns.
hot = _Hot()
_lock = threading.Lock()  # guards _counted_threads and hot.checks
_counted_threads = 0  # threads with a switch off its default


class _Modes(threading.local):
    """This thread's switches.  The class attributes are the defaults every thread starts with."""

    grad_enabled: bool = True  # record parents on new Values
    anomaly: bool = False  # raise on the first NaN or infinity in forward or backward
    tracing: bool = False  # autograd.trace is recording: data-dependent control flow is an error
    # The three above as one tuple, read once per op in a mode: under no_grad a wide graph's
    # forward took 23.3k instructions per leaf with three thread-local reads, 19.5k with this
    # one (main, with plain process-wide attributes: 19.9k; callgrind, PYTHONHASHSEED=0).
    now: tuple[bool, bool, bool] = (True, False, False)
    counted: bool = False  # this thread is counted in _counted_threads

    def __setattr__(self, name: str, value: bool) -> None:
        super().__setattr__(name, value)
        now = (self.grad_enabled, self.anomaly, self.tracing)
        super().__setattr__("now", now)
        off = now != (True, False, False)
        if off != self.counted:
            global _counted_threads
            with _lock:
                _counted_threads += 1 if off else -1
                hot.checks = _counted_threads > 0
            super().__setattr__("counted", off)


state = _Modes()


class _Running(threading.local):
    """Set while this thread's backward(create_graph=True) runs the derivative rules on Values:
    ``float()`` of a Value there (``math.cos(a)`` calls it) would make a gradient that cannot be
    differentiated again, so ``Value.__float__`` raises.  A plain attribute, not one of
    ``state``'s switches: backward sets and clears it in one instruction each, and clears it
    again on every failure (``_restore``), so an interrupt cannot leave it set."""

    rules_on_values: bool = False


running = _Running()


@contextmanager
def no_grad() -> Iterator[None]:
    """Values made inside record no parents: they are leaves, as under torch.no_grad()."""
    previous = state.grad_enabled
    try:
        state.grad_enabled = False
        yield
    finally:
        state.grad_enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Turn recording back on inside a ``no_grad`` block."""
    previous = state.grad_enabled
    try:
        state.grad_enabled = True
        yield
    finally:
        state.grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether new Values record the op and parents that made them (in this thread)."""
    return state.grad_enabled


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise FloatingPointError at the first NaN or infinity made in forward or backward.

    The error names the op, its operands and their labels, so the place where a loss turned
    into NaN is found at once instead of after a hundred steps.
    """
    previous = state.anomaly
    try:
        state.anomaly = True
        yield
    finally:
        state.anomaly = previous
