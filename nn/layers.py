"""``Neuron``, ``Layer`` and ``MLP`` with micrograd's shapes, plus weight initialisation.

A neuron computes its weighted sum exactly as micrograd does, ``sum((w_i x_i), b)``, then its
activation, so ``MLP(2, [16, 16, 1])`` is micrograd's network number for number (seed Python's
``random`` the same way and the weights are the same too).  Beyond micrograd: named
activations, Xavier/Glorot and He initialisation, a ``seed``, no-bias layers, softmax output
layers, and networks built from explicit weight matrices with the lecture's convention
``W[i][j]`` = weight from input i to unit j.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Sequence
from random import Random
from types import ModuleType
from typing import TYPE_CHECKING

from autograd import Value
from autograd.value import weighted_sum

from .functional import ACTIVATIONS, LAYER_ACTIVATIONS, get_activation
from .module import Module, finite_number, parts_of_one_model
from .notation import input_name, named_weights, shown_names

if TYPE_CHECKING:
    import torch

INITS = ("micrograd", "xavier", "he", "zeros")
_INIT_ALIASES = {"uniform": "micrograd", "glorot": "xavier", "kaiming": "he"}


def init_weights(scheme: str, nin: int, nout: int, rng: Random | ModuleType) -> list[float]:
    """One neuron's nin starting weights (nout = the layer's width, for Xavier's fan-out).

    micrograd: uniform(-1, 1).  Xavier/Glorot: uniform(-a, a), a = sqrt(6 / (nin + nout)), which
    keeps the variance of signals and gradients about equal across tanh/sigmoid layers.
    He: normal(0, sqrt(2 / nin)), the same idea for ReLU, which zeroes half its inputs.
    """
    scheme = _INIT_ALIASES.get(scheme, scheme)
    if scheme == "micrograd":
        return [rng.uniform(-1, 1) for _ in range(nin)]
    if scheme == "xavier":
        a = math.sqrt(6.0 / (nin + nout))
        return [rng.uniform(-a, a) for _ in range(nin)]
    if scheme == "he":
        std = math.sqrt(2.0 / nin)
        return [rng.gauss(0.0, std) for _ in range(nin)]
    if scheme == "zeros":
        return [0.0] * nin
    valid = ", ".join(INITS + tuple(_INIT_ALIASES))
    raise ValueError(f"unknown init {scheme!r}; valid: {valid}")


def _rng(seed: int | None, rng: Random | None) -> Random | ModuleType:
    """The random source: an explicit one, a seeded one, or Python's global ``random``."""
    if rng is not None:
        return rng
    return random if seed is None else random.Random(seed)


def positive_int(n: object, what: str) -> int:
    """n as an int, or a ValueError naming `what` unless it is a positive integer."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


def _inputs(x: Sequence | Value | float, n: int) -> Sequence[Value]:
    """x as n Values (a lone number or Value is fine when n == 1).

    A plain number becomes one input leaf named ``x_i`` here, before any neuron sees it, so the
    graph of ``model([0.5, -1.0])`` has each input once, shared by every neuron that reads it
    (left as numbers, each ``w * x`` made a leaf of its own: 32 input boxes for an
    MLP(2, [16, 16, 1])).
    """
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    elif not isinstance(x, Sequence):
        x = list(x)
    if len(x) != n:
        raise ValueError(f"expected {n} input{'s' if n != 1 else ''}, got {len(x)}{_batch(x, n)}")
    if all(isinstance(xi, Value) for xi in x):
        return x
    for i, xi in enumerate(x):  # the neurons read .data of every input (autograd's weighted_sum)
        if not isinstance(xi, (Value, numbers.Real)):
            raise TypeError(
                f"input {i} must be a number or a Value, got {type(xi).__name__}{_batch(x, n)}"
            )
    return [
        xi if isinstance(xi, Value) else Value(xi, label=input_name(i)) for i, xi in enumerate(x)
    ]


def _batch(x: Sequence, n: int) -> str:
    """A hint when x looks like a batch (its first item is a row, not a number), else ''."""
    if not x or isinstance(x[0], (Value, numbers.Real, str)) or not hasattr(x[0], "__len__"):
        return ""
    return (
        f": this looks like a batch of {len(x)} row{'s' if len(x) != 1 else ''}, but a model "
        f"takes one sample ({n} number{'s' if n != 1 else ''}); for a batch X write "
        "[model(x) for x in X]"
    )


def _micrograd_flag(
    activation: str | bool | Callable | None, nonlin: bool | None
) -> str | Callable:
    """The activation to use, from an explicit one or micrograd's nonlin=True/False.

    micrograd's flag picks relu (True) or linear (False) when no activation is given; it may
    also stand in activation's place, as in ``Neuron(2, False)``.  An explicit activation and
    a nonlin that says otherwise (``Neuron(2, 'tanh', nonlin=True)``) is a ValueError, not a
    silent choice of one of them.  No activation and no flag: relu, micrograd's default.
    """
    named = _flag_activation(activation) if isinstance(activation, bool) else activation
    if nonlin is None:
        return "relu" if named is None else named
    flagged = _flag_activation(nonlin)
    if named is not None and named != flagged:
        raise ValueError(
            f"nonlin={nonlin} contradicts the activation {activation!r}: pass one of them "
            f"(nonlin=True means relu, nonlin=False means linear)"
        )
    return flagged


def _flag_activation(nonlin: bool) -> str:
    """micrograd's flag as an activation name."""
    return "relu" if nonlin else "linear"


def _activation_name(activation: str | Callable) -> str:
    return activation if isinstance(activation, str) else getattr(activation, "__name__", "custom")


class Neuron(Module):
    """act(sum_i w_i x_i + b): one unit, with micrograd's ``nonlin=True/False`` accepted.

    ``activation`` is a name from ``ACTIVATIONS`` or a function; left out, it is relu, or what
    micrograd's ``nonlin`` says (True: relu, False: linear).  Give one of the two: both is a
    ValueError unless they agree (``"relu"`` with True, ``"linear"`` with False).
    """

    drawn_as = "neuron"  # pictures cluster (or collapse) the nodes between w, b and the output

    def __init__(
        self,
        nin: int,
        activation: str | bool | Callable[[Value], Value] | None = None,
        bias: bool = True,
        *,
        nonlin: bool | None = None,
        init: str = "micrograd",
        seed: int | None = None,
        rng: Random | None = None,
        fan_out: int = 1,
    ) -> None:
        nin = positive_int(nin, "nin")
        activation = _micrograd_flag(activation, nonlin)
        if isinstance(activation, str) and activation in LAYER_ACTIVATIONS:
            raise ValueError(
                f"{activation} acts on a whole layer's outputs, not on one neuron: use "
                f"Layer(..., activation={activation!r}); neuron activations: "
                f"{', '.join(ACTIVATIONS)}"
            )
        self._act = get_activation(activation) if isinstance(activation, str) else activation
        self._act_name = _activation_name(activation)
        if not callable(self._act):
            raise TypeError(f"activation must be a name or a function, got {activation!r}")
        self.w = [Value(w) for w in init_weights(init, nin, fan_out, _rng(seed, rng))]
        self.b = Value(0.0) if bias else None  # micrograd starts biases at 0
        self._relabel_when_whole()

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return len(self.w)

    def _shown_names(self) -> dict[str, str]:
        return shown_names(self)  # the lecture's names in pictures: W1[1][2], h_1, ŷ

    def named_weights(self) -> list[tuple[str, Value]]:
        """(matrix name, Value) per parameter, as in ``nn.notation``: ``w[1]``, ``b``."""
        return named_weights(self)

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: False for a linear neuron."""
        return self._act_name != "linear"

    @property
    def activation(self) -> str:
        """The activation's name."""
        return self._act_name

    @classmethod
    def from_weights(
        cls, w: Sequence[float], b: float | None = None, activation: str | Callable = "relu"
    ) -> Neuron:
        """A neuron with the given weights (and bias; None: no bias parameter)."""
        w = [finite_number(x, f"w[{i}]") for i, x in enumerate(w)]
        neuron = cls(len(w), activation, bias=b is not None, init="zeros")
        neuron._set(w, b)
        return neuron

    def _set(self, w: list[float], b: float | None) -> None:
        for p, x in zip(self.w, w, strict=True):
            p.data = x
        if b is not None:
            self.b.data = finite_number(b, "b")

    def net(self, x: Sequence) -> Value:
        """The weighted sum z = sum_i w_i x_i + b for one input vector (before the activation)."""
        return self._weighted_sum(_inputs(x, len(self.w)))

    def _weighted_sum(self, x: Sequence[Value]) -> Value:
        # sum((w_i * x_i), b) as micrograd writes it, the same nodes made in one loop
        return weighted_sum(self.w, x, self.b)

    def activate(self, z: Value) -> Value:
        """The neuron's activation applied to its weighted sum z."""
        return self._act(z)

    def __call__(self, x: Sequence) -> Value:
        """The neuron's output for one input vector (numbers or Values), labelled with its name."""
        return self._output(_inputs(x, len(self.w)))

    def _output(self, x: Sequence[Value]) -> Value:
        # x already checked: a Layer checks its input once for all its neurons (checking it per
        # neuron, plus a method call per step, made micrograd's demo step 65 -> 72-80 ms)
        out = self._act(self._weighted_sum(x))
        if self._output_label:  # a drawing can cluster or collapse this neuron by its name
            out.label = self._output_label
        return out

    def extra_repr(self) -> str:
        return f"{self.nin}, {self._act_name}" + ("" if self.b is not None else ", bias=False")

    def _linear_groups(self) -> list[tuple[Module, list[Neuron]]]:
        # what becomes one torch Linear: (the module with the activation, its neurons)
        return [(self, [self])]

    def to_torch(self, dtype: torch.dtype | None = None) -> torch.nn.Sequential:
        """This neuron as torch.nn.Sequential(Linear(nin, 1), activation), same numbers."""
        from .pytorch import to_torch

        return to_torch(self, dtype)


class Layer(Module):
    """nout neurons side by side; returns one Value when nout == 1, else a list (micrograd).

    ``activation`` (a neuron activation, or softmax/log_softmax over the layer) or micrograd's
    ``nonlin`` flag, as for ``Neuron``; left out, relu.
    """

    _repr_children = False
    drawn_as = "layer"  # pictures draw a cluster around its neurons

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | bool | Callable | None = None,
        bias: bool = True,
        *,
        nonlin: bool | None = None,
        init: str = "micrograd",
        seed: int | None = None,
        rng: Random | None = None,
    ) -> None:
        nin, nout = positive_int(nin, "nin"), positive_int(nout, "nout")
        activation = _micrograd_flag(activation, nonlin)
        if isinstance(activation, str) and activation in LAYER_ACTIVATIONS:
            unit_activation, self._layer_act = "linear", LAYER_ACTIVATIONS[activation]
        else:
            if isinstance(activation, str) and activation not in ACTIVATIONS:
                get_activation(activation, layer=True)  # raises, listing every valid name
            unit_activation, self._layer_act = activation, None
        self._act_name = _activation_name(activation)
        rng = _rng(seed, rng)
        with parts_of_one_model():
            self.neurons = [
                Neuron(nin, unit_activation, bias, init=init, rng=rng, fan_out=nout)
                for _ in range(nout)
            ]
        self._relabel_when_whole()

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return self.neurons[0].nin

    def _shown_names(self) -> dict[str, str]:
        return shown_names(self)  # the lecture's names in pictures: W1[1][2], h_1, ŷ

    def named_weights(self) -> list[tuple[str, Value]]:
        """(matrix name, Value) per parameter, as in ``nn.notation``: ``W[1][2]``, ``b[2]``."""
        return named_weights(self)

    @property
    def nout(self) -> int:
        """Number of units (outputs)."""
        return len(self.neurons)

    @property
    def activation(self) -> str:
        """The activation's name."""
        return self._act_name

    @classmethod
    def from_weights(
        cls,
        W: Sequence[Sequence[float]],
        b: Sequence[float] | None = None,
        activation: str | Callable = "relu",
    ) -> Layer:
        """A layer from W[i][j] = weight from input i to unit j, and biases b[j] (None: no bias)."""
        W = _matrix(W, "W")
        nin, nout = len(W), len(W[0])
        if b is not None:
            b = [finite_number(x, f"b[{j}]") for j, x in enumerate(b)]
            if len(b) != nout:
                raise ValueError(f"W has {nout} units (columns) but b has {len(b)} entries")
        layer = cls(nin, nout, activation, bias=b is not None, init="zeros")
        for j, neuron in enumerate(layer.neurons):
            neuron._set([W[i][j] for i in range(nin)], None if b is None else b[j])
        return layer

    def activate(self, z: Sequence[Value]) -> list[Value]:
        """The units' outputs from their weighted sums z (each unit's activation, or softmax)."""
        out = [n.activate(zj) for n, zj in zip(self.neurons, z, strict=True)]
        return self._layer_act(out) if self._layer_act is not None else out

    def __call__(self, x: Sequence) -> Value | list[Value]:
        """Every unit's output for one input vector: a list, or one Value when nout == 1."""
        x = _inputs(x, self.nin)
        out = [n._output(x) for n in self.neurons]
        if self._layer_act is not None:
            out = self._layer_act(out)
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        bias = "" if self.neurons[0].b is not None else ", bias=False"
        return f"{self.nin} -> {self.nout}, {self._act_name}{bias}"

    def _linear_groups(self) -> list[tuple[Module, list[Neuron]]]:
        return [(self, self.neurons)]

    def to_torch(self, dtype: torch.dtype | None = None) -> torch.nn.Sequential:
        """This layer as torch.nn.Sequential(Linear(nin, nout), activation), same numbers."""
        from .pytorch import to_torch

        return to_torch(self, dtype)


class MLP(Module):
    """A stack of Layers: hidden layers use `activation`, the last `output_activation`."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Callable = "relu",
        output_activation: str | Callable = "linear",
        bias: bool = True,
        init: str = "micrograd",
        seed: int | None = None,
    ) -> None:
        nin = positive_int(nin, "nin")
        for act in (activation, output_activation):
            if isinstance(act, str):
                get_activation(act, layer=True)  # fail now, listing the valid names
        if isinstance(nouts, numbers.Integral) or not list(nouts):
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        sizes = [nin] + [positive_int(n, "layer size") for n in nouts]
        rng = _rng(seed, None)
        last = len(sizes) - 2
        with parts_of_one_model():
            self.layers = [
                Layer(
                    sizes[i],
                    sizes[i + 1],
                    output_activation if i == last else activation,
                    bias,
                    init=init,
                    rng=rng,
                )
                for i in range(len(sizes) - 1)
            ]
        self._relabel_when_whole()

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return self.layers[0].nin

    @property
    def nout(self) -> int:
        """Number of outputs."""
        return self.layers[-1].nout

    def _shown_names(self) -> dict[str, str]:
        return shown_names(self)  # the lecture's names in pictures: W1[1][2], h_1, ŷ

    def named_weights(self) -> list[tuple[str, Value]]:
        """(matrix name, Value) per parameter, as in ``nn.notation``: ``W1[1][2]``, ``b1[2]``."""
        return named_weights(self)

    @property
    def sizes(self) -> list[int]:
        """[nin, width of each layer...]."""
        return [self.nin] + [layer.nout for layer in self.layers]

    @classmethod
    def from_weights(
        cls,
        weights: Sequence[Sequence[Sequence[float]]],
        biases: Sequence[Sequence[float] | None] | None = None,
        activation: str | Callable = "relu",
        output_activation: str | Callable = "linear",
    ) -> MLP:
        """An MLP from weight matrices W[i][j] (input i -> unit j) and biases (None: no bias)."""
        weights = [_matrix(W, f"weights[{k}]") for k, W in enumerate(weights)]
        if not weights:
            raise ValueError("weights is empty: give one matrix per layer")
        for k in range(1, len(weights)):
            rows, cols = len(weights[k]), len(weights[k - 1][0])
            if rows != cols:
                raise ValueError(
                    f"weights[{k}] has {rows} rows but layer {k - 1} has {cols} units: W[i][j] is "
                    "the weight from input i to unit j"
                )
        if biases is None:
            biases = [None] * len(weights)
        if len(biases) != len(weights):
            raise ValueError(f"{len(weights)} weight matrices but {len(biases)} bias vectors")
        model = cls.__new__(cls)
        last = len(weights) - 1
        with parts_of_one_model():
            model.layers = [
                Layer.from_weights(W, b, output_activation if k == last else activation)
                for k, (W, b) in enumerate(zip(weights, biases, strict=True))
            ]
        model.relabel()
        return model

    def __call__(self, x: Sequence) -> Value | list[Value]:
        """The network's output for one input vector (one Value for one output unit)."""
        x = _inputs(x, self.nin)
        for layer in self.layers:
            x = layer(x)
        return x

    def extra_repr(self) -> str:
        return " -> ".join(map(str, self.sizes))

    def _linear_groups(self) -> list[tuple[Module, list[Neuron]]]:
        return [(layer, layer.neurons) for layer in self.layers]

    def to_torch(self, dtype: torch.dtype | None = None) -> torch.nn.Sequential:
        """This MLP as a torch.nn.Sequential of Linear and activation layers, same numbers."""
        from .pytorch import to_torch

        return to_torch(self, dtype)

    @classmethod
    def from_torch(cls, module: torch.nn.Sequential) -> MLP:
        """An MLP from a torch.nn.Sequential of Linear and activation layers, same numbers.

        Each Linear (torch's weight[j][i]: unit j from input i) becomes a Layer, with the
        activation layer after it (none: linear); anything else is a ValueError naming it.
        """
        from .pytorch import read_sequential

        layers = []
        with parts_of_one_model():
            for where, W, b, activation in read_sequential(module):
                try:
                    layers.append(Layer.from_weights(W, b, activation))
                except ValueError as exc:  # a NaN or infinite weight, named W[i][j] or b[j]
                    raise ValueError(f"{where}: {exc}") from None
        model = cls.__new__(cls)
        model.layers = layers
        model.relabel()
        return model


def _matrix(W: Sequence[Sequence[float]], what: str) -> list[list[float]]:
    rows = [list(row) for row in W]
    if not rows or not rows[0]:
        raise ValueError(f"{what} is empty")
    for i, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise ValueError(
                f"{what} is not rectangular: row 0 has {len(rows[0])} entries, "
                f"row {i} has {len(row)}"
            )
    return [
        [finite_number(x, f"{what}[{i}][{j}]") for j, x in enumerate(row)]
        for i, row in enumerate(rows)
    ]
