"""Escaping user text (labels, names) for the two kinds of DOT strings the drawings use.

Node and cluster labels are HTML-like labels (``<...>``), parsed by Graphviz as XML: ``&``,
``<``, ``>`` and quotes become entities, a newline becomes ``<BR/>`` and a backslash is doubled
(Graphviz expands ``\\N``, ``\\G`` even there).  Tooltips are ordinary
quoted DOT strings, where a backslash starts an escape (``\\N``, ``\\l``) and a quote ends the
string, so both are escaped.  In both, characters XML cannot carry (control characters, lone
surrogates, U+FFFE/U+FFFF) are shown as visible ``\\uXXXX`` text, so no label can end a string
early, open a tag, or make Graphviz or an SVG viewer choke.  Every other Unicode character is
kept as it is (DOT files are UTF-8).
"""

from __future__ import annotations

import graphviz


def _xml_allowed(code: int) -> bool:
    # XML 1.0's Char production, minus tab and carriage return (shown visibly instead)
    return (
        0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    ) and not 0x7F <= code <= 0x9F


def visible(text: str) -> str:
    """text with every character XML cannot carry (except newline) spelled as ``\\uXXXX``."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\n" or _xml_allowed(code):
            out.append(ch)
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


# Graphviz also reads escapes such as \N (the node's name) and \G inside HTML labels, after
# decoding entities, so a backslash is doubled rather than written as an entity.
_HTML = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "\n": "<BR/>",
    "\\": "\\\\",
}


def html(text: str) -> str:
    """text as content of an HTML-like DOT label (entities; a newline is a line break)."""
    text = visible(str(text))
    if text and not text.strip("]"):
        # Graphviz 2.43's HTML-label lexer refuses a tag whose whole text is "]" or "]]"
        # ("syntax error"; found by the hypothesis test): spell such a text as entities
        return "&#93;" * len(text)
    return "".join(_HTML.get(ch, ch) for ch in text)


def dot_string(text: str) -> graphviz.quoting.NoHtml:
    """text for an ordinary quoted DOT attribute (e.g. a tooltip): backslashes and quotes escaped.

    Wrapped in ``graphviz.nohtml`` so a text that looks like ``<...>`` stays a plain string.
    """
    escaped = visible(str(text)).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return graphviz.nohtml(escaped)
