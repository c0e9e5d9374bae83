"""``chainrule explore "EXPR" x=2 w=-3 -o page.html``: an HTML page to click through an expression.

The expression is parsed and built as for ``chainrule draw`` (``expr.py``: a whitelist,
nothing evaluated before the whole of it is checked); ``explorer.explore`` writes the page.
Exit status: 0 written, 1 rendering or writing failed (e.g. no Graphviz), 2 bad expression,
inputs or options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .command import _positive_int

HELP = "write an HTML page that steps through an expression's forward and backward pass"

EPILOG = """examples:
  chainrule explore "tanh(x*w + b)" x=2 w=-3 b=6.88 -o neuron.html
  chainrule explore "x**2 + 3*x" x=2 -o square.html

The page is one self-contained file (no network): open it in a browser, then Next / Back or
the arrow keys step through the forward pass and the backward pass; click a node to see its
value, its gradient and the chain-rule terms its gradient is the sum of."""

SUFFIXES = (".html", ".htm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``chainrule explore``."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("expression", help='the expression, e.g. "tanh(x*w + b)"')
    parser.add_argument(  # default=[]: else argparse calls the inputs required when they are not
        "inputs", nargs="*", default=[], metavar="NAME=VALUE", help="a value for every input"
    )
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="the page to write (.html)"
    )
    parser.add_argument(
        "--max-nodes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="show graphs of more than N value and op boxes one node per neuron (default: 4000)",
    )


def run(args: argparse.Namespace) -> int:
    """Parse, build, write the page; messages on stderr, exit status as documented above."""
    from ..files import make_folder
    from . import expr
    from .dot import GraphTooLargeError
    from .explorer import MAX_NODES, explore
    from .render import RendererNotFoundError, RenderError

    if args.output.suffix.lower() not in SUFFIXES:
        return _fail(f"the page is HTML: name it with .html, got {str(args.output)!r}", 2)
    try:
        result, _ = expr.from_command_line(args.expression, args.inputs)
    except expr.ExpressionError as exc:
        return _fail(str(exc), 2)
    max_nodes = MAX_NODES if args.max_nodes is None else args.max_nodes
    try:
        make_folder(args.output.parent, args.output)
        page = explore(result, args.output, title=args.expression, max_nodes=max_nodes)
    except GraphTooLargeError as exc:
        return _fail(str(exc).replace("max_nodes", "--max-nodes"), 2)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        return _fail(f"cannot differentiate: {exc}", 2)
    except (RendererNotFoundError, RenderError) as exc:
        return _fail(str(exc), 1)
    except OSError as exc:  # write_atomically's and make_folder's errors name the file
        message = str(exc)
        return _fail(message if message.startswith("cannot ") else f"cannot write: {message}", 1)
    steps = len(page.data["steps"]) - 1
    print(f"wrote {args.output} ({steps} steps): open it in a browser")
    return 0


def _fail(message: str, status: int) -> int:
    print(f"chainrule explore: {message}", file=sys.stderr)
    return status
