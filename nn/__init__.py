"""chainrule's ``nn``: from a perceptron to a trained MLP on the scalar engine.

micrograd's shapes (``Neuron``, ``Layer``, ``MLP``) with PyTorch's vocabulary (``Module``,
``parameters``, ``named_parameters``, ``state_dict``).  Where things live:

* ``module.py``: ``Module`` (names, labels, state_dict, save/load);
* ``layers.py``: ``Neuron``, ``Layer``, ``MLP``, initialisation, explicit weights;
* ``functional.py``: activations, softmax, losses and penalties on Values;
* ``optim.py``: ``SGD``, ``Adam`` and learning-rate schedules;
* ``data.py``: toy data sets, splits and batches;
* ``train.py``: ``fit`` (eager or traced), ``predict``;
* ``plot.py``: decision boundaries and loss curves (matplotlib, imported on first use);
* ``classic.py``: the perceptron rule, Adaline/LMS and the hand-wired XOR network;
* ``pytorch.py``: ``to_torch``/``MLP.from_torch``, the same network in PyTorch (torch optional);
* ``notation.py``: the lecture's names (``W1[i][j]``, ``x_i``, ``h_j``, ``ŷ``), counted from 1;
* ``diagram.py``: ``draw_network``, the network as the lectures draw it (Graphviz, on first use);
* ``lecture.py`` and ``cli.py``: the ``chainrule`` command line (``python -m nn``), here
  because it sees both packages (``autograd`` never imports ``nn``).

Note: the import name is ``nn``; this is chainrule's package, not PyTorch's ``torch.nn``.
"""

from types import ModuleType

from . import data, functional, optim
from .classic import Adaline, Perceptron, xor_network
from .layers import MLP, Layer, Neuron, init_weights
from .module import IncompatibleKeys, Module
from .optim import SGD, Adam
from .train import DivergenceError, History, fit, predict

__all__ = [
    "Module",
    "IncompatibleKeys",
    "Neuron",
    "Layer",
    "MLP",
    "init_weights",
    "functional",
    "optim",
    "data",
    "SGD",
    "Adam",
    "fit",
    "predict",
    "History",
    "DivergenceError",
    "Perceptron",
    "Adaline",
    "xor_network",
    "plot",
    "pytorch",
    "draw_network",
]


def __getattr__(name: str) -> ModuleType:
    # matplotlib takes a second to import (graphviz less): load nn.plot and the diagram code
    # only when someone asks for them (nn.pytorch imports torch only when its functions run;
    # loading it lazily keeps nn lean)
    import importlib

    if name in ("plot", "pytorch"):
        return importlib.import_module(f".{name}", __name__)
    if name == "draw_network":
        return importlib.import_module(".diagram", __name__).draw_network
    raise AttributeError(f"module 'nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    # dir(nn) and tab completion list the lazily loaded names too
    return sorted(set(globals()) | set(__all__))
