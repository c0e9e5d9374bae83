"""chainrule's ``nn``: neurons, layers and MLPs on the scalar engine, with PyTorch's vocabulary.

``Module`` (parameters, named_parameters, state_dict, save/load), micrograd's ``Neuron``,
``Layer`` and ``MLP``, and ``nn.functional`` (activations, losses, penalties).

Note: this package's import name is ``nn``; it is chainrule's, not PyTorch's ``torch.nn``.
"""

from . import functional
from .layers import MLP, Layer, Neuron, init_weights
from .module import IncompatibleKeys, Module

__all__ = [
    "Module",
    "IncompatibleKeys",
    "Neuron",
    "Layer",
    "MLP",
    "init_weights",
    "functional",
]
