"""Pictures of computation graphs: forward values, gradients, and why each gradient is what it is.

Only reads a graph (``data``, ``grad``, ``op``, ``parents``, ``label``); no engine module
imports this package (only ``autograd/__init__.py`` loads the light ``jupyter`` module, which
gives ``Value`` its notebook picture).  Modules: ``dot`` (``draw``: the Digraph), ``style``
(colours, shapes, legend), ``escape`` (safe label text), ``chain`` (local derivatives and
chain-rule terms), ``groups`` (the label types through which a model marks its parameters and
neurons), ``collapse`` (parameters, neuron and layer clusters, collapsed neurons), ``steps``
(step-through backward), ``renderer`` (finding and running ``dot`` or ``graphviz-pure``),
``render`` (writing files: ``render.write_graph``), ``jupyter`` (inline SVG), ``expr`` and
``command`` (``chainrule draw``), ``explorer`` and ``explorer_command`` (an HTML page to click
through a graph: ``chainrule explore``).
The names below load their module on first use, so importing this package (or running an
unrelated ``chainrule`` command) does not import graphviz.
"""

from __future__ import annotations

import importlib

# public name -> the module that defines it
_EXPORTS = {
    "draw": "dot",
    "draw_dot": "dot",
    "Drawing": "dot",
    "GraphTooLargeError": "dot",
    "MAX_NODES": "dot",
    "VIEWS": "dot",
    "RendererNotFoundError": "render",
    "RenderError": "render",
    "find_renderer": "render",
    "save": "render",
    "write_graph": "render",
    "explore": "explorer",
    "Page": "explorer",
    "Step": "steps",
    "backward_steps": "steps",
    "render_steps": "steps",
    "StepsBudgetError": "steps",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # dir() and tab completion list the names loaded on first use too
    return sorted(set(globals()) | set(_EXPORTS))
