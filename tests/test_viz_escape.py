"""Labels cannot break or inject into the DOT text: quotes, braces, <, >, |, backslashes,
newlines and any Unicode are escaped (property tests), and a hostile label renders as
itself, in a graph with exactly the nodes and edges it should have."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value
from autograd.viz import draw, find_renderer
from autograd.viz.escape import dot_string, html, visible

# Every Unicode code point (lone surrogates included), weighted towards the dangerous ones.
DANGEROUS = list("\"\\{}<>|&';[]=\n\r\t\x00\x7f") + ["<BR/>", "]]>", "\\N", "\\l", "-->", "&amp;"]
labels = st.lists(
    st.one_of(st.sampled_from(DANGEROUS), st.characters(), st.text(max_size=3)), max_size=12
).map("".join)

# What an escaped HTML-label text may contain: plain characters, our entities, line breaks and
# doubled backslashes (Graphviz expands \N and \G inside HTML labels too).
SAFE_HTML = re.compile(r"(?:[^<>&\"'\\]|\\\\|&(?:amp|lt|gt|quot|#39|#93);|<BR/>)*\Z")


@given(labels)
def test_html_text_has_no_markup_of_its_own(text):
    assert SAFE_HTML.match(html(text))


@given(labels)
def test_dot_string_cannot_end_the_quoted_string(text):
    escaped = str(dot_string(text))
    # every quote is escaped (an odd run of backslashes before it) and no escape dangles
    for match in re.finditer(r'(\\*)"', escaped):
        assert len(match.group(1)) % 2 == 1
    trailing = len(escaped) - len(escaped.rstrip("\\"))
    assert trailing % 2 == 0
    assert "\n" not in escaped


@given(labels)
def test_escaped_text_is_valid_xml_and_utf8(text):
    escaped = html(text)
    escaped.encode("utf-8")  # no lone surrogates left
    ET.fromstring(f"<t>{escaped.replace('<BR/>', '<br/>')}</t>")


def edges(source: str) -> list[str]:
    """The edge statements of a DOT text (graphviz writes one statement per line)."""
    return [line for line in source.splitlines() if re.match(r"\tv\w+ -> v\w+( \[|$)", line)]


@given(labels, labels)
def test_hostile_labels_leave_the_graph_structure_alone(a_label, b_label):
    a, b = Value(1.0, label=a_label), Value(2.0, label=b_label)
    y = a * b
    y.label = a_label + b_label
    source = draw(y, title="t" + a_label).source
    lines = source.splitlines()
    # digraph {, 3 attribute lines, the title, a, b, the op, y, legend, 3 edges, }
    assert len(lines) == 14
    assert lines[0] == "digraph chainrule {" and lines[-1] == "}"
    assert len(edges(source)) == 3
    assert sum(line.startswith("\tv") for line in lines) == 7
    assert "subgraph" not in source


needs_renderer = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer")


def _texts(svg: str) -> str:
    root = ET.fromstring(svg)  # the SVG must be well-formed XML
    return "".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))


@needs_renderer
@settings(max_examples=25, deadline=None)
@given(labels)
def test_a_hostile_label_renders_as_itself(text):
    x = Value(1.0, label=text)
    y = x * 2.0
    svg = draw(y, view="forward", legend=False).svg()
    shown = "".join(_texts(svg).split())
    expected = "".join(visible(text).split())
    assert expected in shown


@needs_renderer
@pytest.mark.parametrize(
    "text",
    [
        'x"; a -> b; "',
        "}}} digraph { evil }",
        "<b>bold</b>",
        "a|b{c}",
        "]",  # alone in a tag, Graphviz 2.43 refused it ("syntax error")
        "back\\slash\\",
        "two\nlines",
        "\\N\\G\\l",
        "<BR/>",
        "\x00\x01\ud800\ufffe",
        "\U0001f600 \u4e2d\u6587 \u0645\u0631\u062d\u0628\u0627",
    ],
)
def test_known_hostile_labels_render(text):
    x = Value(1.0, label=text)
    y = x * 2.0
    y.label = text
    drawing = draw(y, view="forward", legend=False, title=text)
    shown = "".join(_texts(drawing.svg()).split())
    assert "".join(visible(text).split()) in shown
    assert len(edges(drawing.source)) == 3
