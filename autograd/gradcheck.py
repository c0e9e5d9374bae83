"""``gradcheck``: compare backward's gradients with central finite differences.

    numeric_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

The central difference is accurate to O(eps^2); an input passes when
|analytic - numeric| <= atol + rtol * |numeric|, the test ``numpy.isclose`` uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .backward import grad
from .mode import enable_grad, no_grad
from .value import Value, as_float


class GradcheckError(RuntimeError):
    """Raised by gradcheck when an analytic gradient disagrees with the numeric one."""


def gradcheck(
    fn: Callable[..., Value],
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    raise_exception: bool = True,
) -> bool:
    """True if fn(*inputs)'s gradients match central differences; else raise with a table.

    ``inputs`` are numbers or Values (only their ``.data`` is read; they are not changed).
    ``fn`` takes one Value per input and returns a Value.
    """
    if isinstance(inputs, Value) or np.ndim(inputs) == 0:  # one number
        inputs = [inputs]
    labels = [x.label if isinstance(x, Value) else "" for x in inputs]
    point = [x.data if isinstance(x, Value) else as_float(x) for x in inputs]

    def f(values: list[float]) -> Value:
        out = fn(*[Value(v, label=label) for v, label in zip(values, labels, strict=True)])
        if not isinstance(out, Value):
            raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
        return out

    leaves = [Value(v, label=label) for v, label in zip(point, labels, strict=True)]
    with enable_grad():  # also inside no_grad: without a graph every gradient would be 0
        out = fn(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    analytic = [0.0 if g is None else g for g in grad(out, leaves, allow_unused=True)]

    numeric = []
    with no_grad():
        for i in range(len(point)):
            plus, minus = list(point), list(point)
            plus[i] += eps
            minus[i] -= eps
            numeric.append((f(plus).data - f(minus).data) / (2 * eps))

    ok = [abs(a - n) <= atol + rtol * abs(n) for a, n in zip(analytic, numeric, strict=True)]
    if all(ok):
        return True
    if not raise_exception:
        return False
    raise GradcheckError(_table(point, labels, analytic, numeric, ok, eps, atol, rtol))


def _table(point, labels, analytic, numeric, ok, eps, atol, rtol) -> str:
    bad = ok.count(False)
    lines = [
        f"gradcheck failed: {bad} of {len(ok)} inputs disagree "
        f"(eps={eps:g}, atol={atol:g}, rtol={rtol:g})",
        f"  {'input':<12} {'value':>14} {'analytic':>16} {'numeric':>16} {'abs error':>11}  ok",
    ]
    for i, (x, label, a, n, good) in enumerate(
        zip(point, labels, analytic, numeric, ok, strict=True)
    ):
        name = f"{i} ({label})" if label else str(i)
        lines.append(
            f"  {name:<12} {x:>14.6g} {a:>16.9g} {n:>16.9g} {abs(a - n):>11.3g}  "
            f"{'yes' if good else 'NO'}"
        )
    return "\n".join(lines)
