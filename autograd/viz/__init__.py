"""Pictures of computation graphs: forward values, gradients, and why each gradient is what it is.

Only reads a graph (``data``, ``grad``, ``op``, ``parents``, ``label``); the engine never
imports this package, so graphviz is loaded only when something is drawn.  Modules:
``dot`` (``draw``: the Digraph), ``style`` (colours, shapes, legend), ``escape`` (safe label
text), ``chain`` (local derivatives and chain-rule terms), ``collapse`` (nn parameters, neuron
and layer clusters, collapsed neurons), ``steps`` (step-through backward), ``render`` (finding
``dot`` or ``graphviz-pure``, writing files: ``autograd.viz.render.write_graph``), ``jupyter``
(inline SVG).
"""

from .dot import MAX_NODES, VIEWS, Drawing, GraphTooLargeError, draw, draw_dot
from .render import (
    RendererNotFoundError,
    RenderError,
    find_renderer,
    save,
    write_graph,
)
from .steps import Step, backward_steps, render_steps

__all__ = [
    "draw",
    "draw_dot",
    "Drawing",
    "GraphTooLargeError",
    "MAX_NODES",
    "VIEWS",
    "RendererNotFoundError",
    "RenderError",
    "find_renderer",
    "save",
    "write_graph",
    "Step",
    "backward_steps",
    "render_steps",
]
