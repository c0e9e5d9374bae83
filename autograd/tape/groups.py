"""The kinds of group a tape runs: one numpy call forward and one backward per group.

A group is a set of nodes on one level that do the same thing, stored as rows of the tape's
value array ``V`` and gradient array ``G`` (nodes x batch).  Two kinds:

* ``OpGroup``: nodes of one primitive; forward and rule are the primitive's own, on arrays.
* ``SumGroup``: fused n-ary sums (``sum(w_i * x_i)``, see ``schedule.py``); its derivative sends
  the upstream gradient to every term.

``Route`` adds one operand slot's gradients into ``G``, summing first where several members
share an operand (numpy's fancy-index ``+=`` would drop the repeats).
"""

from __future__ import annotations

import numpy as np

from ..primitives import Primitive

# Work on at most this many floats per numpy call (64 KiB).  Larger temporaries are served by
# mmap in glibc and handed back on free, so each step would page-fault them in again; a big
# group (a dense layer's 256 products) therefore runs in chunks of members, writing into
# arrays the tape keeps.
CHUNK_FLOATS = 8192

Rows = slice | np.ndarray  # row indices: a slice where the rows are consecutive (a view)


class Group:
    """Nodes on one level that run as one numpy call; ``routes`` say where gradients go."""

    name: str  # for error messages: the primitive's name, or "sum"

    def __init__(self, out: Rows) -> None:
        self.out = out  # rows written by this group
        self.n_members = length(out)
        self.routes: list[Route | None] = []  # per operand slot; None: needs no gradient

    def forward(self, V: np.ndarray) -> None:
        """Compute this group's rows of V from its operands' rows."""
        raise NotImplementedError

    def backward(self, V: np.ndarray, G: np.ndarray, scratch: list) -> None:
        """Route this group's gradients to its operands' rows of G; scratch holds one
        (operand rows x batch) array per slot that needs a gradient, reused from step to step."""
        raise NotImplementedError

    def scratch(self, batch: int) -> list[np.ndarray | None]:
        """The arrays backward needs for a batch of this size (allocated once per size)."""
        raise NotImplementedError

    def gradient_rows(self) -> Rows:
        """The rows of G backward reads: the gradient arriving at this group's outputs."""
        return self.out


class OpGroup(Group):
    """Nodes of one primitive: its array forward and its rule, run on (members x batch) rows."""

    def __init__(self, prim: Primitive, out: Rows, operands: list[Rows]) -> None:
        super().__init__(out)
        self.prim = prim
        self.name = prim.name
        self.operands = operands  # one row array per operand slot

    def forward(self, V: np.ndarray) -> None:
        if self.n_members * V.shape[1] <= CHUNK_FLOATS:
            # one call, no chunk list or row arithmetic: most groups are this small; with the
            # same path in backward it took the demo's step from 116 to 105 us (CPU time,
            # medians of 3: forward 36 -> 31, backward 54 -> 50)
            V[self.out] = self.prim.apply_arrays(*[V[rows] for rows in self.operands])
            return
        for lo, hi in chunks(self.n_members, V.shape[1]):
            V[part(self.out, lo, hi)] = self.prim.apply_arrays(
                *[V[part(rows, lo, hi)] for rows in self.operands]
            )

    def backward(self, V: np.ndarray, G: np.ndarray, scratch: list) -> None:
        if self.n_members * V.shape[1] <= CHUNK_FLOATS:
            # one call; the local gradients go straight to their routes (no copy to scratch)
            shape = (self.n_members, V.shape[1])
            local = self.prim.vjp(G[self.out], V[self.out], *[V[rows] for rows in self.operands])
            for route, grad in zip(self.routes, local, strict=True):
                if route is not None:
                    if type(grad) is not np.ndarray or grad.shape != shape:
                        grad = np.broadcast_to(grad, shape)  # a rule may give a scalar
                    route.add(G, grad)
            return
        for lo, hi in chunks(self.n_members, V.shape[1]):
            local = self.prim.vjp(
                G[part(self.out, lo, hi)],
                V[part(self.out, lo, hi)],
                *[V[part(rows, lo, hi)] for rows in self.operands],
            )
            for slot, (route, grad) in enumerate(zip(self.routes, local, strict=True)):
                if route is not None:
                    scratch[slot][lo:hi] = grad  # broadcasts a scalar such as 0.0
        for slot, route in enumerate(self.routes):
            if route is not None:
                route.add(G, scratch[slot])

    def scratch(self, batch: int) -> list[np.ndarray | None]:
        return [
            None if route is None else np.empty((self.n_members, batch)) for route in self.routes
        ]


class SumGroup(Group):
    """Fused n-ary sums: output k adds its terms, which sit consecutively in one row array."""

    name = "sum"

    def __init__(self, out: Rows, terms: Rows, terms_per_out: np.ndarray) -> None:
        super().__init__(out)
        self.terms = terms  # every output's terms, flattened
        self.starts = np.concatenate(([0], np.cumsum(terms_per_out)[:-1]))
        # for every term, the output it adds into: its gradient is that output's
        self.owner = np.repeat(np.arange(len(terms_per_out)), terms_per_out)
        # One sum of two rows (``1 + m`` in a hinge loss, a bias plus one product): one
        # np.add into the output row instead of a gather and reduceat; 3.5 -> 0.7 us forward
        # (timeit, 100 samples).
        single_pair = len(terms_per_out) == 1 and terms_per_out[0] == 2
        rows = np.arange(terms.start, terms.stop) if isinstance(terms, slice) else terms
        first_out = out.start if isinstance(out, slice) else int(out[0])
        self._pair = (int(rows[0]), int(rows[1]), first_out) if single_pair else None
        # One sum of many rows (a loss summed over classes): np.sum into the output row, not
        # reduceat and a copy; 10 rows of 1000 samples 15.4 -> 3.3 us (timeit, medians).
        self._single = first_out if len(terms_per_out) == 1 else None

    def forward(self, V: np.ndarray) -> None:
        if self._pair is not None:
            a, b, out = self._pair
            np.add(V[a], V[b], out=V[out])
            return
        if self._single is not None:
            np.sum(V[self.terms], axis=0, out=V[self._single])
            return
        V[self.out] = np.add.reduceat(V[self.terms], self.starts, axis=0)

    def backward(self, V: np.ndarray, G: np.ndarray, scratch: list) -> None:
        # d(sum)/d(term) = 1: each term gets its output's gradient
        (route,) = self.routes
        if self.n_members == 1 and route.distinct:
            # one output: its gradient row broadcasts over the terms' rows, no copy per term
            # (3.3 -> 1.3 us, timeit, 100 samples)
            route.add_to_each(G, G[self.out])
            return
        np.take(G[self.out], self.owner, axis=0, out=scratch[0])
        route.add(G, scratch[0])

    def scratch(self, batch: int) -> list[np.ndarray | None]:
        return [np.empty((len(self.owner), batch))] if self.routes else []


class Route:
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
        self.distinct = len(unique) == len(targets)  # no two members share an operand
        if len(unique) == len(targets):
            self.rows = index(targets.tolist())
            return
        self.rows = index(unique.tolist())
        repeats, width = len(targets) // len(unique), len(unique)
        if np.array_equal(targets, np.tile(unique, repeats)) and isinstance(self.rows, slice):
            self.tiles = (repeats, width)
        else:
            self.order = np.argsort(inverse, kind="stable")
            self.starts = np.concatenate(([0], np.cumsum(counts)[:-1]))

    def add_to_each(self, G: np.ndarray, grad: np.ndarray) -> None:
        """Add one gradient row (1 x batch) to every needing member's operand row; only when
        they are distinct."""
        G[self.rows] += grad

    def add(self, G: np.ndarray, grad: np.ndarray) -> None:
        """Add grad (one row per member, from the group's scratch) to the operands' rows of G."""
        if self.select is not None:
            grad = grad[self.select]
        if self.tiles is not None:
            grad = grad.reshape(*self.tiles, G.shape[1]).sum(axis=0)
        elif self.order is not None:
            grad = np.add.reduceat(grad[self.order], self.starts, axis=0)
        G[self.rows] += grad


def index(rows: list[int]) -> Rows:
    """A slice when the rows are consecutive (a view, no copying), else an index array."""
    if rows and rows == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return np.array(rows, dtype=np.intp)


def length(rows: Rows) -> int:
    return rows.stop - rows.start if isinstance(rows, slice) else len(rows)


def chunks(n_members: int, batch: int) -> list[tuple[int, int]]:
    """(lo, hi) member ranges of at most CHUNK_FLOATS numbers each (one range if small)."""
    step = max(1, CHUNK_FLOATS // max(batch, 1))
    return [(lo, min(lo + step, n_members)) for lo in range(0, n_members, step)]


def part(rows: Rows, lo: int, hi: int) -> Rows:
    """Members lo..hi of a slice or an index array (a slice stays a slice: a view)."""
    if isinstance(rows, slice):
        return slice(rows.start + lo, rows.start + hi)
    return rows[lo:hi]
