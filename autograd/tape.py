"""Trace a scalar graph once, replay it over a whole batch with numpy.

The graph ``fn`` builds for one sample has the same shape for every sample, so ``trace``
records it once from placeholder inputs and compiles it into a ``Tape``.  Replaying the tape
on a batch gives every node a row of numbers (one per sample) instead of one float, and runs
the primitives' own forwards and derivative rules (``primitives.py``) on numpy arrays.

Compilation, in three steps:

1. *Sums are fused.*  ``sum(w_i * x_i)`` in Python is a chain of additions, as deep as it is
   long.  A chain (or tree) of ``add`` nodes whose inner nodes have no other use becomes one
   n-ary sum; its derivative sends the upstream gradient to every term.
2. *Levels.*  A node's level is one more than its deepest operand's (leaves: 0).  Nodes on one
   level do not depend on each other, so all nodes of a level with the same primitive form a
   group that runs as one numpy call on a (group size x batch) array.
3. *Gradient routing.*  Only nodes that depend on a parameter need a gradient; for each
   group the tape precomputes where its operands' gradients go (with repeated operands summed
   first, since numpy's fancy-index ``+=`` would drop repeats).

A ``Tape`` keeps one value array and one gradient array (nodes x batch), plus each group's
gradient scratch, and reuses them from step to step.  Groups of single ops run in chunks of at
most ``CHUNK_FLOATS`` numbers, so their temporaries (a dense layer's products and their
gradients) are small enough not to be mmapped anew every step.  Parameters are the leaves
``fn`` closed over: their current ``.data`` is read at every call, and ``backward`` adds the batch-summed (or averaged) gradient to their ``.grad``,
exactly what the eager engine would have accumulated.

Python control flow that depends on ``.data`` cannot be traced, and is refused rather than
frozen into the tape.  While ``fn`` is recorded, every Value computed from the placeholder
inputs is a ``TracedValue``: its number is one example, not the batch, so code outside the
engine may not look at it (``.data``, ``float(x)``, ``x > 0``, ``x == 1`` raise
``TracingError``), and a traced Value cut from the graph (made under ``no_grad``) is refused.
``fn`` is also recorded twice: two different graphs (randomness, state kept between calls)
are refused too.  What tracing cannot see: a parameter's number copied into the graph
(``x * w.data``) is frozen as a constant, as in ``torch.jit.trace``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from . import primitives as P
from .backward import topological_order
from .mode import enable_grad, state
from .value import Constant, TracedValue, TracingError, Value

_SUM = "sum"  # the fused n-ary addition


# Work on at most this many floats per numpy call (64 KiB).  Larger temporaries are served by
# mmap in glibc and handed back on free, so each step would page-fault them in again; a big
# group (a dense layer's 256 products) therefore runs in chunks of members, writing into
# arrays the tape keeps.
CHUNK_FLOATS = 8192


class _Group:
    """Nodes on one level that share a primitive: one numpy call forward, one backward."""

    def __init__(self, prim, out, operands, terms_per_out=None):
        # out and operands are row indices: slices where the rows are consecutive
        self.prim = prim  # a Primitive, or _SUM
        self.out = out  # rows written by this group
        self.operands = operands  # one row array per operand slot (_SUM: the flattened terms)
        self.terms_per_out = terms_per_out  # _SUM only: how many terms each output has
        if prim is _SUM:
            self.starts = np.concatenate(([0], np.cumsum(terms_per_out)[:-1]))
            # for every term, the output it adds into: its gradient is that output's
            self.owner = np.repeat(np.arange(len(terms_per_out)), terms_per_out)
        self.n_members = _length(out)
        self.routes: list[_Route | None] = []  # per operand slot; None: needs no gradient

    def forward(self, V: np.ndarray) -> None:
        if self.prim is _SUM:
            V[self.out] = np.add.reduceat(V[self.operands[0]], self.starts, axis=0)
            return
        for lo, hi in _chunks(self.n_members, V.shape[1]):
            V[_part(self.out, lo, hi)] = self.prim.apply_arrays(
                *[V[_part(rows, lo, hi)] for rows in self.operands]
            )

    def backward(self, V: np.ndarray, G: np.ndarray, scratch: list[np.ndarray]) -> None:
        """Route this group's gradients to its operands' rows of G; scratch holds one
        (operand rows x batch) array per slot that needs a gradient, reused from step to step."""
        if self.prim is _SUM:  # d(sum)/d(term) = 1: each term gets its output's gradient
            (route,) = self.routes
            np.take(G[self.out], self.owner, axis=0, out=scratch[0])
            route.add(G, scratch[0])
            return
        for lo, hi in _chunks(self.n_members, V.shape[1]):
            local = self.prim.vjp(
                G[_part(self.out, lo, hi)],
                V[_part(self.out, lo, hi)],
                *[V[_part(rows, lo, hi)] for rows in self.operands],
            )
            for slot, (route, grad) in enumerate(zip(self.routes, local, strict=True)):
                if route is not None:
                    scratch[slot][lo:hi] = grad  # broadcasts a scalar such as 0.0
        for slot, route in enumerate(self.routes):
            if route is not None:
                route.add(G, scratch[slot])

    def scratch(self, batch: int) -> list[np.ndarray | None]:
        """The arrays backward needs for a batch of this size (allocated once per size)."""
        if self.prim is _SUM:
            return [np.empty((len(self.owner), batch))] if self.routes else []
        return [
            None if route is None else np.empty((self.n_members, batch)) for route in self.routes
        ]


def _length(rows) -> int:
    return rows.stop - rows.start if isinstance(rows, slice) else len(rows)


def _chunks(n_members: int, batch: int) -> list[tuple[int, int]]:
    """(lo, hi) member ranges of at most CHUNK_FLOATS numbers each (one range if small)."""
    step = max(1, CHUNK_FLOATS // max(batch, 1))
    return [(lo, min(lo + step, n_members)) for lo in range(0, n_members, step)]


def _part(rows, lo: int, hi: int):
    """Members lo..hi of a slice or an index array (a slice stays a slice: a view)."""
    if isinstance(rows, slice):
        return slice(rows.start + lo, rows.start + hi)
    return rows[lo:hi]


class _Route:
    """Adds an operand slot's gradients (one row per group member) into the gradient array.

    Members whose operand needs no gradient are dropped first.  Where several members share
    an operand (a hidden unit feeding every neuron of the next layer), their gradients are
    summed before the add; a dense layer's pattern (rows r0..r(m-1) repeated n times) is
    summed with a reshape, any other by sorting and ``reduceat``.
    """

    def __init__(self, rows: np.ndarray, needed: np.ndarray):
        self.n_members = len(rows)
        self.select = None if needed.all() else np.flatnonzero(needed)
        targets = rows if self.select is None else rows[self.select]
        unique, inverse, counts = np.unique(targets, return_inverse=True, return_counts=True)
        self.tiles = self.order = self.starts = None
        if len(unique) == len(targets):
            self.rows = _index(targets.tolist())
            return
        self.rows = _index(unique.tolist())
        repeats, width = len(targets) // len(unique), len(unique)
        if np.array_equal(targets, np.tile(unique, repeats)) and isinstance(self.rows, slice):
            self.tiles = (repeats, width)
        else:
            self.order = np.argsort(inverse, kind="stable")
            self.starts = np.concatenate(([0], np.cumsum(counts)[:-1]))

    def add(self, G: np.ndarray, grad: np.ndarray) -> None:
        """Add grad (one row per member, from the group's scratch) to the operands' rows of G."""
        if self.select is not None:
            grad = grad[self.select]
        if self.tiles is not None:
            grad = grad.reshape(*self.tiles, G.shape[1]).sum(axis=0)
        elif self.order is not None:
            grad = np.add.reduceat(grad[self.order], self.starts, axis=0)
        G[self.rows] += grad


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
        constants = [n for n in leaves if type(n) is Constant]
        schedule = _schedule(order, outputs, set(self.parameters))
        row = _assign_rows(schedule, leaves)
        self.n_rows = len(row)
        self.groups = [_build_group(entry, row) for entry in schedule]
        self._input_rows = _index([row[p] for p in placeholders])
        self._param_rows = _index([row[p] for p in self.parameters])
        self._const_rows = _index([row[n] for n in constants])
        self._const_values = np.array([n.data for n in constants])
        self._output_rows = np.array([row[o] for o in outputs], dtype=np.intp)
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
        V[self._param_rows] = np.array([p.data for p in self.parameters])[:, None]
        with np.errstate(divide="raise", invalid="raise", over="raise"):
            for group in self.groups:
                try:
                    group.forward(V)
                except (FloatingPointError, ValueError, ZeroDivisionError) as exc:
                    raise _replay_error(group, "forward", exc) from None
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
        totals = G[self._param_rows].sum(axis=1)
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


def _fused_adds(order: list[Value], outputs: list[Value]) -> set[Value]:
    """Inner nodes of add trees: adds used exactly once, by another add, and not outputs."""
    uses: dict[Value, list[Value]] = {n: [] for n in order}
    for node in order:
        for parent in node.parents:
            uses[parent].append(node)
    output_set = set(outputs)
    return {
        n
        for n in order
        if n._prim is P.ADD
        and n not in output_set
        and len(uses[n]) == 1
        and uses[n][0]._prim is P.ADD
    }


def _sum_terms(root: Value, fused: set[Value]) -> list[Value]:
    """The terms of the fused sum rooted at `root`, left to right (as the adds ran)."""
    terms, stack = [], [root]
    while stack:
        node = stack.pop()
        if node is root or node in fused:
            stack.extend(reversed(node.parents))
        else:
            terms.append(node)
    return terms


class _Entry:
    """A group before it has rows: its primitive, member nodes, operands and gradient needs."""

    def __init__(self, prim):
        self.prim = prim
        self.nodes: list[Value] = []
        self.operands: list[list[Value]] = []  # per member
        self.needs_grad: list[bool] = []  # per member


def _schedule(order, outputs, parameters: set[Value]) -> list[_Entry]:
    """Fuse sums, give every op node a level and group it with same-op nodes on its level."""
    fused = _fused_adds(order, outputs)
    level: dict[Value, int] = {}
    needs_grad: dict[Value, bool] = {}
    entries: dict[tuple[int, str], _Entry] = {}
    for node in order:
        if node in fused:
            continue
        if node.is_leaf:
            level[node], needs_grad[node] = 0, node in parameters
            continue
        if node._prim is P.ADD:
            prim, operands = _SUM, _sum_terms(node, fused)
        else:
            prim, operands = node._prim, list(node.parents)
        level[node] = 1 + max(level[o] for o in operands)
        needs_grad[node] = any(needs_grad[o] for o in operands)
        entry = entries.setdefault((level[node], _prim_name(prim)), _Entry(prim))
        entry.nodes.append(node)
        entry.operands.append(operands)
        entry.needs_grad.append(needs_grad[node])
    schedule = [entries[key] for key in sorted(entries)]
    for entry in schedule:  # which operands need a gradient, member by member
        entry.operand_needs = [
            [needs_grad[o] and member_needs for o in operands]
            for operands, member_needs in zip(entry.operands, entry.needs_grad, strict=True)
        ]
    return schedule


def _assign_rows(schedule: list[_Entry], leaves: list[Value]) -> dict[Value, int]:
    """Rows in order of first use, so a group's outputs, and often its operands, are contiguous
    (numpy then works on slices, which are views, instead of gathering rows)."""
    row: dict[Value, int] = {}
    for entry in schedule:
        for slot in _slots(entry):
            for node in slot:
                if node not in row:
                    row[node] = len(row)
        for node in entry.nodes:
            row[node] = len(row)
    for leaf in leaves:  # leaves no op uses (an output that is an input, say)
        if leaf not in row:
            row[leaf] = len(row)
    return row


def _slots(entry: _Entry) -> list[list[Value]]:
    """Operands by slot: for a sum, all terms in one slot; else slot i = every member's i-th."""
    if entry.prim is _SUM:
        return [[t for operands in entry.operands for t in operands]]
    return [[operands[i] for operands in entry.operands] for i in range(entry.prim.arity)]


def _build_group(entry: _Entry, row: dict[Value, int]) -> _Group:
    slots = _slots(entry)
    if entry.prim is _SUM:
        needs = [[n for needs in entry.operand_needs for n in needs]]
        counts = np.array([len(operands) for operands in entry.operands])
    else:
        needs = [[needs[i] for needs in entry.operand_needs] for i in range(len(slots))]
        counts = None
    group = _Group(
        entry.prim,
        _index([row[n] for n in entry.nodes]),
        [_index([row[v] for v in slot]) for slot in slots],
        terms_per_out=counts,
    )
    for slot, slot_needs in zip(slots, needs, strict=True):
        needed = np.array(slot_needs, dtype=bool)
        rows = np.array([row[v] for v in slot], dtype=np.intp)
        group.routes.append(_Route(rows, needed) if needed.any() else None)
    if not any(group.routes):
        group.routes = []  # nothing upstream needs a gradient: backward skips the group
    return group


def _index(rows: list[int]):
    """A slice when the rows are consecutive (a view, no copying), else an index array."""
    if rows and rows == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return np.array(rows, dtype=np.intp)


def _prim_name(prim) -> str:
    return prim if isinstance(prim, str) else prim.name


def _replay_error(group: _Group, phase: str, exc: Exception) -> Exception:
    name = _prim_name(group.prim)
    return type(exc)(f"{phase} of the traced graph: {name} over the batch failed: {exc}")


# ---- tracing --------------------------------------------------------------------------------


def _record_graph(fn: Callable, values: Sequence[float]) -> tuple[list[Value], list[Value]]:
    placeholders = [TracedValue(v, label=f"x{i}") for i, v in enumerate(values)]
    previous = state.tracing
    state.tracing = True
    try:
        with enable_grad():
            result = fn(*placeholders)
    finally:
        state.tracing = previous
    outputs = list(result) if isinstance(result, (list, tuple)) else [result]
    for i, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise TracingError(
                f"fn must return a Value or a list of Values; output {i} is {type(out).__name__}"
            )
    return outputs, placeholders


def _signature(outputs: list[Value], placeholders: list[Value]) -> list[tuple]:
    """The graph's shape: ops and wiring by position, blind to the numbers flowing through."""
    order = topological_order(outputs)
    index = {n: i for i, n in enumerate(order)}
    placeholder_index = {p: i for i, p in enumerate(placeholders)}
    return [
        (
            n.op,
            tuple(index[p] for p in n.parents),
            placeholder_index.get(n, -1),
            n.data if type(n) is Constant else None,
        )
        for n in order
    ] + [tuple(index[o] for o in outputs)]


def trace(
    fn: Callable[..., Value | Sequence[Value]],
    n_inputs: int,
    example: Sequence[float] | None = None,
) -> Tape:
    """Record the graph ``fn(x_0, ..., x_{n-1})`` builds and compile it into a ``Tape``.

    ``fn`` takes ``n_inputs`` Values and returns a Value or a list of Values; the leaves it
    closes over (e.g. a model's parameters) become the tape's parameters.  ``example`` gives
    placeholder values (one sample, in the domain of every op); otherwise random values in
    [0.5, 1.5] are used.  Raises ``TracingError`` if ``fn``'s graph depends on the data.
    """
    if not isinstance(n_inputs, int) or n_inputs < 0:
        raise ValueError(f"n_inputs must be a non-negative int, got {n_inputs!r}")
    rng = random.Random(0)
    first = (
        list(example) if example is not None else [rng.uniform(0.5, 1.5) for _ in range(n_inputs)]
    )
    if len(first) != n_inputs:
        raise ValueError(f"example has {len(first)} values for {n_inputs} inputs")
    outputs, placeholders = _record_graph(fn, first)
    again = _record_graph(fn, first)
    if _signature(outputs, placeholders) != _signature(*again):
        raise TracingError(
            "fn built two different graphs from the same inputs (randomness, or state kept "
            "between calls), so one trace cannot stand for every call; use the eager engine"
        )
    return Tape(outputs, placeholders)
