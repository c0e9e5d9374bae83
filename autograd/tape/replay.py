"""``Tape``: a compiled graph replayed over a batch, forward and backward, with numpy.

Every node gets a row of numbers (one per sample) instead of one float.  A Tape keeps one value
array and one gradient array (nodes x batch), plus each group's gradient scratch, and reuses
them from step to step.  Parameters are the leaves ``fn`` closed over: their current ``.data``
is read at every call, and ``backward`` adds the batch-summed (or averaged) gradient to their
``.grad``, exactly what the eager engine would have accumulated.
"""

from __future__ import annotations

import numpy as np

from ..backward import topological_order
from ..value import Constant, TracedValue, TracingError, Value
from .groups import Group, OpGroup
from .schedule import compile_graph


class Tape:
    """A compiled scalar graph: call it on a batch, then ``backward`` into the parameters."""

    def __init__(self, outputs: list[Value], placeholders: list[Value]):
        self.n_inputs = len(placeholders)
        self.n_outputs = len(outputs)
        placeholder_set = set(placeholders)
        order = topological_order(list(outputs) + list(placeholders))
        leaves = [n for n in order if n.is_leaf]
        self.parameters = [
            n for n in leaves if n not in placeholder_set and type(n) is not Constant
        ]
        detached = [n for n in leaves if type(n) is TracedValue and n not in placeholder_set]
        if detached:
            raise TracingError(
                f"fn computed {len(detached)} Value(s) from its inputs and cut them from the "
                "graph (e.g. under no_grad()): the tape would freeze that one example's "
                "numbers; use the eager engine"
            )
        compiled = compile_graph(order, outputs, placeholders, self.parameters)
        self.groups = compiled.groups
        self.n_rows = compiled.n_rows
        self._input_rows = compiled.input_rows
        self._param_rows = compiled.param_rows
        self._row_params = compiled.row_params
        self._params = compiled.params
        self._const_rows = compiled.const_rows
        self._const_values = compiled.const_values
        self._output_rows = compiled.output_rows
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray, list]] = {}
        self._last: tuple[np.ndarray, np.ndarray, list] | None = None

    def __repr__(self) -> str:
        return (
            f"Tape({self.n_inputs} inputs, {self.n_outputs} outputs, {len(self.parameters)} "
            f"parameters, {self.n_rows} nodes in {len(self.groups)} groups)"
        )

    def __call__(self, X=None) -> np.ndarray:
        """Outputs for every row of X (samples x inputs): shape (batch,) or (batch, outputs)."""
        X = self._check_inputs(X)
        self._last = None  # until this call succeeds: backward must not use a half-made batch
        V, G, scratch = self._arrays(X.shape[0])
        V[self._input_rows] = X.T
        values = self._params.values
        values[:] = [p.data for p in self.parameters]
        V[self._param_rows] = values[self._row_params, None]
        with np.errstate(divide="raise", invalid="raise", over="raise"):
            for group in self.groups:
                try:
                    group.forward(V)
                except (FloatingPointError, ValueError, ZeroDivisionError) as exc:
                    raise _replay_error(group, "forward", exc, V) from None
        self._last = (V, G, scratch)
        out = V[self._output_rows].T.copy()
        return out[:, 0] if self.n_outputs == 1 else out

    def backward(self, grad_outputs=None, reduction: str = "sum") -> None:
        """Add d(sum over samples of grad_outputs * outputs)/d(parameter) to each ``.grad``.

        ``grad_outputs``: weights per sample (batch,) or per sample and output (batch, outputs);
        default 1.  ``reduction="mean"`` divides by the batch size.
        """
        if self._last is None:
            raise RuntimeError("Tape.backward() needs a forward call first: tape(X)")
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        V, G, scratch = self._last
        batch = V.shape[1]
        G.fill(0.0)
        self._params.grads.fill(0.0)
        seeds = 1.0 if grad_outputs is None else np.asarray(grad_outputs, dtype=float)
        if np.ndim(seeds) == 1 and self.n_outputs > 1 and len(seeds) == batch:
            seeds = seeds[:, None]
        try:
            seeds = np.broadcast_to(seeds, (batch, self.n_outputs)).T
        except ValueError:
            raise ValueError(
                f"grad_outputs of shape {np.shape(grad_outputs)} does not fit "
                f"{batch} samples x {self.n_outputs} outputs"
            ) from None
        np.add.at(G, self._output_rows, seeds)  # add: fn may return one Value twice
        with np.errstate(divide="raise", invalid="raise", over="raise"):
            for group, group_scratch in zip(reversed(self.groups), reversed(scratch), strict=True):
                if group.routes:
                    try:
                        group.backward(V, G, group_scratch)
                    except (FloatingPointError, ValueError, ZeroDivisionError) as exc:
                        raise _replay_error(group, "backward", exc) from None
        totals = self._params.grads  # what dense layers added, already summed over the batch
        totals[self._row_params] += G[self._param_rows].sum(axis=1)
        if reduction == "mean":
            totals /= batch
        for p, total in zip(self.parameters, totals.tolist(), strict=True):
            p.grad = total if p.grad is None else p.grad + total  # None counts as 0, as in eager

    def _check_inputs(self, X) -> np.ndarray:
        if self.n_inputs == 0 and X is None:
            return np.zeros((1, 0))
        X = np.asarray(X, dtype=float)
        if X.ndim == 1 and self.n_inputs == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(
                f"expected a batch of shape (samples, {self.n_inputs}), got shape {X.shape}"
            )
        return X

    def _arrays(self, batch: int) -> tuple[np.ndarray, np.ndarray, list]:
        """The value and gradient arrays, and each group's backward scratch, for this batch
        size: allocated once and reused."""
        if batch not in self._buffers:
            if len(self._buffers) >= 4:  # a few sizes (full batches, the last one) at most
                self._buffers.pop(next(iter(self._buffers)))
            V = np.empty((self.n_rows, batch))
            V[self._const_rows] = self._const_values[:, None]
            scratch = [group.scratch(batch) for group in self.groups]
            self._buffers[batch] = (V, np.zeros_like(V), scratch)
        return self._buffers[batch]


def _replay_error(group: Group, phase: str, exc: Exception, V=None) -> Exception:
    if isinstance(exc, FloatingPointError) and "overflow" in str(exc):  # as eager: OverflowError
        where = _first_overflow(group, V) if V is not None and isinstance(group, OpGroup) else ""
        return OverflowError(
            f"{phase} of the traced graph: {group.name} over the batch: the result overflows a "
            f"float{where}"
        )
    return type(exc)(f"{phase} of the traced graph: {group.name} over the batch failed: {exc}")


def _first_overflow(group: OpGroup, V: np.ndarray) -> str:
    """` at sample 3: mul(1e+200, 1e+200)`: the first member and sample that overflowed."""
    operands = [V[rows] for rows in group.operands]
    with np.errstate(all="ignore"):
        out = group.prim.apply_arrays(*operands)
    bad = ~np.isfinite(out) & np.logical_and.reduce([np.isfinite(o) for o in operands])
    if not bad.any():
        return ""
    member, sample = np.argwhere(bad)[0]
    numbers = ", ".join(repr(float(o[member, sample])) for o in operands)
    return f" at sample {sample}: {group.prim.name}({numbers})"
