"""The primitive table: every differentiable operation, declared once.

Each entry names the operation, gives its forward on Python floats (and on numpy arrays,
for a traced graph replayed over a batch) and its local-derivative rule: a vector-Jacobian
product that takes the upstream gradient ``g``, the op's output ``out`` and its inputs, and
returns one gradient per input.  The chain-rule sum itself lives once, in ``backward.py``.

Rules are written in plain arithmetic so the same rule runs on

* floats           -- an ordinary ``backward()``;
* ``Value`` objects -- ``backward(create_graph=True)``, so gradients can be differentiated again;
* numpy arrays     -- a traced graph replayed over a whole batch.

The few non-arithmetic helpers a rule needs (``cos``, ``log``, the indicator ``positive``)
dispatch on the type of their argument; see "Helpers that work on any operand" below.
Adding an op is one ``Primitive(...)`` entry here: ``PRIMITIVES`` lists every entry declared
in this file, a one-operand op becomes a ``Value`` method and a ``chainrule draw`` function on
its own, and the test suite finds it too (a two-operand op also needs its operator or method).
From user code, ``autograd.define_primitive`` does the same (``extend.py``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Primitive:
    """One differentiable operation: forward and local derivative declared together."""

    name: str  # the op's name, as in ``Value.op`` ("add", "tanh", ...)
    symbol: str  # short text for pictures ("+", "*", "tanh")
    forward: Callable[..., float]  # on floats
    vjp: Callable[..., tuple]  # (g, out, *inputs) -> one gradient per input
    array_forward: Callable[..., np.ndarray] | None = None  # on numpy arrays; None: same as forward
    # Points where the derivative has a kink or jump; the finite-difference tests keep away.
    kinks: tuple[float, ...] = ()
    doc: str = ""  # one line: the docstring of its Value method, its line in the CLI's help
    arity: int = field(init=False)

    def __post_init__(self) -> None:
        # the arity is read off the rule's signature: (g, out, *inputs)
        object.__setattr__(self, "arity", self.vjp.__code__.co_argcount - 2)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def apply_arrays(self, *inputs):
        """The forward on numpy arrays (a traced graph replayed over a batch)."""
        return (self.array_forward or self.forward)(*inputs)


# --------------------------------------------------------------------------------------------
# Helpers that work on any operand: a float, a Value (create_graph=True) or a numpy array.
# --------------------------------------------------------------------------------------------


# Plain numbers: Python's and numpy's scalars (a Value's .data may have been set to either).
_NUMBERS = (float, int, np.generic)


def _on_any(math_fn: Callable, numpy_fn: Callable, method: str) -> Callable:
    """Build a function that applies math_fn to numbers, numpy_fn to arrays, .method() to Values."""

    def fn(x):
        if isinstance(x, _NUMBERS):
            return math_fn(x)
        if isinstance(x, np.ndarray):
            return numpy_fn(x)
        return getattr(x, method)()

    fn.__name__ = method
    return fn


exp = _on_any(math.exp, np.exp, "exp")
log = _on_any(math.log, np.log, "log")
sin = _on_any(math.sin, np.sin, "sin")
cos = _on_any(math.cos, np.cos, "cos")


def _data_of(x):
    """x itself for a number; a Value's data (where only its sign matters: locally constant)."""
    return x if isinstance(x, _NUMBERS) else x.data


def positive(x):
    """1 where x > 0, else 0.  Locally constant, so on a Value it is a plain number."""
    # An ordinary backward's case, tested first: relu's rule on floats went from 3085 to 1943
    # instructions a call (callgrind, 2026-11-29), ~1% of a demo step
    if type(x) is float:
        return 1.0 if x > 0 else 0.0
    if isinstance(x, np.ndarray):
        return (x > 0).astype(float)
    return 1.0 if _data_of(x) > 0 else 0.0


def sign(x):
    """-1, 0 or 1 (0 at 0, as in PyTorch).  Locally constant, like ``positive``."""
    if isinstance(x, np.ndarray):
        # 0 at NaN too, as on floats (and in PyTorch), where np.sign gives NaN
        return (x > 0).astype(float) - (x < 0)
    x = _data_of(x)
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def power_rule(a, n):
    """d(a**n)/da = n a**(n-1), taken as 0 for n == 0 (a**0 = 1 is constant, also at a = 0)."""
    if isinstance(n, np.ndarray):
        safe_n = np.where(n == 0, 1.0, n)
        return np.where(n == 0, 0.0, safe_n * a ** (safe_n - 1))
    return 0.0 if _data_of(n) == 0 else n * a ** (n - 1)


def out_log_base(out, a):
    """d(a**y)/dy = a**y log a; 0 at a == 0, the limit from the right for y > 0."""
    if isinstance(a, np.ndarray):
        return np.where(a == 0, 0.0, out * np.log(np.where(a == 0, 1.0, a)))
    return 0.0 if _data_of(a) == 0 else out * log(a)


# --------------------------------------------------------------------------------------------
# Forwards that need more than one line (numerically stable or strict about their domain).
# --------------------------------------------------------------------------------------------


def _sigmoid(x: float) -> float:
    # Two branches so exp never overflows: for x < 0 use e^x / (1 + e^x).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_arrays(x: np.ndarray) -> np.ndarray:
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


sigmoid = _on_any(_sigmoid, _sigmoid_arrays, "sigmoid")  # on any operand, like exp and log above


def _power(base: float, exponent: float) -> float:
    if base == 0 and exponent < 0:
        raise ZeroDivisionError("0 cannot be raised to a negative power")
    if base < 0 and not float(exponent).is_integer():
        # Python would silently return a complex number here.
        raise ValueError("a negative base needs an integer exponent")
    return base**exponent


def _power_arrays(base: np.ndarray, exponent) -> np.ndarray:
    outside = ((base < 0) & (np.floor(exponent) != exponent)) | ((base == 0) & (exponent < 0))
    if np.any(outside):
        raise ValueError("a negative base needs an integer exponent, and 0 a non-negative one")
    return np.power(base, exponent)  # an overflow is the caller's np.errstate to handle


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError("log is defined for positive numbers only")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError("sqrt is defined for non-negative numbers only")
    return math.sqrt(x)


# --------------------------------------------------------------------------------------------
# The table.  In every rule: g = upstream gradient, out = this op's output, a, b = inputs.
# --------------------------------------------------------------------------------------------

# ---- arithmetic
ADD = Primitive("add", "+", operator.add, lambda g, out, a, b: (g, g))
SUB = Primitive("sub", "-", operator.sub, lambda g, out, a, b: (g, -g))
MUL = Primitive("mul", "*", operator.mul, lambda g, out, a, b: (g * b, g * a))
# d(a/b)/db = -a/b^2 = -out/b
DIV = Primitive(
    "div", "/", _divide, lambda g, out, a, b: (g / b, -g * out / b), array_forward=np.divide
)
NEG = Primitive("neg", "-", operator.neg, lambda g, out, a: (-g,), doc="-x.")
ABS = Primitive(
    "abs",
    "abs",
    abs,
    lambda g, out, a: (g * sign(a),),
    array_forward=np.abs,
    kinks=(0.0,),
    doc="|x|; its derivative at 0 is taken as 0, as in PyTorch.",
)

# ---- powers
# x ** n with a plain-number exponent n (micrograd's case).  Constants reach every rule as
# plain numbers, also under create_graph, so n is never differentiated; its "gradient" is 0.
POW = Primitive(
    "pow",
    "**",
    _power,
    lambda g, out, a, n: (g * power_rule(a, n), 0.0),
    array_forward=_power_arrays,
)
# x ** y with a Value exponent: d/dy x**y = x**y log x, defined for x > 0 (and 0 at x = 0);
# for a negative base, backward through the exponent raises (PyTorch would give NaN).
VALUE_POW = Primitive(
    "value_pow",
    "**",
    _power,
    lambda g, out, a, b: (g * power_rule(a, b), g * out_log_base(out, a)),
    array_forward=_power_arrays,
)

# ---- exponentials and logarithms
EXP = Primitive(
    "exp", "exp", math.exp, lambda g, out, a: (g * out,), array_forward=np.exp, doc="e ** x."
)
LOG = Primitive(
    "log",
    "log",
    _log,
    lambda g, out, a: (g / a,),
    array_forward=np.log,
    doc="Natural logarithm; ValueError for a non-positive operand.",
)
# d sqrt(x)/dx = 1 / (2 sqrt(x)) = 0.5 / out  (infinite at 0)
SQRT = Primitive(
    "sqrt",
    "sqrt",
    _sqrt,
    lambda g, out, a: (g * 0.5 / out,),
    array_forward=np.sqrt,
    doc="Square root; ValueError for a negative operand.",
)

# ---- trigonometric
SIN = Primitive(
    "sin",
    "sin",
    math.sin,
    lambda g, out, a: (g * cos(a),),
    array_forward=np.sin,
    doc="Sine (radians).",
)
COS = Primitive(
    "cos",
    "cos",
    math.cos,
    lambda g, out, a: (-g * sin(a),),
    array_forward=np.cos,
    doc="Cosine (radians).",
)

# ---- activations
# tanh' = 1 - tanh^2 ; sigmoid' = sigmoid (1 - sigmoid): both read off the output.
TANH = Primitive(
    "tanh",
    "tanh",
    math.tanh,
    lambda g, out, a: (g * (1 - out * out),),
    array_forward=np.tanh,
    doc="Hyperbolic tangent.",
)
SIGMOID = Primitive(
    "sigmoid",
    "sigmoid",
    _sigmoid,
    lambda g, out, a: (g * out * (1 - out),),
    array_forward=_sigmoid_arrays,
    doc="Logistic function 1 / (1 + e^-x), computed without overflow.",
)
# softplus(x) = log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so it never overflows.
# Its derivative is sigmoid(x): smooth everywhere, unlike the same formula built from relu and abs.
SOFTPLUS = Primitive(
    "softplus",
    "softplus",
    lambda a: max(a, 0.0) + math.log1p(math.exp(-abs(a))),
    lambda g, out, a: (g * sigmoid(a),),
    array_forward=lambda a: np.logaddexp(0.0, a),
    doc="log(1 + e^x), without overflow; its derivative is sigmoid(x).",
)
RELU = Primitive(
    "relu",
    "ReLU",
    lambda a: 0.0 if a <= 0 else a,  # NaN stays NaN (as in PyTorch), so anomalies surface
    lambda g, out, a: (g * positive(a),),
    array_forward=lambda a: np.maximum(a, 0.0),
    kinks=(0.0,),
    doc="max(0, x); the derivative at 0 is taken as 0, as in micrograd and PyTorch.",
)
# slope 1 for x > 0 and alpha otherwise; alpha is a plain number, like pow's exponent.
LEAKY_RELU = Primitive(
    "leaky_relu",
    "LeakyReLU",
    lambda a, alpha: alpha * a if a <= 0 else a,
    lambda g, out, a, alpha: (g * (alpha + (1 - alpha) * positive(a)), 0.0),
    # alpha * min(a, 0), not alpha * a: where a > 0 is chosen, alpha * a must not overflow
    array_forward=lambda a, alpha: np.where(a > 0, a, alpha * np.minimum(a, 0.0)),
    kinks=(0.0,),
    doc="x for x > 0, alpha * x otherwise (alpha: a number, not differentiated).",
)
# The perceptron's threshold (Heaviside, step(0) = 1).  Its derivative is 0 wherever it exists,
# which is exactly why a network of threshold units cannot be trained by gradient descent.
STEP = Primitive(
    "step",
    "step",
    lambda a: (1.0 if a >= 0 else 0.0) if a == a else a,  # a != a: NaN stays NaN
    lambda g, out, a: (g * 0.0,),
    array_forward=lambda a: np.where(a == a, a >= 0, a),  # NaN stays NaN, as on floats
    kinks=(0.0,),
    doc="The perceptron's threshold: 1 for x >= 0, else 0; derivative 0 everywhere.",
)

# Every entry above, in the order declared: no list to keep in step with the table.
PRIMITIVES: dict[str, Primitive] = {
    p.name: p for p in list(globals().values()) if isinstance(p, Primitive)
}
