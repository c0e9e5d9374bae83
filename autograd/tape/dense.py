"""Dense layers on the tape: ``b_k + sum_j W[k][j] * x_j`` for every unit k as one matrix product.

A neuron traced from ``sum(w_j * x_j for j) + b`` is a fused sum (``schedule.py``) of products
of a parameter and an input.  Run as recorded, the tape materialises every product over the
batch (units x inputs x batch floats per layer: 4M for a 64-wide layer on 1000 samples) and
routes each product's gradient separately.  When every neuron of a layer sums the products of
its own parameters with the *same* inputs, in the same order, the layer is a matrix product:

    forward   Z = W @ X + b             W: units x inputs, X: inputs x batch
    backward  dX = W.T @ dZ              (into the inputs' gradient rows, if they need one)
              dW = dZ @ X.T, db = dZ summed over the batch

``DenseGroup`` runs that.  It reads the weights and biases from ``ParameterArrays`` (one number
per parameter, not a row per parameter: a 2-64-64-1 MLP has 4,417 parameters, and rows of them
over 1000 samples were 35 MB written, zeroed and summed every step) and adds its batch-summed
dW and db there.  Measured on issue 17's workloads in benchmarks/RESULTS.md.

An activation that every unit of the layer feeds, and only it (``relu(z_k)`` for each k), runs
in the same group: ``A = act(W @ X + b)`` forward, ``dZ = act's rule(dA)`` first backward.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..primitives import RELU, Primitive
from .groups import Group, Route, Rows, index


class OnesRow:
    """The key of a row of ones in the tape's row numbering (no Value of the graph)."""


class ParameterArrays:
    """The tape's parameters as two vectors, set by ``Tape`` on every call: their ``.data``
    (``values``) and the gradient the dense layers add up over the batch (``grads``)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.values = np.zeros(n)
        self.grads = np.zeros(n)


def parameter_block(weights: np.ndarray, biases: np.ndarray | None, n: int) -> tuple | None:
    """(start, stride) when a layer's parameters are the rows of one block of the n-vector
    (unit k's weights, then its bias, at start + k * stride: how ``nn`` lists a layer's
    parameters), else None.  Then W and b are views of the vector, not gathered copies."""
    units, n_in = weights.shape
    width = n_in + (biases is not None)
    start = int(weights[0, 0])
    stride = int(weights[1, 0]) - start if units > 1 else width
    if stride < width or start < 0 or start + stride * units > n:
        return None
    expected = start + stride * np.arange(units)[:, None] + np.arange(width)
    given = weights if biases is None else np.column_stack([weights, biases])
    return (start, stride) if np.array_equal(given, expected) else None


class _BlockViews:
    """A layer's block of a parameter vector as views: ``Wb`` (units x inputs, then the bias
    column), ``W`` and ``b``; made again only when the vector is another array (``nn.fit``
    passes the same one every step)."""

    def __init__(self, block: tuple, units: int, n_in: int, bias: bool) -> None:
        self.start, self.stride = block
        self.units, self.n_in, self.width = units, n_in, n_in + bias
        self.of = None

    def views(self, vector: np.ndarray) -> _BlockViews:
        if vector is not self.of:
            rows = vector[self.start : self.start + self.stride * self.units]
            rows = rows.reshape(self.units, self.stride)
            self.Wb, self.W = rows[:, : self.width], rows[:, : self.n_in]
            self.b = rows[:, self.n_in] if self.width > self.n_in else None
            self.of = vector
        return self


class DenseGroup(Group):
    """Units that each sum (their own parameter) x (a shared input row), plus a bias, and
    optionally an activation applied to every unit (``relu(W @ X + b)``)."""

    def __init__(
        self,
        out: Rows,
        inputs: Rows,
        weights: np.ndarray,
        biases: np.ndarray | None,
        input_route: Route | None,
        params: ParameterArrays,
        activation: tuple[Primitive, Rows] | None = None,
    ) -> None:
        super().__init__(out)
        self.inputs = inputs  # n_in rows of V: the layer's inputs, shared by every unit
        self.weights = weights  # (units, n_in): indices into params of the weight parameters
        self.biases = biases  # (units,): indices into params of the biases, or None
        self.params = params
        # only the inputs' gradient goes through a Route (into G); the parameters' into params
        self.routes = [input_route, True]
        self.assign_inputs = False  # set by the schedule: write the inputs' rows of G, not add
        self.ones_follow = False  # set by the schedule: V's row after the inputs holds ones
        # The activation's nodes, fused in: one group call instead of two each way, and the
        # units' own gradient rows are never written or read.
        self.activation = activation[0] if activation is not None else None
        self.act_out = activation[1] if activation is not None else None
        self.name = "dense" if activation is None else f"dense+{self.activation.name}"
        # relu's forward written out where its rows are a slice: np.maximum straight into
        # V's rows, not a new array copied there (the table's array forward is the same
        # np.maximum): on (64 x 1000) rows 42 -> 30 us (timeit, medians).  The backward
        # keeps the table's rule: dA * (Z > 0) written out the same way measured no faster.
        self._relu = self.activation is RELU and isinstance(self.act_out, slice)
        self._W = None  # the weights the forward pass used, for the backward pass
        self._X = None  # the inputs it used (with a row of ones: see below)
        # Where the layout allows (always for nn's layers: unit k's weights, then its bias),
        # W and b are views of the parameter vectors, and the inputs get a row of ones, so
        # that one product does the bias too: Z = [W b] @ [X; 1] forward, d[W b] += dZ @ [X; 1].T
        # backward.  Against gathering W and b, adding b, and scattering dW and db (a sum
        # over the batch), this took the demo's step (MLP 2-16-16-1, 100 samples) from
        # 101 to 88 us (timeit, min of 9 x 500; the three dense groups' backward 28 -> 20 us,
        # forward 16 -> 12 us).
        block = parameter_block(weights, biases, params.n)
        units, n_in = weights.shape
        bias = biases is not None
        self._values = None if block is None else _BlockViews(block, units, n_in, bias)
        self._grads = None if block is None else _BlockViews(block, units, n_in, bias)
        self._with_ones: dict[int, np.ndarray] = {}  # batch size -> (n_in + 1) x batch

    def _inputs_and_ones(self, V: np.ndarray) -> np.ndarray:
        """[X; 1]: this layer's input rows over the batch, then a row of ones."""
        if self.ones_follow:
            # the rows of V themselves, the schedule put a row of ones after them: no copy
            # of X a step (the 16-64-64-10 forward over 1000 samples 448 -> 423 us, timeit)
            return V[self.inputs.start : self.inputs.stop + 1]
        batch = V.shape[1]
        Xa = self._with_ones.get(batch)
        if Xa is None:
            if len(self._with_ones) >= 4:  # a few batch sizes at most, as the tape's arrays
                self._with_ones.pop(next(iter(self._with_ones)))
            Xa = self._with_ones[batch] = np.ones((self.weights.shape[1] + 1, batch))
        Xa[:-1] = V[self.inputs]
        return Xa

    def forward(self, V: np.ndarray) -> None:
        values = self.params.values
        b = None
        if self._values is None:  # gathered once per step and kept: the backward pass reuses it
            W = values[self.weights]
            b = values[self.biases] if self.biases is not None else None
            X = V[self.inputs]
        elif self.biases is not None:
            views = self._values.views(values)
            W, X = views.Wb, self._inputs_and_ones(V)
        else:
            W, X = self._values.views(values).W, V[self.inputs]
        self._W, self._X = W, X
        if isinstance(self.out, slice):
            # straight into V's rows, no (units x batch) temporary to fill and copy: the
            # 16-64-64-10 network's forward over 1000 samples 820 -> 785 us (CPU time,
            # medians of 3)
            Z = V[self.out]
            np.matmul(W, X, out=Z)
        else:
            Z = W @ X
        if b is not None:
            Z += b[:, None]
        if not isinstance(self.out, slice):
            V[self.out] = Z
        if self._relu:
            np.maximum(Z, 0.0, out=V[self.act_out])
        elif self.activation is not None:
            V[self.act_out] = self.activation.apply_arrays(Z)

    def backward(self, V: np.ndarray, G: np.ndarray, scratch: list) -> None:
        if self.activation is None:
            dZ = G[self.out]
        else:
            A = self.act_out
            (dZ,) = self.activation.vjp(G[A], V[A], V[self.out])
        input_route = self.routes[0]
        if input_route is not None:
            n_in = self.weights.shape[1]
            Wt = self._W[:, :n_in].T  # the bias column is no input's
            if self.assign_inputs:  # the only gradient these rows get (schedule.py)
                np.matmul(Wt, dZ, out=G[input_route.rows])
            else:
                np.matmul(Wt, dZ, out=scratch[0])
                input_route.add(G, scratch[0])
        grads = self.params.grads
        if self._grads is not None:  # [dW db] or dW, added into views of grads
            views = self._grads.views(grads)
            dWb = views.Wb if self.biases is not None else views.W
            dWb += dZ @ self._X.T
            return
        grads[self.weights] += dZ @ self._X.T  # distinct parameters (checked when fused)
        if self.biases is not None:
            grads[self.biases] += dZ.sum(axis=1)

    def gradient_rows(self) -> Rows:
        return self.out if self.activation is None else self.act_out

    def scratch(self, batch: int) -> list[np.ndarray | None]:
        n_in = self.weights.shape[1]
        return [np.empty((n_in, batch)) if self.routes[0] is not None else None]


def dense_unit(terms: list, parameters: set, is_product: Callable) -> tuple | None:
    """(inputs, weights, bias or None, the set of those parameters) if a fused sum's terms are
    a dense unit, else None.

    Each term must be ``parameter * input`` (either order), plus at most one bias parameter
    term, the first (as ``sum(products, b)`` records it).  The parameters must be distinct.
    Written as one loop over the terms' slots (not ``.parents``, a tuple per call), returning
    the set it checks: finding the demo's dense units 3.69M -> 3.03M instructions (callgrind).
    """
    is_parameter = parameters.__contains__
    bias = terms[0] if terms and is_parameter(terms[0]) else None
    inputs, weights = [], []
    for term in terms[1:] if bias is not None else terms:
        if not is_product(term):
            return None
        a, b = term._a, term._b
        if is_parameter(a):
            if is_parameter(b):
                return None
            weights.append(a)
            inputs.append(b)
        elif is_parameter(b):
            weights.append(b)
            inputs.append(a)
        else:
            return None
    if not weights:
        return None
    own = set(weights)
    if bias is not None:
        own.add(bias)
    if len(own) != len(weights) + (bias is not None):
        return None  # a parameter used twice: DenseGroup's grads[...] += would drop the repeat
    return inputs, weights, bias, own


def build_dense(
    out_rows, inputs, weights, biases, row, input_needs, params, index_of, activation=None
) -> Group:
    """The DenseGroup with row numbers (inputs, outputs) and parameter indices (weights, bias);
    the inputs get a Route only if they need a gradient.  ``activation``: (the primitive, its
    nodes, one per unit) to fuse in, or None."""
    input_rows = np.array([row[x] for x in inputs], dtype=np.intp)
    route = Route(input_rows, np.ones(len(input_rows), dtype=bool)) if input_needs else None
    return DenseGroup(
        index(out_rows),
        index(input_rows.tolist()),
        np.array([[index_of[w] for w in unit] for unit in weights], dtype=np.intp),
        None if biases is None else np.array([index_of[b] for b in biases], dtype=np.intp),
        route,
        params,
        None if activation is None else (activation[0], index([row[n] for n in activation[1]])),
    )
