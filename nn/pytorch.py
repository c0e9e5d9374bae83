"""The same network in PyTorch: ``to_torch`` and ``MLP.from_torch``, exact in both directions.

A chainrule ``Layer`` is one ``torch.nn.Linear`` followed by its activation's torch layer
(none for linear).  A neuron's weights ``w[i]`` are row j of ``Linear.weight`` (torch stores
``weight[j][i]``, unit j from input i: the transpose of the lecture's ``W[i][j]``) and its
bias ``b`` is ``Linear.bias[j]``.  Every number is copied as a float64, so a round trip is
exact bit for bit.  Activations map one to one:

=============  ============================  =============  ============================
chainrule      torch                         chainrule      torch
=============  ============================  =============  ============================
linear         (no layer; Identity is read)  leaky_relu     LeakyReLU(0.01)
relu           ReLU                          step           autograd.torch_ops.Step
tanh           Tanh                          softmax        Softmax(dim=-1)
sigmoid        Sigmoid                       log_softmax    LogSoftmax(dim=-1)
abs            autograd.torch_ops.Abs
=============  ============================  =============  ============================

torch has no step or abs layer, so ``Step`` (chainrule's step: 1 for x >= 0, gradient 0) and
``Abs`` (torch.abs) are ours.
torch is optional: it is imported only when these functions run (``import nn`` never loads
it), and a missing torch is an error that says how to install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from autograd import Value
from autograd.pytorch import Comparison, Row, require_torch

from .functional import ACTIVATIONS, LAYER_ACTIVATIONS
from .module import Module

if TYPE_CHECKING:
    import torch

LEAKY_SLOPE = 0.01  # chainrule's named leaky_relu: nn.functional.leaky_relu's default alpha
READABLE = "ReLU, Tanh, Sigmoid, LeakyReLU(0.01), Softmax(dim=-1), LogSoftmax(dim=-1), Step"


# ---- chainrule -> torch --------------------------------------------------------------------


# (This module reads nn's models through their ``_linear_groups()`` and never imports
# nn.layers, which imports it: the two would otherwise import each other.)


def _groups(model: Module) -> list[tuple[Module, list[Module]]]:
    """The units that become one Linear each: (the module owning the activation, its neurons)."""
    if not hasattr(model, "_linear_groups"):
        raise TypeError(f"to_torch takes a Neuron, Layer or MLP, got {type(model).__name__}")
    return model._linear_groups()


def _activation(owner: Module) -> str:
    """The owner's activation name, if it is one of the named ones (a function of one's own has
    no torch layer)."""
    name = owner.activation
    if hasattr(owner, "neurons"):  # a Layer: a unit activation, or one over the whole layer
        unit, layer_act = owner.neurons[0]._act, owner._layer_act
        known = (layer_act is None and unit is ACTIVATIONS.get(name)) or (
            layer_act is not None and layer_act is LAYER_ACTIVATIONS.get(name)
        )
    else:
        known = owner._act is ACTIVATIONS.get(name)
    if not known:
        where = f" ({owner._name})" if owner._name else ""
        raise ValueError(
            f"to_torch: the activation {name!r} of {type(owner).__name__}{where} is a function "
            f"of your own, which has no torch layer; named activations: "
            f"{', '.join([*ACTIVATIONS, *LAYER_ACTIVATIONS])}"
        )
    return name


def _activation_layer(name: str) -> torch.nn.Module | None:
    torch = require_torch("to_torch")
    from autograd.torch_ops import Abs, Step

    layers = {
        "linear": lambda: None,
        "relu": torch.nn.ReLU,
        "tanh": torch.nn.Tanh,
        "sigmoid": torch.nn.Sigmoid,
        "leaky_relu": lambda: torch.nn.LeakyReLU(LEAKY_SLOPE),
        "step": Step,
        "abs": Abs,
        "softmax": lambda: torch.nn.Softmax(dim=-1),
        "log_softmax": lambda: torch.nn.LogSoftmax(dim=-1),
    }
    return layers[name]()


def to_torch(model: Module, dtype: torch.dtype | None = None) -> torch.nn.Sequential:
    """model as a ``torch.nn.Sequential`` of Linear and activation layers, same numbers.

    dtype: the parameters' torch dtype (default float64, which holds chainrule's floats
    exactly).  The module is a copy: training one does not change the other.
    """
    torch = require_torch(f"{type(model).__name__}.to_torch")
    dtype = torch.float64 if dtype is None else dtype
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a torch floating-point dtype, got {dtype!r}")
    groups = _groups(model)
    activations = [_activation(owner) for owner, _ in groups]  # all checked before building
    layers: list[torch.nn.Module] = []
    for (_, neurons), activation in zip(groups, activations, strict=True):
        bias = neurons[0].b is not None
        # skip_init: no random initialisation (it would draw from torch's global generator)
        linear = torch.nn.utils.skip_init(
            torch.nn.Linear, neurons[0].nin, len(neurons), bias=bias, dtype=dtype
        )
        weight = [[w.data for w in n.w] for n in neurons]
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weight, dtype=torch.float64))
            if bias:
                linear.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=torch.float64))
        layers.append(linear)
        act = _activation_layer(activation)
        if act is not None:
            layers.append(act)
    return torch.nn.Sequential(*layers)


# ---- torch -> chainrule --------------------------------------------------------------------


def _flatten(module: torch.nn.Module, prefix: str = "") -> Iterator[tuple[str, torch.nn.Module]]:
    """The Sequential's layers in order with their names ("2", or "1.0" inside a nested one)."""
    import torch

    for name, child in module.named_children():
        full = f"{prefix}{name}"
        if isinstance(child, torch.nn.Sequential):
            yield from _flatten(child, f"{full}.")
        else:
            yield full, child


def _read_activation(name: str, layer: torch.nn.Module) -> str | None:
    """chainrule's name for an activation layer, None for Identity; ValueError otherwise."""
    import torch

    from autograd.torch_ops import Abs, Step

    simple = {
        torch.nn.ReLU: "relu",
        torch.nn.Tanh: "tanh",
        torch.nn.Sigmoid: "sigmoid",
        Step: "step",
        Abs: "abs",
    }
    if type(layer) in simple:
        return simple[type(layer)]
    if type(layer) is torch.nn.Identity:
        return None
    reason = "an unsupported layer"
    if type(layer) is torch.nn.LeakyReLU:
        if layer.negative_slope == LEAKY_SLOPE:
            return "leaky_relu"
        slope = layer.negative_slope
        reason = f"chainrule's leaky_relu has slope {LEAKY_SLOPE} below 0, this one {slope}"
    elif type(layer) in (torch.nn.Softmax, torch.nn.LogSoftmax):
        if layer.dim in (-1, 1):  # the features of one sample (1 is the last of a batch)
            return "softmax" if type(layer) is torch.nn.Softmax else "log_softmax"
        reason = f"dim={layer.dim}: chainrule's softmax is over one sample's outputs (dim=-1)"
    raise ValueError(
        f"MLP.from_torch cannot read layer {name} of the Sequential, {layer!r} ({reason}): it "
        f"reads Linear layers, each followed by at most one of {READABLE} (Identity is skipped)"
    )


def read_sequential(
    module: torch.nn.Sequential,
) -> list[tuple[str, list[list[float]], list[float] | None, str]]:
    """One (where, W, b, activation) per Linear layer of the Sequential, for ``MLP.from_torch``.

    W[i][j] is the weight from input i to unit j (the transpose of torch's weight), b the
    biases or None, every number a float64; ``where`` names the layer for error messages.
    """
    torch = require_torch("MLP.from_torch")
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(
            f"MLP.from_torch reads a torch.nn.Sequential of Linear and activation layers, "
            f"got {type(module).__name__}"
        )
    found: list[list] = []  # [name, Linear, activation]
    for name, layer in _flatten(module):
        if isinstance(layer, torch.nn.Linear):
            if found and layer.in_features != found[-1][1].out_features:
                raise ValueError(
                    f"layer {name} of the Sequential, {layer!r}, takes {layer.in_features} inputs "
                    f"but layer {found[-1][0]} gives {found[-1][1].out_features}"
                )
            found.append([name, layer, None])
            continue
        activation = _read_activation(name, layer)
        if activation is None:
            continue
        if not found:
            raise ValueError(
                f"layer {name} of the Sequential, {layer!r}, comes before any Linear layer: "
                "an MLP starts with one"
            )
        if found[-1][2] is not None:
            raise ValueError(
                f"layer {name} of the Sequential, {layer!r}, follows another activation "
                f"({found[-1][2]}): a chainrule layer has one"
            )
        found[-1][2] = activation
    if not found:
        raise ValueError("MLP.from_torch: the Sequential has no Linear layer")
    specs = []
    for name, linear, activation in found:
        weight = linear.weight.detach().to(torch.float64)
        bias = None if linear.bias is None else linear.bias.detach().to(torch.float64).tolist()
        where = f"layer {name} of the Sequential, {linear!r}"
        specs.append((where, weight.T.tolist(), bias, activation or "linear"))
    return specs


# ---- comparing ----------------------------------------------------------------------------


def _pairs(
    model: Module, module: torch.nn.Module
) -> Iterator[tuple[Value, torch.Tensor, tuple[int, ...]]]:
    """(chainrule parameter, torch tensor, index in it) for every parameter of model."""
    import torch

    groups = _groups(model)
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if len(linears) != len(groups):
        raise ValueError(
            f"{type(model).__name__} has {len(groups)} layers but the torch module "
            f"{len(linears)} Linear layers"
        )
    for k, ((_, neurons), linear) in enumerate(zip(groups, linears, strict=True)):
        shape = (len(neurons), neurons[0].nin)
        has_bias = neurons[0].b is not None
        if tuple(linear.weight.shape) != shape or (linear.bias is not None) != has_bias:
            raise ValueError(
                f"layer {k}: chainrule has {shape[1]} -> {shape[0]} units "
                f"({'with' if has_bias else 'without'} bias), torch {linear!r}"
            )
        for j, neuron in enumerate(neurons):
            for i, w in enumerate(neuron.w):
                yield w, linear.weight, (j, i)
            if has_bias:
                yield neuron.b, linear.bias, (j,)


def compare_parameters(
    model: Module,
    module: torch.nn.Module,
    grad: bool = False,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> Comparison:
    """Every parameter (grad=True: its gradient) in chainrule beside torch's, by name."""
    torch = require_torch("compare_parameters")
    names = {id(p): name for name, p in model.named_parameters()}
    rows = []
    with torch.no_grad():
        for p, tensor, index in _pairs(model, module):
            if grad:
                theirs = 0.0 if tensor.grad is None else tensor.grad[index].item()
                rows.append(Row(names[id(p)], "grad", float(p.grad), theirs))
            else:
                rows.append(Row(names[id(p)], "value", p.data, tensor[index].item()))
    what = "gradients" if grad else "values"
    title = f"chainrule vs torch: the {what} of {model._summary()}"
    return Comparison(title, tuple(rows), rtol, atol)
