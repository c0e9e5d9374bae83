"""``chainrule draw "EXPR" x=2 w=-3 -o graph.svg``: draw any expression after backward.

The expression is parsed safely (``expr.py``: a whitelist, nothing evaluated before the whole
of it is checked), built from labelled input Values, differentiated with ``backward()`` and
drawn.  The output format comes from the ``-o`` suffix (.svg, .png, .pdf, .dot); ``-o``
writes exactly the name given.  Without ``-o``, a terminal gets the picture as ``graph.svg``
(a student wants the picture, not 4 KB of DOT text); a pipe, or ``-o -``, gets the DOT text.
``--steps DIR`` also writes one picture per backward step, within a budget (``--max-frames``,
``--max-seconds``).  Exit status: 0 done, 1 rendering or writing failed (e.g. no Graphviz),
2 bad expression or inputs, or a graph over a limit (``--max-nodes``, the --steps budget).
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

  chainrule draw "-x**2" x=3                (in a terminal: writes graph.svg)

allowed: numbers, names (any letters: θ=0.5 works), + - * / **, unary minus, and the functions"""


def epilog() -> str:
    """The examples, then one line per function: every primitive that is a Value method."""
    import inspect

    from .expr import FUNCTIONS

    lines = [EPILOG]
    for name, (_, method) in FUNCTIONS.items():
        numbers = list(inspect.signature(method).parameters)[1:]  # after self
        call = f"{name}({', '.join(['x', *numbers])})"
        lines.append(f"  {call:<20} {method.__doc__ or ''}".rstrip())
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``chainrule draw``."""
    parser.epilog = epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("expression", help='the expression, e.g. "tanh(x*w + b)"')
    parser.add_argument(  # default=[]: else argparse calls the inputs required when they are not
        "inputs", nargs="*", default=[], metavar="NAME=VALUE", help="a value for every input"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write: .svg, .png, .pdf or .dot; - for DOT text on stdout (default: "
        "graph.svg in a terminal, DOT text when stdout is a pipe)",
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
    parser.add_argument(
        "--max-frames",
        type=_positive_int,
        default=None,
        metavar="N",
        help="with --steps: refuse to write more than N frames (default: 100)",
    )
    parser.add_argument(
        "--max-seconds",
        type=_positive_float,
        default=None,
        metavar="S",
        help="with --steps: refuse to render for more than about S seconds (default: 120)",
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


def _positive_float(text: str) -> float:
    """argparse type for --max-seconds: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    """Parse, build, backward, draw; messages on stderr, exit status as documented above."""
    from . import expr

    try:
        result, leaves = expr.from_command_line(args.expression, args.inputs)
    except expr.ExpressionError as exc:
        return _fail(str(exc), 2)
    try:
        result.backward()
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        return _fail(f"cannot differentiate: {exc}", 2)
    return _draw(args, result, leaves)


def _draw(args: argparse.Namespace, result, leaves) -> int:
    from ..files import make_folder
    from .dot import MAX_NODES, GraphTooLargeError, draw
    from .render import FORMATS, RendererNotFoundError, RenderError, find_renderer, save
    from .steps import MAX_FRAMES, MAX_SECONDS, StepsBudgetError, frame_count, render_steps

    options = {
        "view": args.view,
        "edge_derivatives": args.edge_derivatives,
        "chain_rule": args.chain_rule,
        "legend": not args.no_legend,
        "max_nodes": MAX_NODES if args.max_nodes is None else args.max_nodes,
    }
    output = args.output
    chosen_for_you = output is None and sys.stdout.isatty()
    if chosen_for_you:
        output = Path("graph.svg" if find_renderer() else "graph.dot")
    elif output == Path("-"):
        output = None
    if output is not None and output.suffix.lower().lstrip(".") not in FORMATS:
        return _fail(f"cannot tell the format of {str(output)!r}: use .svg, .png, .pdf or .dot", 2)
    budget = {
        "max_frames": MAX_FRAMES if args.max_frames is None else args.max_frames,
        "max_seconds": MAX_SECONDS if args.max_seconds is None else args.max_seconds,
    }
    if args.steps is not None and frame_count(result) > budget["max_frames"]:
        return _fail(_over_budget("frames", frame_count(result), budget["max_frames"]), 2)
    try:
        drawing = draw(result, title=args.expression, **options)
        if output is None:
            sys.stdout.write(drawing.source)
        else:
            make_folder(output.parent, output)
            save(drawing, output)
        frames = []
        if args.steps is not None:
            fmt = "png" if output is not None and output.suffix.lower() == ".png" else "svg"
            frames = render_steps(result, args.steps, fmt=fmt, **budget, **options)
    except GraphTooLargeError as exc:
        return _fail(_too_large(exc), 2)
    except StepsBudgetError as exc:
        return _fail(_over_budget(exc.budget, exc.needed, exc.limit), 2)
    except (RendererNotFoundError, RenderError) as exc:
        return _fail(str(exc), 1)
    except OSError as exc:  # write_atomically's and make_folder's errors name the file
        message = str(exc)
        return _fail(message if message.startswith("cannot ") else f"cannot write: {message}", 1)
    out = sys.stderr if output is None else sys.stdout
    print(_summary(args.expression, result, leaves), file=out)
    if chosen_for_you:
        print(
            f"wrote {output} (choose the file and format with -o FILE; -o - prints DOT)", file=out
        )
    elif output is not None:
        print(f"wrote {output}", file=out)
    if frames:
        print(
            f"wrote {len(frames)} frames (forward, then each backward step) to {args.steps}",
            file=out,
        )
    return 0


def _over_budget(budget: str, needed: float, limit: float) -> str:
    """--steps' budget error with the flag that raises it (nothing was written to DIR)."""
    from .steps import _duration

    if budget == "frames":
        return (
            f"--steps would write {needed} frames, over the budget of {limit} frames "
            "(one frame per backward step, each rendering the whole graph): draw a smaller "
            "expression, or raise the budget with --max-frames N"
        )
    return (
        f"--steps would take about {_duration(needed)} to render, over the budget of "
        f"{limit:g} seconds; no frame was written: draw a smaller expression, or raise the "
        "budget with --max-seconds S"
    )


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
