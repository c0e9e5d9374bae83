"""Parameters as flat numpy vectors: their numbers read into one array, and written back whole.

Training on arrays (``Tape``, an optimizer's array step) keeps a list of parameter Values
beside two vectors in the same order, ``data`` and ``grad``.  ``read_data``/``read_grads``
fill the vectors from the Values; ``write`` puts vectors back into every Value's ``.data``
and ``.grad``; ``zero_grads`` sets every ``.grad`` to 0; ``set_grads`` sets given ``.grad``s
(backward() putting back what an interrupted pass wrote); ``together`` makes several such
writes as one (an optimizer's numbers and its own state).

``write``, ``zero_grads`` and ``set_grads`` are all or nothing, also under Ctrl-C: each is one
C-level call (``deque`` consuming a ``map`` of the builtin ``setattr``, or of the slot's own
setter, over slot attributes) that runs no Python bytecode, and Python delivers a
KeyboardInterrupt only between bytecodes.  So a user who interrupts training finds every
parameter from the same step, never half the model updated (and never half its gradients
zeroed).  The price: it takes about twice as long as a Python loop of assignments (337 Values,
data and grad: 15 -> 32 us, timeit), so training writes only where user code can look (see
``nn.fit``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import chain, repeat, starmap
from operator import attrgetter, methodcaller

import numpy as np

from .value import ZERO, Value

_data = attrgetter("data")
_grad = attrgetter("grad")
_call = methodcaller("__call__")  # _call(f) is f(), in C
_set_grad = Value.grad.__set__  # the .grad slot's own setter: _set_grad(v, g) is v.grad = g, in C


def read_data(values: Sequence[Value], out: np.ndarray | None = None) -> np.ndarray:
    """Every Value's ``.data`` as a float array (written into ``out`` if given)."""
    return _read(values, _data, "data", out)


def read_grads(values: Sequence[Value], out: np.ndarray | None = None) -> np.ndarray:
    """Every Value's ``.grad`` as a float array; a ``.grad`` of None counts as 0, as in backward."""
    return _read(values, _grad, "grad", out)


def write(values: Sequence[Value], data: np.ndarray | None = None, grad=None) -> None:
    """Set ``.data`` (and/or ``.grad``) of every Value from the arrays, in one uninterruptible
    step: either every Value gets its new numbers or, if the arrays do not fit, none does."""
    writing(values, data, grad)()


def writing(
    values: Sequence[Value], data: np.ndarray | None = None, grad=None
) -> Callable[[], object]:
    """``write``'s writes, checked now and made when the result is called: one C-level call,
    which ``together`` can make beside other changes (an optimizer's state)."""
    n = len(values)
    names, numbers = [], []
    for name, array in (("data", data), ("grad", grad)):
        if array is None:
            continue
        array = np.asarray(array, dtype=float)
        if array.shape != (n,):
            raise ValueError(f"{name} has shape {array.shape}; expected ({n},), one per Value")
        names.append(repeat(name, n))
        numbers.append(array.tolist())  # Python floats, as the eager engine keeps them
    # One C call, no bytecode inside: a KeyboardInterrupt lands before or after it, not within.
    setting = map(setattr, chain(*[values] * len(names)), chain(*names), chain(*numbers))
    return partial(deque, setting, 0)


def together(*calls: Callable[[], object]) -> None:
    """Make the calls, in order, in one C-level call: a Ctrl-C lands before all of them or
    after all of them.  Each must itself run no bytecode: ``writing``'s result, a bound method
    of an array or dict, a ``functools.partial`` of one."""
    deque(map(_call, calls), maxlen=0)


def zero_grads(values: Sequence[Value]) -> None:
    """Set every Value's ``.grad`` to 0.0 in one uninterruptible step (as ``write``): a Ctrl-C
    never leaves half the gradients zeroed.  The 0.0 is the engine's shared ``ZERO``, which
    backward() knows needs no saving and adding back."""
    deque(map(setattr, values, repeat("grad"), repeat(ZERO)), maxlen=0)


def set_grads(pairs: Iterable[tuple[Value, object]]) -> None:
    """Set ``value.grad = grad`` for every (value, grad) pair, in order, in one uninterruptible
    step (as ``write``); the pairs should come from C-level iterators (lists, zip, chain), so
    that no bytecode runs inside either."""
    deque(starmap(_set_grad, pairs), maxlen=0)


def _read(values, getter, name: str, out: np.ndarray | None) -> np.ndarray:
    try:
        array = np.fromiter(map(getter, values), dtype=float, count=len(values))
        retry = np.isnan(array).any()  # a real NaN, or a None that numpy read as NaN
    except (TypeError, ValueError):
        retry = True
    if retry:
        array = np.array([_number(v, name, i) for i, v in enumerate(values)], dtype=float)
    if out is None:
        return array
    out[...] = array
    return out


def _number(value: Value, name: str, i: int) -> float:
    """The float in value.<name>, 0 for a gradient of None; a named TypeError for anything else."""
    if not isinstance(value, Value):
        raise TypeError(f"parameter {i} is a {type(value).__name__}, not a Value")
    number = getattr(value, name)
    if number is None and name == "grad":
        return 0.0
    try:
        return float(number)
    except (TypeError, ValueError):
        raise TypeError(
            f"parameter {i} has .{name} = {number!r}, not a number "
            f"(expected a float{', or None before any backward' if name == 'grad' else ''})"
        ) from None
