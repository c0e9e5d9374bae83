"""Trace a scalar graph once, replay it over a whole batch with numpy.

The graph ``fn`` builds for one sample has the same shape for every sample, so ``trace``
records it once from placeholder inputs and compiles it into a ``Tape``.  Replaying the tape
on a batch gives every node a row of numbers (one per sample) instead of one float, and runs
the primitives' own forwards and derivative rules (``primitives.py``) on numpy arrays.

Read bottom-up: ``groups.py`` (the kinds of group: one numpy call per group, forward and
backward), ``dense.py`` and ``softmax.py`` (patterns that run as one group: a dense layer with
its activation, a log-softmax), ``entries.py`` (groups before they have rows),
``schedule.py`` (compiling: fused sums, levels, rows),
``replay.py`` (``Tape``: the arrays, a batch forward and backward), ``tracing.py``
(``trace``: recording ``fn``, and what cannot be traced).
"""

from ..value import TracingError
from .replay import Tape
from .tracing import trace

__all__ = ["Tape", "TracingError", "trace"]
