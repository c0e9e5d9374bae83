"""Writing graph files: a drawing (or a Value, drawn first) to DOT, SVG, PNG or PDF.

Which program renders, and running it, is ``renderer.py``; its names are also here
(``render.find_renderer``, ``render.RenderError``, ...).  Files are written with
``autograd.files.write_atomically``: the picture is rendered in full first, then written to a
temporary file beside the target and renamed over it, so a failed render or write creates or
changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..files import write_atomically
from .renderer import (
    FORMATS,
    INSTALL_HINT,
    RENDERERS,
    TIMEOUT,
    RendererNotFoundError,
    RenderError,
    RenderTimeoutError,
    find_renderer,
    render,
    svg,
)

__all__ = [
    "FORMATS",
    "INSTALL_HINT",
    "RENDERERS",
    "TIMEOUT",
    "RendererNotFoundError",
    "RenderError",
    "RenderTimeoutError",
    "find_renderer",
    "render",
    "svg",
    "write_graph",
    "save",
]


def _output(drawing_or_root, draw_options: dict):
    """A finished drawing as it is, or a Value (or list of Values) drawn with draw_options."""
    if hasattr(drawing_or_root, "source"):  # a graphviz graph (our Drawing is one)
        draw_options = {k: v for k, v in draw_options.items() if k != "view"}
        if draw_options:
            raise TypeError(f"{', '.join(draw_options)}: options of draw(), not of a drawing")
        return drawing_or_root
    from .dot import draw

    return draw(drawing_or_root, **draw_options)


def write_graph(
    root,
    path: str | os.PathLike,
    view: str = "both",
    formats: Sequence[str] = ("dot", "svg"),
    **draw_options,
) -> list[Path]:
    """Draw root and write ``<path>.<fmt>`` for each format; returns the paths in that order.

    `path` has no suffix (``out/forward`` gives ``out/forward.dot``, ``out/forward.svg``);
    draw_options go to ``draw``.  The DOT file is written even if rendering then fails; a
    picture that cannot be rendered leaves no file (and an existing one unchanged).
    """
    if isinstance(formats, str):
        formats = (formats,)
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    drawing = _output(root, {"view": view, **draw_options})
    path = Path(path)
    return [
        write_atomically(path.with_name(f"{path.name}.{fmt}"), _bytes(drawing, fmt))
        for fmt in formats
    ]


def _bytes(drawing, fmt: str) -> bytes:
    """The file's content: the DOT text itself, or the picture rendered from it."""
    return drawing.source.encode("utf-8") if fmt == "dot" else render(drawing.source, fmt)


def save(drawing_or_root, filename: str | os.PathLike, **draw_options) -> Path:
    """Write one file, named exactly filename, its format from the suffix (.svg, .SVG, ...)."""
    filename = Path(filename)
    fmt = filename.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(
            f"cannot tell the format of {str(filename)!r}: use a .dot, .svg, .png or .pdf suffix"
        )
    drawing = _output(drawing_or_root, draw_options)
    return write_atomically(filename, _bytes(drawing, fmt))
