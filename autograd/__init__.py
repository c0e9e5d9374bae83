"""chainrule's engine: scalar reverse-mode automatic differentiation.

Every number is a ``Value`` that records the op and parents that made it; ``backward()`` walks
the graph in reverse topological order and applies the chain rule.  The API follows micrograd
(``Value``, ``.data``, ``.grad``, ``.backward()``, ``.relu()``) and, beyond it, PyTorch's names
(``grad``, ``no_grad``, ``gradcheck``, ``detect_anomaly``).

Note: the unrelated HIPS ``autograd`` package uses the same import name; do not install both in
one environment.

Where things live: ``primitives.py`` (every op with its derivative rule), ``value.py`` (the
Value), ``backward.py`` (topological order and the chain rule), ``mode.py`` (no_grad,
detect_anomaly), ``gradcheck.py`` (finite-difference checking), ``extend.py``
(``define_primitive``: a new op from user code), ``tape/`` (trace a graph once, replay it over
a batch with numpy), ``flat.py`` (parameters' numbers as arrays, written back all at once),
``viz/`` (pictures: ``autograd.draw`` and the explorer page ``autograd.explore``, loaded on
first use so ``import autograd`` never imports graphviz),
``pytorch.py`` (``autograd.compare_with_torch``, also loaded on first use: torch is optional).
The engine never imports ``nn``: the ``chainrule`` command line lives in ``nn/cli.py``, where
both are visible.
"""

from .backward import grad, topological_order
from .collector import relaxed_gc
from .extend import define_primitive
from .gradcheck import GradcheckError, gradcheck
from .mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .primitives import PRIMITIVES, Primitive
from .tape import Tape, TracingError, trace
from .value import Constant, Value
from .viz import jupyter as _jupyter  # noqa: F401  (gives Value its inline picture in notebooks)

__version__ = "0.1.0"

__all__ = [
    "Value",
    "Constant",
    "grad",
    "topological_order",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "relaxed_gc",
    "gradcheck",
    "GradcheckError",
    "Primitive",
    "PRIMITIVES",
    "define_primitive",
    "trace",
    "Tape",
    "TracingError",
    "draw",
    "draw_dot",
    "compare_with_torch",
    "explore",
]

_LAZY = ("draw", "draw_dot", "explore")  # attributes of autograd.viz


def __getattr__(name: str):
    # the drawing code (and graphviz) load on first use: `import autograd` stays light
    if name in _LAZY:
        from . import viz

        return getattr(viz, name)
    if name == "compare_with_torch":  # the bridge to PyTorch; torch itself loads when called
        from .pytorch import compare_with_torch

        return compare_with_torch
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")


def __dir__() -> list[str]:
    # dir() and tab completion list the names loaded on first use too
    return sorted(set(globals()) | set(_LAZY) | {"compare_with_torch"})
