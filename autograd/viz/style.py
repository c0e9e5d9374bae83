"""How a drawing looks: number formats, node kinds and their colours, gradient colours, legend.

Every choice that is about looks rather than structure lives here, so the picture can be
restyled in one place.  Kinds: an *input* (a leaf you feed in), a *parameter* (a leaf that is
trained), a *constant* (a number mixed into an expression), the *output* (the root, usually the
loss), a collapsed *neuron*, and everything in between.  Kinds differ by colour in the forward
view and by border (rounded, square and bold, dashed, double) in every view, because the
gradient view uses the fill colour for the gradient: blue for positive, red for negative,
stronger for larger magnitude.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .escape import html

FONT = "Helvetica"
EDGE_COLOUR = "#5b6770"
TEXT_COLOUR = "#1f2328"
MUTED = "#8a8f98"  # "not computed", edge derivatives, cluster labels
HIGHLIGHT = "#d97706"  # the node and edges of the current backward step

INPUT, PARAMETER, CONSTANT, OUTPUT, NEURON, INTERMEDIATE = (
    "input",
    "parameter",
    "constant",
    "output",
    "neuron",
    "intermediate",
)


class Kind(NamedTuple):
    """How a box of one kind looks."""

    fill: str  # background colour (the forward view's; the gradient view fills by gradient)
    border: str  # border colour
    width: int  # border width
    table_style: str  # the HTML table's STYLE ("rounded", "dashed" or "")
    legend: str  # the legend's text


KINDS: dict[str, Kind] = {  # in the legend's order
    INPUT: Kind("#dcf2dc", "#3f8f3f", 1, "rounded", "input"),
    PARAMETER: Kind("#fdecc8", "#b7791f", 2, "", "parameter"),
    CONSTANT: Kind("#eeeeee", "#9a9a9a", 1, "dashed", "constant"),
    OUTPUT: Kind("#eadcf5", "#6b3fa0", 3, "rounded", "output (root)"),
    NEURON: Kind("#e3ecfa", "#3b5b92", 2, "rounded", "neuron (collapsed)"),
    INTERMEDIATE: Kind("#ffffff", "#5b6770", 1, "", "intermediate"),
}

OP_FILL = "#f1f3f5"
CLUSTER_FILL = {"layer": "#fafbfc", "neuron": "#f3f6fa"}
CLUSTER_BORDER = "#c5ccd6"

POSITIVE = (0x3B, 0x7D, 0xD8)  # blue
NEGATIVE = (0xE0, 0x4F, 0x39)  # red
ZERO_FILL = "#f6f6f6"
NOT_COMPUTED_FILL = "#ffffff"


def float_of(x) -> float:
    """A number, or a Value's data (a gradient under create_graph is a Value), as a float.

    Not getattr(x, "data"): numpy scalars have a .data too (a memoryview).
    """
    from ..value import Value

    return float(x.data if isinstance(x, Value) else x)


def number(x) -> str:
    """A value or gradient as text: 4 decimals like micrograd, scientific where that misleads."""
    x = float_of(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0.0000"
    if 1e-4 <= abs(x) < 1e6:
        return f"{x:.4f}"
    return f"{x:.3e}"


def short(x) -> str:
    """A compact number for edge labels and chain-rule terms (4 significant digits)."""
    x = float_of(x)
    if x == 0:
        return "0"
    return f"{x:.4g}"


def _mix(rgb: tuple[int, int, int], t: float) -> str:
    """The colour t of the way from white to rgb, as #rrggbb."""
    r, g, b = (round(255 + (c - 255) * t) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def grad_fill(grad, scale: float) -> str:
    """Fill colour for a gradient: hue by sign, strength by |grad| / scale (square-root curve)."""
    if grad is None:
        return NOT_COMPUTED_FILL
    g = float_of(grad)
    if math.isnan(g):
        return "#d0d0d0"
    if g == 0 or scale == 0:
        return ZERO_FILL
    t = 1.0 if math.isinf(g) or not math.isfinite(scale) else min(abs(g) / scale, 1.0)
    # light at the weakest, never so dark that black text becomes hard to read
    return _mix(POSITIVE if g > 0 else NEGATIVE, 0.12 + 0.58 * math.sqrt(t))


def grad_line(grad, scale: float) -> str:
    """Line colour for a signed number on an edge: grad_fill's hue, strong enough on white."""
    g = float_of(grad)
    if not math.isfinite(g) or g == 0 or scale == 0:
        return EDGE_COLOUR
    t = min(abs(g) / scale, 1.0)
    return _mix(POSITIVE if g > 0 else NEGATIVE, 0.35 + 0.65 * math.sqrt(t))


def grad_scale(grads) -> float:
    """The largest finite |grad| among grads (None entries skipped), the top of the colour scale."""
    scale = 0.0
    for g in grads:
        if g is not None:
            v = abs(float_of(g))
            if math.isfinite(v) and v > scale:
                scale = v
    return scale


def legend_label(kinds: list[str], gradient: bool, kind_fills: bool = True) -> str:
    """An HTML table: one swatch per node kind present, plus the gradient colour key.

    ``kind_fills=False`` (the gradient view, where the fill is the gradient's) draws the kind
    swatches by border only.
    """
    rows = []
    for name in kinds:
        kind = KINDS[name]
        # constants keep their fill in the gradient view: they have no gradient
        fill = kind.fill if kind_fills or name == CONSTANT else NOT_COMPUTED_FILL
        rows.append(
            f'<TR><TD><TABLE BORDER="{kind.width}" CELLBORDER="0" CELLPADDING="2"'
            f' COLOR="{kind.border}" BGCOLOR="{fill}"{style_attr(kind.table_style)}>'
            f'<TR><TD WIDTH="14" HEIGHT="8"> </TD></TR></TABLE></TD>'
            f'<TD ALIGN="LEFT">{html(kind.legend)}</TD></TR>'
        )
    if gradient:
        for fill, text in (
            (_mix(POSITIVE, 0.7), "grad &gt; 0 (darker: larger)"),
            (_mix(NEGATIVE, 0.7), "grad &lt; 0"),
            (ZERO_FILL, "grad = 0"),
        ):
            rows.append(
                f'<TR><TD BGCOLOR="{fill}" BORDER="1" COLOR="{CLUSTER_BORDER}"> </TD>'
                f'<TD ALIGN="LEFT">{text}</TD></TR>'
            )
    return (
        f'<<FONT POINT-SIZE="10"><TABLE BORDER="1" CELLBORDER="0" CELLSPACING="1" CELLPADDING="1"'
        f' COLOR="{CLUSTER_BORDER}" BGCOLOR="#ffffff"><TR><TD COLSPAN="2"><B>legend</B></TD></TR>'
        f"{''.join(rows)}</TABLE></FONT>>"
    )


def style_attr(style: str) -> str:
    """The STYLE attribute of an HTML-like table (nothing for no style)."""
    return f' STYLE="{style}"' if style else ""
