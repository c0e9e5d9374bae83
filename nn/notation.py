"""The lecture's names for a network's numbers: the lecture table, both pictures, notebook 6.

Indices count from 1, as on the slide (Python's lists still count from 0):

* ``x_i``: input i;  ``W1[i][j]``: the weight of layer 1 from input i to unit j;  ``b1[j]``:
  unit j's bias;  ``z_j``: unit j's weighted sum;  ``h_j``: a hidden unit's output;  ``ŷ``: the
  output;  ``L``: the loss.
* A layer with one unit leaves its unit index out, as the slide writes w^(2)_j: ``W2[j]``, ``b2``.
* With several hidden layers the layer number joins the unit's: ``h1_j``, ``h2_j``; with several
  outputs ``ŷ_k``.  A lone ``Layer`` has no layer number (``W[i][j]``, ``b[j]``), a lone neuron
  (or perceptron) is ``w[i]`` and ``b``.

``matrix_names(model)`` maps each dotted name of ``named_parameters()`` to its ``MatrixName``
(layer, from, to); ``named_weights(model)`` lists (matrix name, Value) in the same order, ready for
``autograd.draw(..., params=...)``.  The drawing code asks nn for these names; it never parses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from autograd import Value

Y_HAT = "ŷ"
LOSS = "L"


class MatrixName(NamedTuple):
    """Where a parameter sits in the lecture's matrices (every index counted from 1)."""

    kind: str  # "W" for a weight, "b" for a bias
    layer: int | None  # W1, W2, ...; None for a lone layer or neuron
    source: int | None  # the input (row) a weight comes from; None for a bias
    unit: int  # the unit (column) the parameter belongs to
    units: int  # units in the layer: with one, the unit index is left out

    def __str__(self) -> str:
        kind = "w" if self.kind == "W" and self.layer is None and self.units == 1 else self.kind
        name = kind + ("" if self.layer is None else str(self.layer))
        if self.source is not None:
            name += f"[{self.source}]"
        if self.units > 1:
            name += f"[{self.unit}]"
        return name


def units_of(model) -> list[list]:
    """The model's neurons layer by layer: an MLP's layers, a Layer's neurons, or one neuron.

    A neuron is any module with a weight list ``w`` and a bias ``b`` (None when it has none):
    ``Neuron``, and the classic ``Perceptron`` and ``Adaline``.
    """
    if isinstance(getattr(model, "layers", None), list):
        return [list(layer.neurons) for layer in model.layers]
    if isinstance(getattr(model, "neurons", None), list):
        return [list(model.neurons)]
    if isinstance(getattr(model, "w", None), list) and hasattr(model, "b"):
        return [[model]]
    raise TypeError(
        f"{type(model).__name__} is not a network of neurons: expected an MLP, a Layer or a "
        "neuron (a module with weights w and a bias b)"
    )


def _numbered(model) -> bool:
    """Whether layers carry a number (W1, W2): an MLP's do, a lone layer's or neuron's do not."""
    return isinstance(getattr(model, "layers", None), list)


def matrix_names(model) -> dict[str, MatrixName]:
    """{dotted parameter name: its MatrixName}, in the order of ``named_parameters()``."""
    ids = {id(p): name for name, p in model.named_parameters()}
    numbered = _numbered(model)
    found: dict[str, MatrixName] = {}
    for k, neurons in enumerate(units_of(model), start=1):
        layer = k if numbered else None
        for j, neuron in enumerate(neurons, start=1):
            for i, w in enumerate(neuron.w, start=1):
                found[ids[id(w)]] = MatrixName("W", layer, i, j, len(neurons))
            if neuron.b is not None:
                found[ids[id(neuron.b)]] = MatrixName("b", layer, None, j, len(neurons))
    return {name: found[name] for name in ids.values() if name in found}


def named_weights(model) -> list[tuple[str, Value]]:
    """(matrix name, Value) for every parameter, in the order of ``named_parameters()``."""
    names = matrix_names(model)
    return [(str(names[name]), p) for name, p in model.named_parameters() if name in names]


def input_name(i: int) -> str:
    """Input i's name (i counted from 0 as in Python): ``x_1`` for the first."""
    return f"x_{i + 1}"


def unit_name(layer: int, unit: int, sizes: Sequence[int]) -> str:
    """A unit's output name (layer and unit counted from 0): ``h_j``, ``h1_j`` or ``ŷ``/``ŷ_k``.

    ``sizes`` are the layers' widths, the output layer last.
    """
    if layer == len(sizes) - 1:
        return Y_HAT if sizes[-1] == 1 else f"{Y_HAT}_{unit + 1}"
    if len(sizes) == 2:  # one hidden layer: h_j as on the slide
        return f"h_{unit + 1}"
    return f"h{layer + 1}_{unit + 1}"


def sum_name(layer: int, unit: int, sizes: Sequence[int]) -> str:
    """A unit's weighted sum (layer and unit from 0): ``z_j`` beside ``h_j``, ``z1_j`` beside
    ``h1_j``; an output's is ``z`` (``z_k`` for several), with its layer number where hidden
    sums are numbered or share its indices (``z2``, ``z2_k``)."""
    out = unit_name(layer, unit, sizes)
    if out.startswith("h"):
        return "z" + out[1:]
    index = "" if sizes[-1] == 1 else f"_{unit + 1}"
    if len(sizes) > 2 or (len(sizes) == 2 and index):
        return f"z{layer + 1}{index}"
    return "z" + index


def layer_title(layer: int, layers: int) -> str:
    """A layer's title (counted from 0): ``hidden layer`` (numbered when there are several) or
    ``output layer``."""
    if layer == layers - 1:
        return "output layer"
    return "hidden layer" if layers == 2 else f"hidden layer {layer + 1}"


def shown_names(model) -> dict[str, str]:
    """{dotted name: the lecture's name} for the model's parameters (``W1[1][2]``), neurons
    (``h_1``, ``ŷ``) and layers (``hidden layer``): what pictures write (``Module.relabel``)."""
    names = {dotted: str(m) for dotted, m in matrix_names(model).items()}
    module_names = {id(m): name for name, m in model.named_modules()}
    layers = units_of(model)
    sizes = [len(units) for units in layers]
    for k, units in enumerate(layers):
        for j, neuron in enumerate(units):
            if module_names.get(id(neuron)):
                names[module_names[id(neuron)]] = unit_name(k, j, sizes)
    if _numbered(model):
        for k, layer in enumerate(model.layers):
            names[module_names[id(layer)]] = layer_title(k, len(model.layers))
    return names
