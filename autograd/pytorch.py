"""The bridge to PyTorch: run a function written for Values on torch tensors too, and compare.

``compare_with_torch(fn, *inputs)`` calls ``fn`` once with chainrule Values and once with
float64 torch scalars that require grad, differentiates both, and returns a ``Comparison``:
the output and the gradient for each input, side by side, with their relative difference.
It checks a student's graph against an engine nobody here wrote.

torch is an optional extra (``pip install "chainrule[torch]"``).  This module imports it only
when called, and ``require_torch`` turns a missing torch into an error that says how to
install it; ``import autograd`` never imports torch or this module.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType

from .backward import grad
from .mode import enable_grad
from .primitives import PRIMITIVES
from .value import Value, as_float

TORCH_REQUIREMENT = "torch==2.13.0"  # the version pyproject.toml's `torch` extra pins
INSTALL_HINT = f'pip install "chainrule[torch]"   (or: pip install {TORCH_REQUIREMENT})'


def require_torch(what: str) -> ModuleType:
    """The torch module; ModuleNotFoundError naming `what` and how to install torch otherwise."""
    try:
        import torch
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"{what} needs PyTorch, which could not be imported ({exc}). "
            f"Install it with:  {INSTALL_HINT}",
            name="torch",
        ) from exc
    return torch


def relative_difference(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|): 0 when equal (also both NaN), inf when only one is NaN/infinite."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b))


@dataclass(frozen=True)
class Row:
    """One number from both engines: a value ("value") or a gradient ("grad")."""

    name: str
    kind: str
    chainrule: float
    torch: float

    @property
    def rel_diff(self) -> float:
        """The relative difference of the two numbers (see ``relative_difference``)."""
        return relative_difference(self.chainrule, self.torch)

    def close(self, rtol: float, atol: float) -> bool:
        """|chainrule - torch| <= atol + rtol max(|chainrule|, |torch|) (NaN matches NaN)."""
        a, b = self.chainrule, self.torch
        if a == b or (math.isnan(a) and math.isnan(b)):
            return True
        return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


@dataclass(frozen=True)
class Comparison:
    """chainrule's numbers beside torch's: a table as its repr, the rows as attributes."""

    title: str
    rows: tuple[Row, ...]
    rtol: float = 1e-9
    atol: float = 1e-12

    @property
    def values(self) -> tuple[Row, ...]:
        """The rows comparing values (a function's output, or parameters)."""
        return tuple(r for r in self.rows if r.kind == "value")

    @property
    def gradients(self) -> tuple[Row, ...]:
        """The rows comparing gradients."""
        return tuple(r for r in self.rows if r.kind == "grad")

    @property
    def max_rel_diff(self) -> float:
        """The largest relative difference over all rows."""
        return max((r.rel_diff for r in self.rows), default=0.0)

    @property
    def disagreeing(self) -> tuple[Row, ...]:
        """The rows outside the tolerance."""
        return tuple(r for r in self.rows if not r.close(self.rtol, self.atol))

    @property
    def ok(self) -> bool:
        """True if every row agrees within rtol (and atol, for numbers near 0)."""
        return not self.disagreeing

    def __getitem__(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no row {name!r}; rows: {', '.join(r.name for r in self.rows)}")

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        # `assert report` would pass for any non-empty table, agreeing or not
        raise TypeError("a Comparison is not a truth value: use .ok (do all rows agree?)")

    def __str__(self) -> str:
        width = max([len(r.name) for r in self.rows] + [4])
        cells = [(r.name, repr(r.chainrule), repr(r.torch), _short(r.rel_diff)) for r in self.rows]
        num = max([len(c) for _, a, b, _ in cells for c in (a, b)] + [len("chainrule")])
        lines = [
            self.title,
            f"  {'':<{width}}  {'chainrule':>{num}}  {'torch':>{num}}  {'rel. diff':>9}",
        ]
        for row, (name, a, b, diff) in zip(self.rows, cells, strict=True):
            mark = "✓" if row.close(self.rtol, self.atol) else "✗"
            lines.append(f"  {name:<{width}}  {a:>{num}}  {b:>{num}}  {diff:>9}  {mark}")
        tolerance = f"rtol {self.rtol:g}, atol {self.atol:g}"
        worst = f"largest relative difference {_short(self.max_rel_diff)}"
        bad = self.disagreeing
        if bad:
            lines.append(
                f"{len(bad)} of {len(self.rows)} DISAGREE ({tolerance}): "
                + ", ".join(r.name for r in bad)
            )
        else:
            lines.append(f"all {len(self.rows)} agree ({worst}; {tolerance})")
        return "\n".join(lines)

    __repr__ = __str__


def _short(x: float) -> str:
    return "0" if x == 0 else f"{x:.2g}"


def compare_with_torch(
    fn: Callable[..., Value], *inputs, rtol: float = 1e-9, atol: float = 1e-12
) -> Comparison:
    """Run fn on Values and on float64 torch scalars; compare its output and input gradients.

    ``fn`` takes one argument per input and computes with operators and Value methods only
    (``+ - * / ** abs``, ``.exp()``, ``.tanh()``, ``.relu()``, ``.softplus()``, ...): torch
    tensors have the same operators, and the Value methods a tensor lacks are added (see
    ``autograd.torch_ops``).  ``inputs`` are numbers or Values (only their ``.data`` is read;
    nothing is changed).  Returns a ``Comparison``; print it for the table.
    """
    torch = require_torch("compare_with_torch")
    from .torch_ops import scalar

    if not inputs:
        raise ValueError("compare_with_torch needs at least one input: fn's arguments")
    point = []
    for i, x in enumerate(inputs):
        try:
            point.append(x.data if isinstance(x, Value) else as_float(x))
        except (TypeError, OverflowError) as exc:
            raise type(exc)(f"input {i}: {exc}") from None
    names = _input_names(fn, inputs)
    fname = getattr(fn, "__name__", "f")
    fname = "f" if not fname.isidentifier() else fname  # "<lambda>" reads as f
    arguments = ", ".join(f"{n}={x!r}" for n, x in zip(names, point, strict=True))
    title = f"chainrule vs torch: {fname}({arguments})"

    # chainrule: fresh leaves, gradients from autograd.grad (no .grad anywhere is touched)
    with enable_grad():
        leaves = [Value(x, label=n) for x, n in zip(point, names, strict=True)]
        out = fn(*leaves)
        if not isinstance(out, Value):
            raise TypeError(_not_one_output(fname, out, "Values", "a Value"))
        ours = grad(out, leaves, allow_unused=True)

    with torch.enable_grad():
        tensors = [scalar(x) for x in point]
        try:
            t_out = fn(*tensors)
        except (TypeError, AttributeError) as exc:
            op = _primitive_named_in(exc)
            if op is not None:
                raise TypeError(
                    f"{fname} uses {op}, a primitive torch does not have (one defined with "
                    "autograd.define_primitive?): compare_with_torch checks functions built from "
                    "chainrule's own primitives, each of which has a torch counterpart"
                ) from exc
            raise TypeError(
                f"{fname} ran on Values but not on torch tensors ({type(exc).__name__}: {exc}). "
                f"compare_with_torch calls {fname} with tensors in place of Values, so it may "
                "use only its arguments' operators and Value methods: a Value made inside it, "
                "or a chainrule function that builds Values (like nn.functional.mse), cannot "
                "take a tensor; to compare a model's gradients, export it with model.to_torch() "
                "and use nn.pytorch.compare_parameters"
            ) from exc
        if not isinstance(t_out, torch.Tensor) or t_out.numel() != 1:
            raise TypeError(_not_one_output(fname, t_out, "tensors", "a one-element tensor"))
        if t_out.requires_grad:
            theirs = torch.autograd.grad(t_out.reshape(()), tensors, allow_unused=True)
        else:  # fn's output does not depend on any input
            theirs = [None] * len(tensors)

    rows = [Row(fname, "value", out.data, t_out.item())]
    for name, g, t_g in zip(names, ours, theirs, strict=True):
        g = 0.0 if g is None else g  # an input the output does not use: gradient 0
        rows.append(Row(f"d{fname}/d{name}", "grad", g, 0.0 if t_g is None else t_g.item()))
    return Comparison(title, tuple(rows), rtol, atol)


def _primitive_named_in(exc: Exception) -> str | None:
    """The primitive a failure on tensors names: ``x.op()`` (AttributeError) or ``op(x)``
    (apply's TypeError "op: operand 0 must be a Value"); None for any other failure."""
    name = getattr(exc, "name", None) if isinstance(exc, AttributeError) else None
    if name is None and isinstance(exc, TypeError):
        name = str(exc).partition(": operand ")[0]
    return name if name in PRIMITIVES else None


def _not_one_output(fname: str, out: object, given: str, expected: str) -> str:
    what = type(out).__name__
    if isinstance(out, (list, tuple)):
        what = f"a {what} of {len(out)}"
    return (
        f"{fname} must return one number to differentiate ({expected} when given {given}), "
        f"got {what}; for several outputs compare one at a time, or their sum"
    )


def _input_names(fn: Callable, inputs: tuple) -> list[str]:
    """fn's parameter names where it has them, else the Values' labels, else x0, x1, ..."""
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):  # a builtin without a signature
        params = []
    names: list[str] = []
    for i, x in enumerate(inputs):
        if i < len(params):
            name = params[i]
        elif isinstance(x, Value) and x.label:
            name = x.label
        else:
            name = f"x{i}"
        names.append(name if name not in names else f"x{i}")
    return names
