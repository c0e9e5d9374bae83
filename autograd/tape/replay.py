"""``Tape``: a compiled graph replayed over a batch, forward and backward, with numpy.

Every node gets a row of numbers (one per sample) instead of one float.  A Tape keeps one value
array and one gradient array (nodes x batch), plus each group's gradient scratch, and reuses
them from step to step.  Parameters are the leaves ``fn`` closed over: their current ``.data``
is read at every call, and ``backward`` adds the batch-summed (or averaged) gradient to their
``.grad``, exactly what the eager engine would have accumulated.

A training loop that keeps the parameters in arrays (``nn.fit``) skips the Values on both ends:
``tape(X, params=data)`` reads the numbers from an array in ``tape.parameters`` order, and
``tape.gradients(...)`` returns the gradient as an array instead of adding it to ``.grad``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..backward import topological_order
from ..flat import read_data, read_grads, write
from ..value import Constant, TracedValue, TracingError, Value
from .groups import Group, OpGroup
from .schedule import compile_graph


class Tape:
    """A compiled scalar graph: call it on a batch, then ``backward`` into the parameters."""

    def __init__(
        self,
        outputs: list[Value],
        placeholders: list[Value],
        parameters: Sequence[Value] | None = None,
        order: list[Value] | None = None,
    ):
        self.n_inputs = len(placeholders)
        self.n_outputs = len(outputs)
        placeholder_set = set(placeholders)
        if order is None:  # trace passes the order it sorted already
            order = topological_order(list(outputs) + list(placeholders))
        leaves = [n for n in order if n._prim is None]
        found = [n for n in leaves if n not in placeholder_set and type(n) is not Constant]
        self.parameters = _parameter_order(parameters, found)
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
        self._ones_rows = compiled.ones_rows
        self._const_values = compiled.const_values
        self._output_rows = compiled.output_rows
        self._zero_rows = compiled.zero_rows
        self._has_param_rows = len(compiled.row_params) > 0
        # one seed per output row: G[rows] = seeds instead of np.add.at (unbuffered, slow)
        self._outputs_distinct = len(set(self._output_rows.tolist())) == self.n_outputs
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray, list]] = {}
        self._last: tuple[np.ndarray, np.ndarray, list] | None = None
        self._own_values = np.zeros(len(self.parameters))  # when .data is read, it goes here
        self._own_grads = np.zeros(len(self.parameters))

    def __repr__(self) -> str:
        return (
            f"Tape({self.n_inputs} inputs, {self.n_outputs} outputs, {len(self.parameters)} "
            f"parameters, {self.n_rows - len(self._ones_rows)} nodes in {len(self.groups)} groups)"
        )

    def __call__(self, X=None, params: np.ndarray | None = None) -> np.ndarray:
        """Outputs for every row of X (samples x inputs): shape (batch,) or (batch, outputs).

        ``params``: the parameters' numbers as an array in ``self.parameters`` order, read
        instead of their ``.data`` (and again by the backward pass: keep it unchanged until
        then).
        """
        X = self._check_inputs(X)
        self._last = None  # until this call succeeds: backward must not use a half-made batch
        values = self._parameter_values(params)
        V, G, scratch = self._arrays(X.shape[0])
        V[self._input_rows] = X.T
        self._params.values = values  # the groups read it from here (no copy)
        if self._has_param_rows:
            V[self._param_rows] = values[self._row_params, None]
        with np.errstate(divide="raise", invalid="raise", over="raise"):
            for group in self.groups:
                try:
                    group.forward(V)
                except (FloatingPointError, ValueError, ZeroDivisionError) as exc:
                    raise _replay_error(group, "forward", exc, V) from None
        self._last = (V, G, scratch)
        # the gather is a new array: its transpose, without a second copy (7k instructions)
        out = V[self._output_rows].T
        return out[:, 0] if self.n_outputs == 1 else out

    def backward(self, grad_outputs=None, reduction: str = "sum") -> None:
        """Add d(sum over samples of grad_outputs * outputs)/d(parameter) to each ``.grad``.

        ``grad_outputs``: weights per sample (batch,) or per sample and output (batch, outputs);
        default 1.  ``reduction="mean"`` divides by the batch size.  A ``.grad`` of None
        counts as 0, as in the eager engine.  If the pass fails, no ``.grad`` changes.
        """
        totals = self.gradients(grad_outputs, reduction, out=self._own_grads)
        write(self.parameters, grad=read_grads(self.parameters) + totals)

    def gradients(
        self, grad_outputs=None, reduction: str = "sum", out: np.ndarray | None = None
    ) -> np.ndarray:
        """What ``backward`` would add to the parameters' ``.grad``, as an array in
        ``self.parameters`` order; no Value changes.  ``out``: an array to write it into."""
        if self._last is None:
            raise RuntimeError("Tape.backward() needs a forward call first: tape(X)")
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        totals = np.zeros(len(self.parameters)) if out is None else out
        if totals.shape != (len(self.parameters),):
            raise ValueError(
                f"out has shape {totals.shape}; expected ({len(self.parameters)},), one number "
                "per parameter"
            )
        V, G, scratch = self._last
        batch = V.shape[1]
        # Only the rows backward touches (209 of 363 for the 16-64-64-10 network): its
        # backward over 1000 samples went from 1120 to 1030 us (CPU time, medians of 3).
        for rows in self._zero_rows:
            G[rows] = 0.0
        totals.fill(0.0)
        self._params.grads = totals  # dense layers add their batch-summed gradients here
        seeds = self._seeds(grad_outputs, batch)
        if self._outputs_distinct:
            G[self._output_rows] = seeds
        else:
            np.add.at(G, self._output_rows, seeds)  # add: fn may return one Value twice
        with np.errstate(divide="raise", invalid="raise", over="raise"):
            for group, group_scratch in zip(reversed(self.groups), reversed(scratch), strict=True):
                if group.routes:
                    try:
                        group.backward(V, G, group_scratch)
                    except (FloatingPointError, ValueError, ZeroDivisionError) as exc:
                        raise _replay_error(group, "backward", exc) from None
        if self._has_param_rows:
            totals[self._row_params] += G[self._param_rows].sum(axis=1)
        if reduction == "mean":
            totals /= batch
        return totals

    def _seeds(self, grad_outputs, batch: int) -> np.ndarray:
        """grad_outputs as (outputs x batch)."""
        if type(grad_outputs) is np.ndarray and grad_outputs.shape == (batch, self.n_outputs):
            return grad_outputs.T
        seeds = 1.0 if grad_outputs is None else np.asarray(grad_outputs, dtype=float)
        if np.ndim(seeds) == 1 and len(seeds) == batch:  # one weight per sample
            seeds = seeds[:, None]
        try:
            return np.broadcast_to(seeds, (batch, self.n_outputs)).T
        except ValueError:
            raise ValueError(
                f"grad_outputs of shape {np.shape(grad_outputs)} does not fit "
                f"{batch} samples x {self.n_outputs} outputs"
            ) from None

    def _parameter_values(self, params) -> np.ndarray:
        """The parameters' numbers: ``params`` checked, or every ``.data`` read."""
        if params is None:
            return read_data(self.parameters, out=self._own_values)
        if not isinstance(params, np.ndarray) or params.dtype != np.float64:
            params = np.asarray(params, dtype=float)
        if params.shape != (len(self.parameters),):
            raise ValueError(
                f"params has shape {params.shape}; expected ({len(self.parameters)},), one "
                "number per parameter in tape.parameters order"
            )
        return params

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
            V[self._ones_rows] = 1.0
            scratch = [group.scratch(batch) for group in self.groups]
            self._buffers[batch] = (V, np.zeros_like(V), scratch)
        return self._buffers[batch]


def _parameter_order(given: Sequence[Value] | None, found: list[Value]) -> list[Value]:
    """``given`` first (each once, in order), then the other parameters ``fn`` closed over."""
    if given is None:
        return found
    for i, p in enumerate(given):
        if type(p) is Value and p._prim is None:
            continue  # a plain leaf, the usual case, in one test (the demo's 337: 62 -> 20 us)
        if not isinstance(p, Value) or isinstance(p, (Constant, TracedValue)):
            raise TypeError(
                f"parameters[{i}] is {type(p).__name__}; expected a leaf Value (a parameter)"
            )
        if not p.is_leaf:
            raise TypeError(f"parameters[{i}] is the result of {p.op}, not a leaf Value")
    order: dict[Value, None] = dict.fromkeys(given)
    order.update(dict.fromkeys(found))
    return list(order)


def _replay_error(group: Group, phase: str, exc: Exception, V=None) -> Exception:
    # forward of one primitive: name the first sample and its operands, as eager names them
    where = _first_bad_sample(group, V) if V is not None and isinstance(group, OpGroup) else ""
    if isinstance(exc, FloatingPointError) and "overflow" in str(exc):  # as eager: OverflowError
        return OverflowError(
            f"{phase} of the traced graph: {group.name} over the batch: the result overflows a "
            f"float{where}"
        )
    return type(exc)(
        f"{phase} of the traced graph: {group.name} over the batch failed{where}: {exc}"
    )


def _first_bad_sample(group: OpGroup, V: np.ndarray) -> str:
    """` at sample 3: mul(1e+200, 1e+200)`: the first member and sample whose result is not
    finite although its operands are (an overflow, log(-1.0), a division by 0)."""
    operands = [V[rows] for rows in group.operands]
    try:
        with np.errstate(all="ignore"):
            out = group.prim.apply_arrays(*operands)
    except (ArithmeticError, ValueError):  # a forward that checks its domain itself (pow)
        return ""
    bad = ~np.isfinite(out) & np.logical_and.reduce([np.isfinite(o) for o in operands])
    if not bad.any():
        return ""
    member, sample = np.argwhere(bad)[0]
    numbers = ", ".join(repr(float(o[member, sample])) for o in operands)
    return f" at sample {sample}: {group.prim.name}({numbers})"
