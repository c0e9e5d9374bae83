"""Inline pictures in Jupyter: a ``Value`` displays as the SVG of its graph.

``repr_svg`` is ``Value._repr_svg_`` (attached below; ``autograd/__init__.py`` imports this
light module, so every Value has it, while ``dot`` and graphviz load on the first picture).
Returning None makes Jupyter fall back to the text repr, which is what happens when no renderer
is installed or the graph is too large to draw even with its neurons collapsed; a notebook
never shows a traceback for displaying a number.
"""

from __future__ import annotations

from ..value import Value

MAX_NODES = 200  # smaller than draw's default: an inline picture should fit the page


def repr_svg(value: Value) -> str | None:
    """The SVG text of value's graph (both views), or None to fall back to the text repr."""
    from .dot import GraphTooLargeError, draw
    from .render import RendererNotFoundError, RenderError, find_renderer

    if find_renderer() is None:
        return None
    for collapse in (None, "neuron"):
        if collapse and not 0 < _neurons(value) <= MAX_NODES:
            return None  # collapsed, the graph still has a node per neuron: it cannot fit
        try:
            drawing = draw(value, view="both", collapse=collapse, max_nodes=MAX_NODES)
            return drawing.svg()
        except GraphTooLargeError:
            continue
        except (RenderError, RendererNotFoundError):
            return None
    return None


Value._repr_svg_ = repr_svg  # Jupyter asks every displayed object for this method


def _neurons(value: Value) -> int:
    """How many nodes of value's graph are a neuron's output (see ``groups.py``)."""
    from ..backward import topological_order
    from .collapse import is_neuron_output

    return sum(map(is_neuron_output, topological_order(value)))
