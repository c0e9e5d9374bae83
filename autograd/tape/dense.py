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

import numpy as np

from ..primitives import Primitive
from .groups import Group, Route, Rows, index


class ParameterArrays:
    """The tape's parameters as two vectors, set by ``Tape`` on every call: their ``.data``
    (``values``) and the gradient the dense layers add up over the batch (``grads``)."""

    def __init__(self, n: int) -> None:
        self.values = np.zeros(n)
        self.grads = np.zeros(n)


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
        # The activation's nodes, fused in: one group call instead of two each way, and the
        # units' own gradient rows are never written or read.
        self.activation = activation[0] if activation is not None else None
        self.act_out = activation[1] if activation is not None else None
        self.name = "dense" if activation is None else f"dense+{self.activation.name}"
        self._W = None  # the weights the forward pass used, for the backward pass

    def forward(self, V: np.ndarray) -> None:
        values = self.params.values
        # gathered once per step and kept: the backward pass reuses it instead of gathering again
        self._W = W = values[self.weights]
        if isinstance(self.out, slice):
            # straight into V's rows, no (units x batch) temporary to fill and copy: the
            # 16-64-64-10 network's forward over 1000 samples 820 -> 785 us (CPU time,
            # medians of 3)
            Z = V[self.out]
            np.matmul(W, V[self.inputs], out=Z)
        else:
            Z = W @ V[self.inputs]
        if self.biases is not None:
            Z += values[self.biases][:, None]
        if not isinstance(self.out, slice):
            V[self.out] = Z
        if self.activation is not None:
            V[self.act_out] = self.activation.apply_arrays(Z)

    def backward(self, V: np.ndarray, G: np.ndarray, scratch: list) -> None:
        if self.activation is None:
            dZ = G[self.out]
        else:
            A = self.act_out
            (dZ,) = self.activation.vjp(G[A], V[A], V[self.out])
        input_route = self.routes[0]
        if input_route is not None:
            np.matmul(self._W.T, dZ, out=scratch[0])
            input_route.add(G, scratch[0])
        grads = self.params.grads
        grads[self.weights] += dZ @ V[self.inputs].T  # distinct parameters (checked when fused)
        if self.biases is not None:
            grads[self.biases] += dZ.sum(axis=1)

    def gradient_rows(self) -> Rows:
        return self.out if self.activation is None else self.act_out

    def scratch(self, batch: int) -> list[np.ndarray | None]:
        n_in = self.weights.shape[1]
        return [np.empty((n_in, batch)) if self.routes[0] is not None else None]


def dense_unit(terms: list, is_parameter, is_product) -> tuple | None:
    """(inputs, weights, bias or None) if a fused sum's terms are a dense unit, else None.

    Each term must be ``parameter * input`` (either order), plus at most one bias parameter
    term, the first (as ``sum(products, b)`` records it).  The parameters must be distinct.
    """
    bias = terms[0] if terms and is_parameter(terms[0]) else None
    pairs = []
    for term in terms[1:] if bias is not None else terms:
        if not is_product(term):
            return None
        a, b = term.parents
        if is_parameter(a) and not is_parameter(b):
            pairs.append((a, b))
        elif is_parameter(b) and not is_parameter(a):
            pairs.append((b, a))
        else:
            return None
    if not pairs:
        return None
    weights = [w for w, _ in pairs]
    own = weights + ([bias] if bias is not None else [])
    if len(set(own)) != len(own):
        return None  # a parameter used twice: DenseGroup's grads[...] += would drop the repeat
    return [x for _, x in pairs], weights, bias


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
