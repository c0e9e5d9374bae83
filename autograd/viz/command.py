"""``chainrule draw "EXPR" x=2 w=-3 -o graph.svg``: draw any expression after backward.

The expression is parsed safely (``expr.py``: a whitelist, nothing evaluated before the whole
of it is checked), built from labelled input Values, differentiated with ``backward()`` and
drawn.  The output format comes from the ``-o`` suffix (.svg, .png, .pdf, .dot); without
``-o`` the DOT text goes to stdout.  ``--steps DIR`` also writes one picture per backward step.
Exit status: 0 done, 1 rendering failed (e.g. no Graphviz), 2 bad expression or inputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "draw an expression's graph with its values and gradients (safe arithmetic only)"

EPILOG = """examples:
  chainrule draw "tanh(x*w + b)" x=2 w=-3 b=6.88 -o neuron.svg
  chainrule draw "x**2 + 3*x" x=2 -o graph.png --edge-derivatives --chain-rule
  chainrule draw "sigmoid(w*x)" x=1 w=0.5 -o g.svg --steps frames/

  chainrule draw -- "-x**2" x=3 -o g.svg     (-- before an expression starting with -)

allowed: numbers, names, + - * / **, unary minus, and the functions
  exp log sqrt tanh sigmoid relu leaky_relu step sin cos abs"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``chainrule draw``."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("expression", help='the expression, e.g. "tanh(x*w + b)"')
    parser.add_argument("inputs", nargs="*", metavar="NAME=VALUE", help="a value for every input")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write: .svg, .png, .pdf or .dot (default: DOT text on stdout)",
    )
    parser.add_argument(
        "--view", choices=("forward", "gradient", "both"), default="both", help="what nodes show"
    )
    parser.add_argument(
        "--edge-derivatives",
        action="store_true",
        help="label each edge with its local derivative d(out)/d(in)",
    )
    parser.add_argument(
        "--chain-rule",
        action="store_true",
        help="show each gradient as the sum of upstream grad x local derivative",
    )
    parser.add_argument(
        "--steps", type=Path, metavar="DIR", help="also write one picture per backward step here"
    )
    parser.add_argument("--no-legend", action="store_true", help="leave out the legend")
    parser.add_argument(
        "--max-nodes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="refuse graphs with more than N value and op boxes (default: 400)",
    )


def _positive_int(text: str) -> int:
    """argparse type for --max-nodes: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Parse, build, backward, draw; messages on stderr, exit status as documented above."""
    from . import expr

    try:
        inputs = expr.parse_inputs(args.inputs)
        result, leaves = expr.build(args.expression, inputs)
    except expr.ExpressionError as exc:
        return _fail(str(exc), 2)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:  # the engine's domain errors
        return _fail(f"cannot evaluate: {exc}", 2)
    try:
        result.backward()
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        return _fail(f"cannot differentiate: {exc}", 2)
    return _draw(args, result, leaves)


def _draw(args: argparse.Namespace, result, leaves) -> int:
    from .dot import MAX_NODES, GraphTooLargeError, draw
    from .render import FORMATS, RendererNotFoundError, RenderError, save
    from .steps import render_steps

    options = {
        "view": args.view,
        "edge_derivatives": args.edge_derivatives,
        "chain_rule": args.chain_rule,
        "legend": not args.no_legend,
        "max_nodes": MAX_NODES if args.max_nodes is None else args.max_nodes,
    }
    output = args.output
    if output is not None and output.suffix.lower().lstrip(".") not in FORMATS:
        return _fail(f"cannot tell the format of {str(output)!r}: use .svg, .png, .pdf or .dot", 2)
    try:
        drawing = draw(result, title=args.expression, **options)
        if output is None:
            sys.stdout.write(drawing.source)
        else:
            if output.parent != Path(""):
                output.parent.mkdir(parents=True, exist_ok=True)
            save(drawing, output)
        frames = []
        if args.steps is not None:
            fmt = "png" if output is not None and output.suffix.lower() == ".png" else "svg"
            frames = render_steps(result, args.steps, fmt=fmt, **options)
    except GraphTooLargeError as exc:
        return _fail(_too_large(exc), 2)
    except (RendererNotFoundError, RenderError) as exc:
        return _fail(str(exc), 1)
    except OSError as exc:
        return _fail(f"cannot write: {exc}", 1)
    out = sys.stderr if output is None else sys.stdout
    print(_summary(args.expression, result, leaves), file=out)
    if output is not None:
        print(f"wrote {output}", file=out)
    if frames:
        print(
            f"wrote {len(frames)} frames (forward, then each backward step) to {args.steps}",
            file=out,
        )
    return 0


def _too_large(exc: Exception) -> str:
    """The drawing's size error with the hint the command line can follow (--max-nodes).

    The Python API's message ends with a hint for Python callers (collapse='neuron',
    max_nodes=...); only its first part, how many nodes over which limit, applies here.
    """
    size = str(exc).partition(":")[0].replace("max_nodes=", "--max-nodes ")
    return (
        f"{size}: draw a smaller expression, or raise the limit with --max-nodes N "
        "(dot may then take minutes)"
    )


def _summary(expression: str, result, leaves) -> str:
    from .style import number

    lines = [f"{expression} = {number(result.data)}"]
    lines += [f"  d/d{name} = {number(v.grad)}" for name, v in leaves.items()]
    return "\n".join(lines)


def _fail(message: str, status: int) -> int:
    print(f"chainrule draw: {message}", file=sys.stderr)
    return status
