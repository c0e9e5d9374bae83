"""``Value``: one real number that remembers the op and parents that produced it.

A Value holds ``data`` (a float), ``grad`` (d root / d self after ``backward()``), ``parents``
(an ordered tuple, so pictures are deterministic), ``op`` (the producing op's name, "" for a
leaf) and ``label``.  It has ``__slots__`` and no per-node closure: the local-derivative rules
live in the primitive table (``primitives.py``) and the chain rule in ``backward.py``, so a graph
has no reference cycles and is freed as soon as it is unreachable.

Every primitive has one or two operands, kept in two slots (``_a``, ``_b``) rather than a tuple:
that saves a tuple per node (about 70 bytes, and half the objects the garbage collector has to
track); ``parents`` builds the tuple when asked.

Numbers mixed into an expression (the 2 in ``2 * x``) become ``Constant`` leaves.  micrograd's
``Value(data, _children, _op)`` records an op made by hand (a ``HandMadeOp``: a name, no rule).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import primitives as P
from .mode import hot, running, state

if TYPE_CHECKING:
    from .primitives import Primitive

# Scalars a Value accepts; numbers.Real covers int, float, bool, Fraction and numpy's reals.
_REAL_TYPES = (numbers.Real, np.bool_)

# The 0.0 every new Value's .grad starts as: one shared object, so the backward pass can tell
# with `is` (no comparison, no truth test of whatever a user put in .grad) that there is no old
# gradient to save and add back.
ZERO = 0.0


def as_float(x) -> float:
    """The float inside a real number (or a one-element numpy array); TypeError for all else."""
    if type(x) is int or isinstance(x, _REAL_TYPES):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(
                f"Value wraps a float, and {_short_repr(x)} is too large for one"
            ) from None
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


_new = object.__new__  # an instance of any Value type, nothing set: the constructor's first step


class _ValueType(type):
    """Value's type.  Its ``__call__`` is Value's constructor, micrograd's
    ``Value(data, _children=(), _op="", label="")``, instead of a ``Value.__init__``.

    Why: ops make their results with ``_blank()`` (``type.__call__`` bound to Value, below),
    which allocates in C with no argument tuple and, Value having no Python ``__init__``,
    nothing to run; ``object.__new__(Value)`` builds and slices an argument tuple per call.
    Callgrind, 2026-11-29: the wide graph's forward (400k ops) 1345M -> 1236M instructions
    (-8%), a demo step 452M -> 434M (-4%).  The price: ``Value(x)`` itself costs ~500
    instructions more (leaves are few), and ``isinstance(n, Value)`` of something that is
    not exactly a Value calls type.__instancecheck__ (~0.1 us) instead of a C fast path.
    A user's subclass with its own ``__init__`` is made the usual way: its
    ``super().__init__(data)`` reaches Value's constructor through _WithInit.
    """

    def __new__(mcls, name, bases, namespace, **kwargs):
        # A subclass with an __init__ of its own (``super().__init__(data)`` inside) gets
        # _WithInit, which has Value's constructor as its __init__, first among its bases.
        if "__init__" in namespace and not any(issubclass(b, _WithInit) for b in bases):
            bases = (_WithInit, *bases)
        return super().__new__(mcls, name, bases, namespace, **kwargs)

    @property
    def __signature__(cls):
        """What help() and Jupyter show for ``Value(``: the constructor's parameters."""
        import inspect  # only when asked

        init = cls.__init__ if issubclass(cls, _WithInit) else _initialise
        parameters = list(inspect.signature(init).parameters.values())
        return inspect.Signature(parameters[1:])  # without self

    def __call__(cls, *args, **kwargs):
        if issubclass(cls, _WithInit):  # a user's subclass with its own __init__: Python's way
            return type.__call__(cls, *args, **kwargs)
        self = _blank() if cls is Value else _new(cls)
        _initialise(self, *args, **kwargs)
        return self


def _initialise(
    self: Value, data, _children: Sequence = (), _op: str = "", label: str = ""
) -> None:
    """Value's constructor: micrograd's ``Value(data, _children=(), _op="", label="")``.

    ``Value(t, (self,), "tanh")`` makes an op node by hand.  Built-in ops never come here (see
    _compute), so the extra arguments cost them nothing.
    """
    self.data = data if type(data) is float else as_float(data)
    self.grad = ZERO
    self._prim = None
    self._a = None  # first operand (None for a leaf)
    self._b = None  # second operand (None for a leaf or a one-operand op)
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    if label:
        self._label = label
    if _children or _op:
        _record_by_hand(self, _children, _op)


class Value(metaclass=_ValueType):
    """One real number in a computation graph, with the gradient backward() leaves in it.

    A Value takes no attributes beyond its own (``p.m = 0`` raises AttributeError).  Measured
    on Python 3.11, every way of allowing it, or of explaining the error, costs too much:
    - a ``__dict__`` on every Value: 104 -> 136 B per node (+31%; 128 B with the label moved
      into it), because 3.11 allocates a dict's values with the object;
    - a ``__dict__`` only on the Values made with ``Value(...)`` (or only on nn's parameters),
      through a subclass: 115 B per node on the memory benchmark and +4.5-7.4% instructions
      per demo step, +17-18% on the wide graph (callgrind, before and after the engine work of
      2026-11-29): 3.11 specialises attribute access per type, so a second kind of Value
      flowing through the operators and ``backward`` deoptimises them (a subclass without a
      ``__dict__`` costs the same);
    - a ``__setattr__`` that explained the error: ``x * y`` 4.6x slower (attribute stores stop
      being specialised).
    Keep per-Value state in a dict keyed by the Value (``m = {p: 0.0 for p in params}``) or a
    list beside the parameters, as ``nn.Adam`` does.
    """

    # The label's slot stays empty until a label is set (``label`` reads "" then): the cyclic
    # collector visits every filled slot of every live Value twice per pass, and skips an empty
    # one; and no op stores a "".  Callgrind, 2026-11-29: the wide graph's forward (200k
    # leaves) 2633M -> 2555M instructions, of which the collector's 1261M -> 1210M; a demo
    # step 456M -> 452M (the collector's share 87.4M -> 84.9M).  Same 104 B per node.
    __slots__ = ("data", "grad", "_prim", "_a", "_b", "_label")
    # Let `np.float64(2) * x` reach Value.__rmul__ instead of numpy building an object array.
    __array_ufunc__ = None

    # Value(data, _children=(), _op="", label="") is _ValueType.__call__ (see there why).

    # ---- reading the graph ----------------------------------------------------------------

    @property
    def label(self) -> str:
        """The Value's name in pictures and error messages ("" until one is set)."""
        try:
            return self._label
        except AttributeError:  # never set: the slot stays empty (see __slots__)
            return ""

    @label.setter
    def label(self, label: str) -> None:
        self._label = label

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands this Value was computed from, in order (empty for a leaf)."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

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
        if self._prim is P.POW:  # micrograd writes x**2 as op "**2"
            return f"**{self._b.data:g}"
        return self._prim.symbol if self._prim is not None else ""

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"{type(self).__name__}(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        if running.rules_on_values:  # inside backward(create_graph=True): see NumberInRuleError
            raise NumberInRuleError(f"float() of {self!r} while the rules run on Values")
        return self.data

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}" formats the number, as for a PyTorch scalar; f"{loss}" is the repr."""
        return format(float(self), spec) if spec else repr(self)

    # _repr_svg_(): Jupyter shows a Value as the picture of its graph.  Attached by
    # viz/jupyter.py (the drawing code builds on the engine, never the other way round).

    # ---- gradients ---------------------------------------------------------------------------

    # backward(grad=1.0, create_graph=False): micrograd's method, the function
    # ``autograd.backward.backward`` itself.  backward.py attaches it: it builds on this module,
    # so this one cannot import it (the modules read bottom-up).
    backward: Callable[..., None]

    # ---- arithmetic (the operators are built by _operator, below the class) ------------------

    def __pow__(self, exponent):
        # A number (or Constant) exponent is micrograd's x**n; a Value exponent is differentiated.
        if isinstance(exponent, Value) and not isinstance(exponent, Constant):
            return _value_pow(self, exponent)
        return _pow_number(self, exponent)

    def __neg__(self) -> Value:
        return _compute(P.NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _compute(P.ABS, self)

    # Comparisons look at .data only (they are not differentiable), so sorted(), max() and
    # `if loss < best:` work.  == and hash keep identity semantics, so Values are dict keys.
    # Anything but a Value or a real number gives NotImplemented: Python then raises its usual
    # "'<' not supported between instances of 'Value' and 'str'".
    def __lt__(self, other) -> bool:
        other = _compared(other)
        return NotImplemented if other is None else self.data < other

    def __le__(self, other) -> bool:
        other = _compared(other)
        return NotImplemented if other is None else self.data <= other

    def __gt__(self, other) -> bool:
        other = _compared(other)
        return NotImplemented if other is None else self.data > other

    def __ge__(self, other) -> bool:
        other = _compared(other)
        return NotImplemented if other is None else self.data >= other

    # ---- functions ---------------------------------------------------------------------------
    # Every one-operand primitive is a method (x.exp(), x.tanh(), ...), made from its table
    # entry below the class (_bind_method).  leaky_relu takes a number as well:

    def leaky_relu(self, alpha: float = 0.01) -> Value:
        """x for x > 0, alpha * x otherwise (alpha is a number: it is not differentiated)."""
        if isinstance(alpha, Value) and not isinstance(alpha, Constant):
            raise TypeError("leaky_relu: alpha must be a number, not a Value (it is not trained)")
        if not isinstance(alpha, (Value, *_REAL_TYPES)):
            raise TypeError(f"leaky_relu: alpha must be a real number, got {type(alpha).__name__}")
        return _leaky_relu(self, alpha)


class NumberInRuleError(TypeError):
    """A derivative rule turned a Value into a float (``math.cos(a)``, ``float(a)``) while
    backward(create_graph=True) ran it on Values: the gradient it made would be a number times
    the upstream gradient, so differentiating it again would silently give 0."""


class _WithInit(Value):
    """The base a user's Value subclass with its own ``__init__`` gets (see _ValueType), so
    that ``super().__init__(data)`` inside it runs Value's constructor, as with a plain class."""

    __slots__ = ()


_WithInit.__init__ = _initialise  # set after the class is made, so _ValueType.__new__ adds
# no _WithInit to _WithInit itself


class Constant(Value):
    """A number mixed into an expression (the 2 in ``2 * x``): a leaf no one trains.

    Constants reach the derivative rules as plain numbers, so they are never differentiated.
    """

    __slots__ = ()


_DATA = Value.__dict__["data"]  # the slot behind .data, also under TracedValue's property
_slot_data = _DATA.__get__  # the engine's way to read a Value's number, traced or not


class TracingError(RuntimeError):
    """fn cannot be traced: its graph depends on the data flowing through it."""


def _refuse_traced_data(value: TracedValue) -> float:
    # The engine reads the number through _slot_data; anyone reading .data would be making
    # the graph depend on this one example (a branch on it, a number copied into a Value).
    raise TracingError(
        "fn reads .data of a Value computed from its inputs while being traced: the tape "
        "would freeze that one example's number (a branch on it, or a copy in a new Value). "
        "Write it with the engine's ops (relu, step, abs, ...) or use the eager engine"
    )


class TracedValue(Value):
    """A Value computed from ``trace``'s placeholder inputs while ``fn`` is being recorded.

    Its number is only an example: on the tape it stands for a whole batch.  So reading it
    (``.data``, ``float(x)``, ``x == 1``) raises ``TracingError``; the engine reads it through
    ``_slot_data``.  Comparing it with another Value (``x == y``) stays identity, as for every
    Value.
    """

    __slots__ = ()
    data = property(_refuse_traced_data, _DATA.__set__)
    __hash__ = Value.__hash__

    def __repr__(self) -> str:  # the example's number, as for any Value
        label = f", label={self.label!r}" if self.label else ""
        return f"TracedValue(data={_slot_data(self)!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        raise TracingError(
            "float() of a Value computed from the inputs while tracing: the tape would freeze "
            "that one example's number; use the eager engine"
        )

    def __eq__(self, other):
        if isinstance(other, Value):
            return NotImplemented  # identity, as for every Value
        raise TracingError(
            f"comparing a Value computed from the inputs with {other!r} while tracing: the "
            "result would depend on the data; use the eager engine"
        )


class CheckedValue(Value):
    """A Value made under ``detect_anomaly``: it also keeps the numbers its op saw (its own and
    its operands'), so backward() can tell that one was changed (``x.data = 3.0``) since.

    Gradients use the numbers as they are at backward time, so changing ``.data`` between
    forward and backward would silently differentiate at a point the forward never computed.
    Change parameters after ``backward()`` (every optimizer here does), then run forward again.
    """

    __slots__ = ("_read",)

    def __repr__(self) -> str:  # an ordinary Value to the user
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"


def _compared(x) -> float | None:
    """The number to compare with (None for something that is not a real number)."""
    if hot.checks and state.tracing:  # the thread-local read only when some mode is on
        raise TracingError(
            "comparing Values while tracing: the graph would depend on the data; "
            "use the eager engine for fn"
        )
    if isinstance(x, Value):
        return x.data
    return float(x) if isinstance(x, _REAL_TYPES) else None


# ---- recording ops -----------------------------------------------------------------------------
# These run for every node of every graph, so they are written for speed: no *args, and the
# float forward is called directly.  What they do is simple: compute, check, record.

# A new Value with no slot set, made in C without running any Python (see _ValueType).
_blank = type.__call__.__get__(Value)


def _compute(prim: Primitive, a: Value, b: Value | None = None) -> Value:
    """Run prim's forward on the operands' data and record the result in the graph."""
    if hot.checks:  # some thread has no_grad, detect_anomaly or tracing on: the general path
        return _compute_in_mode(prim, a, b)
    try:
        data = prim.forward(a.data) if b is None else prim.forward(a.data, b.data)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _forward_error(prim, (a,) if b is None else (a, b), exc) from None
    if not _isfinite(data):  # an infinite result of finite operands is an OverflowError
        _check_overflow(prim, a, b, data)
    out = _blank()
    out.data = data
    out.grad = ZERO
    out._prim = prim
    out._a = a
    out._b = b
    return out


# A global, not math.isfinite: one lookup fewer per op.  The overflow check and the per-thread
# modes together cost +0.6% instructions on a wide graph's forward (16.06k -> 16.15k per leaf,
# callgrind), -0.6% on a step of micrograd's demo (the modes' flag is cheaper to read).
_isfinite = math.isfinite


def weighted_sum(weights: Sequence[Value], inputs: Sequence[Value], bias: Value | None) -> Value:
    """``sum((w * x for w, x in zip(weights, inputs)), bias)``: the same graph, node for node.

    A neuron's weighted sum, recorded exactly as micrograd's ``sum`` records it (a mul per
    term, then adds from the left: ``((b + w1*x1) + w2*x2) + ...``; without a bias the first
    product starts the sum), so its pictures, gradients and tape are unchanged.  The nodes are
    made here in one loop instead of two operator calls and two _compute calls per term: a step
    of micrograd's demo (MLP 2-16-16-1, GC off) went from 512M to 393M instructions (-23%,
    callgrind, 2026-11-29).
    While a mode is on (no_grad, detect_anomaly, tracing) it runs the operators themselves.
    """
    if hot.checks:
        total = bias
        for w, x in zip(weights, inputs, strict=True):
            total = w * x if total is None else total + w * x
        return total
    mul, add, isfinite = P.MUL, P.ADD, _isfinite
    total = bias
    for w, x in zip(weights, inputs, strict=True):
        data = w.data * x.data  # mul's forward (operator.mul), as _compute would call it
        if not isfinite(data):
            _check_overflow(mul, w, x, data)
        term = _blank()
        term.data = data
        term.grad = ZERO
        term._prim = mul
        term._a = w
        term._b = x
        if total is None:
            total = term
            continue
        data = total.data + data  # add's forward
        if not isfinite(data):
            _check_overflow(add, total, term, data)
        out = _blank()
        out.data = data
        out.grad = ZERO
        out._prim = add
        out._a = total
        out._b = term
        total = out
    return total


def _check_overflow(prim: Primitive, a: Value, b: Value | None, data) -> None:
    """One rule for every primitive: a result that is not finite although the operands are
    raises, naming the op and operands (as exp(1000) always did); inf or NaN operands pass
    their inf or NaN on (detect_anomaly reports them)."""
    operands = (a,) if b is None else (a, b)
    if all(_isfinite(_slot_data(v)) for v in operands):
        exc = OverflowError() if data == data else ValueError("the result is not a number")
        raise _forward_error(prim, operands, exc)


def _compute_in_mode(prim: Primitive, a: Value, b: Value | None) -> Value:
    """_compute while a mode is on.  tracing: what depends on a traced Value is traced;
    detect_anomaly: refuse a NaN or infinity; no_grad: forget how the result was made."""
    grad_enabled, anomaly, tracing = state.now  # this thread's switches, read once
    x = _slot_data(a)  # the slot itself: a TracedValue's .data is guarded against user code
    y = None if b is None else _slot_data(b)
    try:
        data = prim.forward(x) if b is None else prim.forward(x, y)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _forward_error(prim, (a,) if b is None else (a, b), exc) from None
    if not _isfinite(data):
        _check_overflow(prim, a, b, data)
        if anomaly:
            raise FloatingPointError(
                f"detect_anomaly: {describe_call(prim, (a,) if b is None else (a, b))} "
                f"produced {data} in forward"
            )
    if tracing and (type(a) is TracedValue or type(b) is TracedValue):
        out = _new(TracedValue)
    elif anomaly:
        out = _new(CheckedValue)
        out._read = (data, x, y)
    else:
        out = _blank()
    out.data = data
    out.grad = ZERO
    if grad_enabled:
        out._prim = prim
        out._a = a
        out._b = b
    else:
        out._prim = out._a = out._b = None
    return out


def _record_by_hand(out: Value, children, op) -> None:
    """micrograd's ``Value(data, _children, _op)``: record `out` as made by op from children.

    The op is not in the primitive table, so its derivative is whatever the user's
    ``out._backward`` says (micrograd's way); ``hand_made_op`` names it in the graph.
    """
    if isinstance(children, str):
        raise TypeError(
            f"Value's second argument is micrograd's _children (the Values it was computed "
            f"from), got the str {children!r}; pass a label as label={children!r}"
        )
    try:
        children = tuple(children)
    except TypeError:
        raise TypeError(
            f"_children must be a tuple of Values, got {type(children).__name__}"
        ) from None
    for i, child in enumerate(children):
        if not isinstance(child, Value):
            raise TypeError(f"_children[{i}] must be a Value, got {type(child).__name__}")
    if not isinstance(op, str):
        raise TypeError(f"_op must be a str, got {type(op).__name__}")
    if not children:
        raise ValueError(f"_op {op!r} needs _children: a Value made from nothing is a leaf")
    if len(children) > 2:
        raise ValueError(
            f"{op!r} made by hand with {len(children)} children: a Value records one "
            "or two (every primitive has one or two operands); build it from two-operand steps"
        )
    if state.tracing:
        raise TracingError(
            f"Value(data, _children, {op!r}) while tracing: the tape replays only the "
            "primitive table's ops; declare the op as a Primitive or use the eager engine"
        )
    prim = hand_made_op(op, len(children))
    if state.anomaly and not math.isfinite(out.data):
        raise FloatingPointError(
            f"detect_anomaly: {describe_call(prim, children)} produced {out.data} in forward"
        )
    if state.grad_enabled:  # under no_grad it stays a leaf, as an op's result does
        out._prim = prim
        out._a = children[0]
        out._b = children[1] if len(children) == 2 else None


@dataclass(frozen=True, eq=False)
class HandMadeOp(P.Primitive):
    """An op made by hand, micrograd's way (``Value(t, (x,), "tanh")``): a name, and no rule of
    its own (the node's ``_backward`` says how gradients flow)."""

    n_operands: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "arity", self.n_operands)


_HAND_MADE: dict[tuple[str, int], HandMadeOp] = {}  # one entry per (name, arity); a cache


def hand_made_op(name: str, arity: int) -> HandMadeOp:
    """The entry that names an op made by hand in the graph (one per name and arity)."""
    prim = _HAND_MADE.get((name, arity))
    if prim is None:
        what = repr(name) if name else "an op"

        def forward(*inputs):
            raise TypeError(f"{what} was made by hand: there is no forward to run again")

        def vjp(g, out, *inputs):
            raise ValueError(
                f"{what} was made by hand with Value(data, _children, _op) and has no "
                "derivative rule: set out._backward, as micrograd does"
            )

        prim = _HAND_MADE.setdefault(
            (name, arity), HandMadeOp(name, name, forward, vjp, n_operands=arity)
        )
    return prim


def _constant(x) -> Constant | None:
    """A Constant leaf for a real number mixed into an expression; None for other types."""
    if type(x) is float or type(x) is int or isinstance(x, _REAL_TYPES):
        c = _new(Constant)
        c.data = float(x)
        c.grad = ZERO
        c._prim = c._a = c._b = None
        return c
    return None


def apply(prim: Primitive, *operands: Value) -> Value:
    """Run prim's forward on the operands' data and record the result in the graph."""
    for i, v in enumerate(operands):
        if not isinstance(v, Value):
            raise TypeError(f"{prim.name}: operand {i} must be a Value, got {type(v).__name__}")
    if len(operands) != prim.arity:
        raise TypeError(f"{prim.name} takes {prim.arity} operands, got {len(operands)}")
    return _compute(prim, *operands)


def _operator(prim: Primitive, reflected: bool = False):
    """The method behind `x <op> y` (or, reflected, `y <op> x`) for a two-operand primitive."""
    if reflected:

        def method(self: Value, other) -> Value:
            if not isinstance(other, Value):
                other = _constant(other)
                if other is None:
                    return NotImplemented  # Python then raises "unsupported operand type(s) ..."
            return _compute(prim, other, self)

    else:
        forward = prim.forward

        def method(self: Value, other) -> Value:
            if not isinstance(other, Value):
                other = _constant(other)
                if other is None:
                    return NotImplemented
            # _compute, written out: `x * y` and `x + y` are most of every graph, and the call
            # saved made a wide graph's forward 11% cheaper (callgrind, 676M -> 600M
            # instructions for 60k products and adds, 2026-11-29).  Same steps, same order.
            if hot.checks:
                return _compute_in_mode(prim, self, other)
            try:
                data = forward(self.data, other.data)
            except (ValueError, ZeroDivisionError, OverflowError) as exc:
                raise _forward_error(prim, (self, other), exc) from None
            if not _isfinite(data):
                _check_overflow(prim, self, other, data)
            out = _blank()
            out.data = data
            out.grad = ZERO
            out._prim = prim
            out._a = self
            out._b = other
            return out

    method.__name__ = f"__{'r' if reflected else ''}{prim.name}__"
    method.__doc__ = f"{prim.name}{' (reflected)' if reflected else ''}: {prim.symbol}"
    return method


# `x + y` and `x * y`: _operator's method with add's and mul's forward written out (the
# float arithmetic inline, not a call of operator.add or operator.mul), as backward writes
# out their rules.  Callgrind, 2026-11-29: the wide graph's forward (400k products and adds)
# 1236M -> 1177M instructions (-5%).  Same steps, same order, same errors as _operator's.


def _add(self: Value, other) -> Value:
    if not isinstance(other, Value):
        other = _constant(other)
        if other is None:
            return NotImplemented
    if hot.checks:
        return _compute_in_mode(_ADD, self, other)
    try:
        data = self.data + other.data
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _forward_error(_ADD, (self, other), exc) from None
    if not _isfinite(data):
        _check_overflow(_ADD, self, other, data)
    out = _blank()
    out.data = data
    out.grad = ZERO
    out._prim = _ADD
    out._a = self
    out._b = other
    return out


def _mul(self: Value, other) -> Value:
    if not isinstance(other, Value):
        other = _constant(other)
        if other is None:
            return NotImplemented
    if hot.checks:
        return _compute_in_mode(_MUL, self, other)
    try:
        data = self.data * other.data
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise _forward_error(_MUL, (self, other), exc) from None
    if not _isfinite(data):
        _check_overflow(_MUL, self, other, data)
    out = _blank()
    out.data = data
    out.grad = ZERO
    out._prim = _MUL
    out._a = self
    out._b = other
    return out


_ADD, _MUL = P.ADD, P.MUL
for _method, _prim in ((_add, P.ADD), (_mul, P.MUL)):
    _method.__name__ = f"__{_prim.name}__"
    _method.__qualname__ = f"Value.__{_prim.name}__"
    _method.__doc__ = f"{_prim.name}: {_prim.symbol}"
del _method, _prim
Value.__add__, Value.__radd__ = _add, _operator(P.ADD, reflected=True)
Value.__sub__, Value.__rsub__ = _operator(P.SUB), _operator(P.SUB, reflected=True)
Value.__mul__, Value.__rmul__ = _mul, _operator(P.MUL, reflected=True)
Value.__truediv__, Value.__rtruediv__ = _operator(P.DIV), _operator(P.DIV, reflected=True)
_pow_number = _operator(P.POW)  # x ** number
_value_pow = _operator(P.VALUE_POW)  # x ** Value
Value.__rpow__ = _operator(P.VALUE_POW, reflected=True)  # number ** x
_leaky_relu = _operator(P.LEAKY_RELU)  # alpha is a number, like pow's exponent


def _bind_method(prim: Primitive) -> None:
    """Give Value the method ``x.<prim.name>()`` for a one-operand primitive."""
    setattr(Value, prim.name, _method_for(prim))


def _method_for(prim: Primitive) -> Callable[[Value], Value]:
    """The method ``x.<prim.name>()`` of a one-operand primitive (not yet bound to Value)."""

    def method(self: Value) -> Value:
        return _compute(prim, self)

    method.__name__ = prim.name
    method.__qualname__ = f"Value.{prim.name}"
    method.__doc__ = prim.doc or f"{prim.name}(x)."
    return method


for _prim in P.PRIMITIVES.values():
    if _prim.arity == 1:
        _bind_method(_prim)
del _prim


# ---- error messages ------------------------------------------------------------------------

_MATH_MESSAGES = {"math domain error": "outside the domain"}


def describe_operand(v: Value) -> str:
    """`x=-2.0` for a labelled Value, `-2.0` otherwise."""
    data = _slot_data(v)  # also for a TracedValue: an error message may show its example
    return f"{v.label}={data!r}" if v.label else repr(data)


def describe_call(prim: Primitive, operands) -> str:
    """`log(x=-2.0)`: the op with its operands, for error messages."""
    return f"{prim.name}({', '.join(describe_operand(v) for v in operands)})"


def _forward_error(prim: Primitive, operands, exc: Exception) -> Exception:
    if isinstance(exc, OverflowError):
        reason = "the result overflows a float"
    else:
        reason = _MATH_MESSAGES.get(str(exc), str(exc))
    return type(exc)(f"{describe_call(prim, operands)}: {reason}")
