"""The ``chainrule`` command line (also ``python -m nn``).

It lives in ``nn`` because it is the one place that sees both packages: the engine (``autograd``)
never imports ``nn``.  Each subcommand lives in its own module and is listed in ``SUBCOMMANDS``
below; the module provides ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from autograd import __version__

from .console import run_with_stdout_guard

# name -> module holding `add_arguments(parser)` and `run(args) -> int`
SUBCOMMANDS: dict[str, str] = {
    "lecture": "nn.lecture",
    "draw": "autograd.viz.command",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Scalar reverse-mode autodiff for learning backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse argv and run the chosen subcommand; returns the exit status.

    A closed or full stdout ends with one line on stderr and status 1 (``console.py``).
    """
    return run_with_stdout_guard("chainrule", lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 0 if argv is None and len(sys.argv) <= 1 else 2
    return args.run(args)
