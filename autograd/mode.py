"""Global switches of the engine: gradient recording (``no_grad``), ``detect_anomaly`` and
whether ``trace`` is recording.

Both are plain attributes of one module-level object, read on every op, so checking them
costs an attribute lookup.  The context managers restore the previous setting on exit, so they
nest, and (as in PyTorch) they also work as function decorators.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class _Mode:
    grad_enabled: bool = True  # record parents on new Values
    anomaly: bool = False  # raise on the first NaN or infinity in forward or backward
    tracing: bool = False  # autograd.trace is recording: data-dependent control flow is an error
    checks: bool = False  # derived: any of the above is not at its default (ops then take
    # the general path)

    def __setattr__(self, name: str, value: bool) -> None:
        object.__setattr__(self, name, value)
        object.__setattr__(self, "checks", not self.grad_enabled or self.anomaly or self.tracing)


state = _Mode()


@contextmanager
def no_grad() -> Iterator[None]:
    """Values made inside record no parents: they are leaves, as under torch.no_grad()."""
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Turn recording back on inside a ``no_grad`` block."""
    previous = state.grad_enabled
    state.grad_enabled = True
    try:
        yield
    finally:
        state.grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether new Values record the op and parents that made them."""
    return state.grad_enabled


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise FloatingPointError at the first NaN or infinity made in forward or backward.

    The error names the op, its operands and their labels, so the place where a loss turned
    into NaN is found at once instead of after a hundred steps.
    """
    previous = state.anomaly
    state.anomaly = True
    try:
        yield
    finally:
        state.anomaly = previous
