"""Adding a primitive from user code: its forward and its local-derivative rule in one call.

    import autograd
    from autograd.primitives import exp

    # softsign(x) = x / (1 + |x|);  d/dx = 1 / (1 + |x|)^2
    softsign = autograd.define_primitive(
        "softsign",
        forward=lambda a: a / (1 + abs(a)),
        vjp=lambda g, out, a: (g / (1 + abs(a)) ** 2,),
        doc="x / (1 + |x|).",
    )
    y = softsign(x)        # or x.softsign(): a one-operand primitive is also a Value method

The rule is a vector-Jacobian product, as for every entry of ``primitives.py``: it takes the
upstream gradient ``g``, the output ``out`` and the inputs, and returns one gradient per input.
Write it in plain arithmetic (and ``autograd.primitives``' ``exp``, ``log``, ``sin``, ``cos``,
``sigmoid``, ``positive``, ``sign``, which accept floats, Values and arrays) and it runs on floats
(``backward()``), on Values (``create_graph=True``) and on numpy arrays (a traced tape).  The
new primitive joins ``PRIMITIVES``, so ``draw`` shows it, ``chainrule draw`` accepts it
(one-operand ones) and ``gradcheck`` checks it.  Define primitives once, at import time: the table
is shared by every thread.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from . import primitives as P
from .flat import together
from .value import Value, _constant, _method_for, _short_repr, apply


def define_primitive(
    name: str,
    forward: Callable[..., float],
    vjp: Callable[..., tuple],
    *,
    symbol: str | None = None,
    array_forward: Callable | None = None,
    kinks: tuple[float, ...] = (),
    doc: str = "",
) -> Callable[..., Value]:
    """Declare a differentiable op (forward on floats, vjp rule); returns the function applying it.

    ``vjp(g, out, *inputs)`` returns one gradient per input; its signature gives the number of
    operands (one or two).  ``symbol`` is the text in pictures (default: the name);
    ``array_forward`` the forward on numpy arrays for a traced tape (default: ``forward``);
    ``kinks`` the points where the derivative jumps.  A one-operand primitive also becomes the
    method ``Value.<name>``.  Nothing is registered if any argument is refused.
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"a primitive's name must be a public Python name, got {name!r}")
    if name in P.PRIMITIVES:
        raise ValueError(f"a primitive named {name!r} exists already")
    for what, fn in (("forward", forward), ("vjp", vjp)):
        if not callable(fn):
            raise TypeError(f"{name}: {what} must be a function, got {type(fn).__name__}")
    if array_forward is not None and not callable(array_forward):
        raise TypeError(f"{name}: array_forward must be a function or None")
    code = getattr(vjp, "__code__", None)
    if code is None or code.co_argcount not in (3, 4):
        raise TypeError(
            f"{name}: vjp must be a Python function of (g, out, a) or (g, out, a, b), "
            "returning one gradient per input"
        )
    prim = P.Primitive(
        name,
        symbol if symbol is not None else name,
        forward,
        _one_gradient_per_input(name, vjp, code.co_argcount - 2),
        array_forward=array_forward,
        kinks=tuple(float(k) for k in kinks),
        doc=doc,
    )
    if prim.arity == 1 and hasattr(Value, name):
        raise ValueError(f"Value already has an attribute {name!r}: choose another name")
    # The table entry and the Value method in one C-level call (flat.together): a Ctrl-C
    # leaves both or neither, never a name that can be neither used nor defined again.
    entry = partial(P.PRIMITIVES.__setitem__, name, prim)
    if prim.arity == 1:
        together(entry, partial(setattr, Value, name, _method_for(prim)))
    else:
        together(entry)

    def op(*operands) -> Value:
        values = [v if isinstance(v, Value) else _constant(v) for v in operands]
        for i, v in enumerate(values):
            if v is None:
                raise TypeError(
                    f"{name}: operand {i} must be a Value or a real number, "
                    f"got {type(operands[i]).__name__}"
                )
        return apply(prim, *values)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f"{name}: a primitive defined with autograd.define_primitive."
    op.primitive = prim  # the table entry, as in PRIMITIVES[name]
    return op


def _one_gradient_per_input(name: str, vjp: Callable[..., tuple], arity: int) -> Callable:
    """vjp, with its result checked to be one gradient per input: ``g * a`` for ``(g * a,)``
    is the usual slip, and unpacking it failed far away ("cannot unpack non-iterable float").
    Same signature as vjp, so the operands are still read off it."""

    def checked(grads):
        if (
            isinstance(grads, (tuple, list))
            and len(grads) == arity
            and all(x is not None for x in grads)
        ):
            return grads
        raise TypeError(
            f"{name}: vjp must return a tuple of {arity} gradient{'s' if arity > 1 else ''}, "
            f"one per input (a number or a Value each, as (g * a,)), got {_short_repr(grads)}"
        )

    if arity == 1:
        return lambda g, out, a: checked(vjp(g, out, a))
    return lambda g, out, a, b: checked(vjp(g, out, a, b))
