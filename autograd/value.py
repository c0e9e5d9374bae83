"""``Value``: one real number that remembers the op and parents that produced it.

A Value holds ``data`` (a float), ``grad`` (d root / d self after ``backward()``), ``parents``
(an ordered tuple, so pictures are deterministic), ``op`` (the producing op's name, "" for a
leaf) and ``label``.  It has ``__slots__`` and no per-node closure: the local-derivative rules
live in the primitive table (``primitives.py``) and the chain rule in ``backward.py``, so a graph
has no reference cycles and is freed as soon as it is unreachable.

Numbers mixed into an expression (the 2 in ``2 * x``) become ``Constant`` leaves.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

import numpy as np

from . import primitives as P
from .mode import state

if TYPE_CHECKING:
    from .primitives import Primitive

# Scalars a Value accepts; numbers.Real covers int, float, bool, Fraction and numpy's reals.
_REAL_TYPES = (numbers.Real, np.bool_)


def as_float(x) -> float:
    """The float inside a real number (or a one-element numpy array); TypeError for anything else."""
    if isinstance(x, _REAL_TYPES):
        return float(x)
    if isinstance(x, np.ndarray) and x.size == 1 and x.dtype.kind in "biuf":
        return float(x.item())
    if isinstance(x, Value):
        raise TypeError("Value(...) got a Value; pass its .data to copy the number")
    if isinstance(x, np.ndarray):
        shape = "x".join(map(str, x.shape)) or "0-d"
        raise TypeError(
            f"Value wraps one real number, got a numpy array of shape {shape} and dtype {x.dtype}"
        )
    raise TypeError(
        f"Value wraps one real number (int, float, bool or a numpy scalar), "
        f"got {type(x).__name__}: {_short_repr(x)}"
    )


def _short_repr(x, limit: int = 40) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _operand(x) -> Value:
    """An operand of an arithmetic operator: Values pass through, real numbers become Constants."""
    if isinstance(x, Value):
        return x
    if isinstance(x, _REAL_TYPES):
        return Constant(x)
    return NotImplemented


class Value:
    """One real number in a computation graph, with the gradient backward() leaves in it."""

    __slots__ = ("data", "grad", "parents", "_prim", "label")
    # Let `np.float64(2) * x` reach Value.__rmul__ instead of numpy building an object array.
    __array_ufunc__ = None

    def __init__(self, data, label: str = "") -> None:
        self.data = data if type(data) is float else as_float(data)
        self.grad = 0.0
        self.parents: tuple[Value, ...] = ()
        self._prim: Primitive | None = None
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.label = label

    # ---- reading the graph ----------------------------------------------------------------

    @property
    def op(self) -> str:
        """Name of the op that produced this Value ("" for a leaf)."""
        return self._prim.name if self._prim is not None else ""

    @property
    def primitive(self) -> Primitive | None:
        """The primitive-table entry that produced this Value (None for a leaf)."""
        return self._prim

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters and constants: Values no op produced."""
        return self._prim is None

    # micrograd's names for the same fields, so code written for micrograd (e.g. its draw_dot)
    # runs unchanged.
    @property
    def _prev(self) -> set[Value]:
        return set(self.parents)

    @property
    def _op(self) -> str:
        return self._prim.symbol if self._prim is not None else ""

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"{type(self).__name__}(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    def _repr_svg_(self) -> str | None:
        """Jupyter shows a Value as the picture of its graph (None: fall back to repr)."""
        from .viz.jupyter import repr_svg  # only notebooks pay for the drawing code

        return repr_svg(self)

    # ---- gradients ---------------------------------------------------------------------------

    def backward(self, grad=1.0, create_graph: bool = False) -> None:
        """Backpropagate from this Value: add d(self)/d(node) * grad to every node's ``.grad``.

        Gradients accumulate across calls, as in micrograd and PyTorch: call ``zero_grad()``
        (or set ``.grad = 0.0``) between steps.  With ``create_graph=True`` every ``.grad`` is a
        Value, so gradients can themselves be differentiated (second, third derivatives).
        The topological sort uses an explicit stack, so a chain of a million ops is fine.
        """
        from .backward import backward

        backward(self, grad, create_graph=create_graph)

    # ---- arithmetic ------------------------------------------------------------------------

    def __add__(self, other):
        return _binary(P.ADD, self, other)

    def __radd__(self, other):
        return _binary(P.ADD, other, self)

    def __sub__(self, other):
        return _binary(P.SUB, self, other)

    def __rsub__(self, other):
        return _binary(P.SUB, other, self)

    def __mul__(self, other):
        return _binary(P.MUL, self, other)

    def __rmul__(self, other):
        return _binary(P.MUL, other, self)

    def __truediv__(self, other):
        return _binary(P.DIV, self, other)

    def __rtruediv__(self, other):
        return _binary(P.DIV, other, self)

    def __pow__(self, exponent):
        # A number (or Constant) exponent is micrograd's x**n; a Value exponent is differentiated.
        if isinstance(exponent, Value) and not isinstance(exponent, Constant):
            return _binary(P.VALUE_POW, self, exponent)
        return _binary(P.POW, self, exponent)

    def __rpow__(self, base):
        return _binary(P.VALUE_POW, base, self)

    def __neg__(self) -> Value:
        return apply(P.NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return apply(P.ABS, self)

    # Comparisons look at .data only (they are not differentiable), so sorted(), max() and
    # `if loss < best:` work.  Equality keeps identity semantics: Values are dict keys.
    def __lt__(self, other) -> bool:
        return self.data < _number(other)

    def __le__(self, other) -> bool:
        return self.data <= _number(other)

    def __gt__(self, other) -> bool:
        return self.data > _number(other)

    def __ge__(self, other) -> bool:
        return self.data >= _number(other)

    __hash__ = object.__hash__

    # ---- functions -------------------------------------------------------------------------

    def exp(self) -> Value:
        """e ** self."""
        return apply(P.EXP, self)

    def log(self) -> Value:
        """Natural logarithm; ValueError for a non-positive operand."""
        return apply(P.LOG, self)

    def sqrt(self) -> Value:
        """Square root; ValueError for a negative operand."""
        return apply(P.SQRT, self)

    def sin(self) -> Value:
        """Sine (radians)."""
        return apply(P.SIN, self)

    def cos(self) -> Value:
        """Cosine (radians)."""
        return apply(P.COS, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return apply(P.TANH, self)

    def sigmoid(self) -> Value:
        """Logistic function 1 / (1 + e^-x), computed without overflow."""
        return apply(P.SIGMOID, self)

    def relu(self) -> Value:
        """max(0, x); the derivative at 0 is taken as 0, as in micrograd and PyTorch."""
        return apply(P.RELU, self)

    def leaky_relu(self, alpha: float = 0.01) -> Value:
        """x for x > 0, alpha * x otherwise."""
        return _binary(P.LEAKY_RELU, self, alpha)

    def step(self) -> Value:
        """The perceptron's threshold: 1 for x >= 0, else 0; its derivative is 0 everywhere."""
        return apply(P.STEP, self)


class Constant(Value):
    """A number mixed into an expression (the 2 in ``2 * x``): a leaf no one trains.

    Constants reach the derivative rules as plain numbers, so they are never differentiated.
    """

    __slots__ = ()


def _number(x) -> float:
    return x.data if isinstance(x, Value) else as_float(x)


# ---- recording ops -----------------------------------------------------------------------------

_new_value = object.__new__


def _record(prim: Primitive, data: float, operands: tuple) -> Value:
    """A new Value holding `data`, remembering prim and operands unless under no_grad."""
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if state.grad_enabled:
        out.parents = operands
        out._prim = prim
    else:
        out.parents = ()
        out._prim = None
    return out


def apply(prim: Primitive, *operands: Value) -> Value:
    """Run prim's forward on the operands' data and record the result in the graph."""
    try:
        data = prim.forward(*[v.data for v in operands])
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _forward_error(prim, operands, exc) from None
    if state.anomaly and not math.isfinite(data):
        raise FloatingPointError(
            f"detect_anomaly: {describe_call(prim, operands)} produced {data} in forward"
        )
    return _record(prim, data, operands)


def _binary(prim: Primitive, a, b):
    """Apply a two-operand primitive; numbers become Constants, other types are refused."""
    a = _operand(a)
    b = _operand(b)
    if a is NotImplemented or b is NotImplemented:
        return NotImplemented  # Python then raises "unsupported operand type(s) ..."
    return apply(prim, a, b)


# ---- error messages ------------------------------------------------------------------------

_MATH_MESSAGES = {"math domain error": "outside the domain", "math range error": "the result overflows a float"}


def describe_operand(v: Value) -> str:
    """`x=-2.0` for a labelled Value, `-2.0` otherwise."""
    return f"{v.label}={v.data!r}" if v.label else repr(v.data)


def describe_call(prim: Primitive, operands) -> str:
    """`log(x=-2.0)`: the op with its operands, for error messages."""
    return f"{prim.name}({', '.join(describe_operand(v) for v in operands)})"


def _forward_error(prim: Primitive, operands, exc: Exception) -> Exception:
    reason = _MATH_MESSAGES.get(str(exc), str(exc))
    return type(exc)(f"{describe_call(prim, operands)}: {reason}")
