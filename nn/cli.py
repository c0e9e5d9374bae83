"""The ``chainrule`` command line (also ``python -m nn``).

It lives in ``nn`` because it is the one place that sees both packages: the engine (``autograd``)
never imports ``nn``.  Each subcommand lives in its own module and is listed in ``SUBCOMMANDS``
below; the module provides ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys

from autograd import __version__

from .console import run_with_stdout_guard

# name -> module holding `add_arguments(parser)` and `run(args) -> int`
SUBCOMMANDS: dict[str, str] = {
    "lecture": "nn.lecture",
    "draw": "autograd.viz.command",
    "explore": "autograd.viz.explorer_command",
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


def expression_first(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """argv with ``--`` before an expression that starts with '-' (``chainrule draw "-x**2"``).

    argparse takes any word starting with '-' for an option.  For a subcommand whose first
    positional argument is an ``expression``, a word that is none of its options is the
    expression: the options (with their values) move in front of a ``--`` and the positional
    words follow it, which is what the user would have typed with ``--``.
    """
    if not argv or "--" in argv:
        return argv
    sub = _subcommand_parser(argv, parser)
    positionals = [a for a in sub._actions if not a.option_strings] if sub else []
    if not positionals or positionals[0].dest != "expression":
        return argv
    options, words, rest = [], [], iter(argv[1:])
    for word in rest:
        name = word.split("=", 1)[0]
        action = sub._option_string_actions.get(name)
        if action is None:
            if word.startswith("--") and not words:
                return argv  # an unknown long option: argparse names it
            words.append(word)
        elif action.nargs == 0 or "=" in word:
            options.append(word)
        elif action.nargs is None:
            options += [word, next(rest, "")]
        else:  # an option with an optional or variable number of values: leave argv alone
            return argv
    if not words or not words[0].startswith("-"):
        return argv
    return [argv[0], *options, "--", *words]


NEGATIVE_NUMBER = re.compile(r"-\.?\d")  # -2,3 or -.5: never an option's name


def negative_values_attached(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """argv with a negative number after an option joined to it (``--x -2,3`` -> ``--x=-2,3``).

    argparse reads a word starting with '-' as an option unless it is one plain number, so
    ``--w1 -0.78,0.13;0.85,0.23`` (the slide's W1) was 'expected one argument'.
    """
    sub = _subcommand_parser(argv, parser)
    if sub is None:
        return argv
    joined, k = argv[:1], 1
    while k < len(argv) and argv[k] != "--":
        action = sub._option_string_actions.get(argv[k])
        value = argv[k + 1] if k + 1 < len(argv) else ""
        if action is not None and action.nargs in (None, "?") and NEGATIVE_NUMBER.match(value):
            joined.append(f"{argv[k]}={value}")
            k += 2
        else:
            joined.append(argv[k])
            k += 1
    return joined + argv[k:]


def _subcommand_parser(argv: list[str], parser: argparse.ArgumentParser):
    """The parser of the subcommand argv starts with, or None."""
    subparsers = next(
        (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None
    )
    return subparsers.choices.get(argv[0]) if subparsers and argv else None


def main(argv: list[str] | None = None) -> int:
    """Parse argv and run the chosen subcommand; returns the exit status.

    A closed or full stdout ends with one line on stderr and status 1 (``console.py``).
    """
    return run_with_stdout_guard("chainrule", lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    words = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(expression_first(negative_values_attached(words, parser), parser))
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 0 if argv is None and len(sys.argv) <= 1 else 2
    return args.run(args)
