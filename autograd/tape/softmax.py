"""Log-softmax on the tape: ``out_i = (x_i - m) - log sum_k e^(x_k - m)`` over K rows as one group.

``nn.functional.log_softmax`` records, for K inputs, a running maximum (K - 1 links
``m + relu(x - m)``, each on the one before, so 3 (K - 1) groups of one node on as many
levels), K shifts, K exps, a K-term sum, a log and K subtractions: for 10 classes 32 of the
38 groups of a 16-64-64-10 network, each a numpy call or three on 1000 numbers.  When the
graph holds exactly that pattern, and nothing outside it reads its inner nodes, it runs as::

    forward   m = max_k x_k;  Z = X - m;  out = Z - log sum_k e^Z
    backward  dX = dOut - softmax * sum_i dOut_i,  softmax = e^out = e^Z / sum_k e^Z_k

As one group it took the 16-64-64-10 network's training step over 1000 samples from 1.87 to
1.45 ms (CPU time, medians of 2; forward 730 -> 550 us, backward 1010 -> 830 us).

The maximum is only a shift (out does not depend on it; its gradient is 0), so the exact
maximum stands in for the running one, which equals it up to rounding.  Anything else (a
softmax, a shift used elsewhere) takes the general path.
"""

from __future__ import annotations

import numpy as np

from .. import primitives as P
from ..value import Value
from .groups import Group, Route, Rows


class LogSoftmaxGroup(Group):
    """One log-softmax over K input rows; the outputs that were recorded get rows."""

    name = "log_softmax"

    def __init__(
        self, out: Rows, inputs: Rows, present: np.ndarray | None, input_route: Route | None
    ) -> None:
        super().__init__(out)
        self.inputs = inputs
        self.present = present  # which of the K outputs have rows (None: all of them)
        self.routes = [input_route] if input_route is not None else []

    def forward(self, V: np.ndarray) -> None:
        X = V[self.inputs]
        Z = X - X.max(axis=0)
        E = np.exp(Z)
        total = E.sum(axis=0)
        if self.present is None and isinstance(self.out, slice):
            np.subtract(Z, np.log(total), out=V[self.out])  # into V's rows, no copy
        else:
            out = Z - np.log(total)
            V[self.out] = out if self.present is None else out[self.present]
        # for backward (K x batch, small): e^out = e^Z / total, a division instead of a
        # second exp, written into E; with the line above, 10 classes over 1000 samples
        # 34 -> 30 us (timeit, medians)
        E /= total
        self._softmax = E

    def backward(self, V: np.ndarray, G: np.ndarray, scratch: list) -> None:
        g = G[self.out]
        if self.present is not None:  # outputs no one reads have gradient 0
            full = np.zeros_like(self._softmax)
            full[self.present] = g
            g = full
        (route,) = self.routes
        route.add(G, g - self._softmax * g.sum(axis=0))

    def scratch(self, batch: int) -> list[np.ndarray | None]:
        return []


def log_softmax_unit(log: Value, terms_of, uses, outputs: set) -> tuple | None:
    """(inputs x_k, outputs out_i or None where unread, inner nodes) if ``log`` is the log
    of nn's log-softmax
    pattern and nothing outside the pattern reads its inner nodes; else None.

    ``terms_of(node)`` gives an add node's fused terms (None if it is no sum root);
    ``uses[node]`` the nodes that read node.
    """
    (total,) = log.parents
    exps = terms_of(total)
    if not exps or any(e._prim is not P.EXP for e in exps):
        return None
    shifts = [e._a for e in exps]
    if any(z._prim is not P.SUB for z in shifts):
        return None
    m = shifts[0]._b
    xs = [z._a for z in shifts]
    if any(z._b is not m for z in shifts):
        return None
    chain = _running_max(m, xs, uses)
    if chain is None:
        return None
    outs: list[Value | None] = []  # None: an output no one reads (so it was not recorded)
    for z, e in zip(shifts, exps, strict=True):
        others = [u for u in uses[z] if u is not e]  # z feeds its exp and at most one sub
        if len(uses[z]) != 1 + len(others) or len(others) > 1:
            return None
        out = others[0] if others else None
        if out is not None and (out._prim is not P.SUB or out._a is not z or out._b is not log):
            return None
        outs.append(out)
    inner = [*chain, *shifts, *exps, total, log]
    if (
        len(uses[log]) != sum(out is not None for out in outs)
        or any(len(uses[n]) != 1 for n in [*exps, total])
        or (chain and len(uses[m]) != len(shifts))  # the maximum shifts the K inputs only
        or any(n in outputs for n in inner)
    ):
        return None
    return xs, outs, inner


def _running_max(m: Value, xs: list[Value], uses) -> list[Value] | None:
    """The nodes of m = running max of xs (m_k = m_(k-1) + relu(x_k - m_(k-1)), m_0 = x_0),
    each read only by the next link, or None if m is not that chain."""
    nodes = []
    for k in range(len(xs) - 1, 0, -1):
        if m._prim is not P.ADD:
            return None
        previous, r = m._a, m._b
        if r._prim is not P.RELU or r._a._prim is not P.SUB:
            return None
        d = r._a
        if d._a is not xs[k] or d._b is not previous:
            return None
        if len(uses[r]) != 1 or len(uses[d]) != 1:
            return None
        if k > 1 and len(uses[previous]) != 2:  # read by this link's sub and add only
            return None
        nodes += [m, r, d]
        m = previous
    return nodes if m is xs[0] else None
