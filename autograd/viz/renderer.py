"""Which program renders DOT text (``dot`` or ``graphviz-pure``), and running it.

The renderer is found on every call (so installing Graphviz mid-session just works): a real
Graphviz ``dot`` on PATH first, otherwise the pip-only ``graphviz-pure`` (a dot-compatible
command).  Either is run with the DOT text on stdin and ``-Tsvg``/``-Tpng``.  With neither, a
``RendererNotFoundError`` says how to install one.  DOT text itself never needs a renderer.
This module knows nothing of Values or drawings: ``dot.py`` renders its ``Drawing`` here, and
``render.py`` (drawing and writing files) builds on both.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import warnings

FORMATS = ("dot", "svg", "png", "pdf")  # what write_graph and save accept
RENDERERS = ("dot", "graphviz-pure")  # looked up on PATH in this order
TIMEOUT = 300  # seconds; a drawing under max_nodes renders in well under one

INSTALL_HINT = (
    "Rendering SVG or PNG needs Graphviz's `dot` program, which was not found on PATH. "
    "Install it with one of:\n"
    "    apt-get install graphviz                 (Debian, Ubuntu)\n"
    "    brew install graphviz                    (macOS)\n"
    "    conda install -c conda-forge graphviz    (conda)\n"
    "    pip install graphviz-pure                (no system package; provides `graphviz-pure`)\n"
    "or write DOT text instead (format 'dot', or drawing.source), which needs no program."
)


SMALLER = (
    "draw fewer nodes: a smaller expression, one sample instead of a batch, or (in Python) "
    "collapse='neuron'"
)


PURE_LIMITS = (
    "rendering with graphviz-pure, which draws chainrule's pictures approximately: bold and "
    "non-ASCII text (∂, δ, ŷ) can reach past its box, and neuron clusters can come out in "
    "reverse order. For exact pictures install Graphviz (apt-get install graphviz, brew install "
    "graphviz, conda install -c conda-forge graphviz)."
)
_warned_pure = False  # PURE_LIMITS is said once per process (two threads may both say it)


class ApproximateRendererWarning(UserWarning):
    """The renderer is graphviz-pure, whose pictures are close to Graphviz's but not equal."""


class RendererNotFoundError(RuntimeError):
    """Neither Graphviz's ``dot`` nor ``graphviz-pure`` is on PATH."""


class RenderError(RuntimeError):
    """The renderer ran but failed (its error output is in the message)."""


class RenderTimeoutError(RenderError):
    """The renderer did not finish within the time it was given."""


def find_renderer() -> str | None:
    """Path of the program that renders DOT here (``dot``, else ``graphviz-pure``), or None.

    Looked up on PATH, then beside the running Python: ``dev.py`` may link ``dot`` into
    ``.venv/bin``, which is not on PATH when ``.venv/bin/chainrule`` runs without activation.
    """
    beside_python = os.path.dirname(sys.executable)  # not resolved: the venv's bin, not /usr/bin
    for where in (None, beside_python):
        for name in RENDERERS:
            path = shutil.which(name, path=where)
            if path:
                return path
    return None


def render(source: str, fmt: str = "svg", timeout: float = TIMEOUT) -> bytes:
    """Render DOT text to `fmt` ("svg", "png" or "pdf") bytes with the renderer found on PATH."""
    if fmt not in FORMATS or fmt == "dot":
        raise ValueError(f"cannot render to {fmt!r}; formats: svg, png, pdf")
    program = find_renderer()
    if program is None:
        raise RendererNotFoundError(INSTALL_HINT)
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise RenderTimeoutError(
            f"{os.path.basename(program)} took over {timeout:g} s; {SMALLER}"
        ) from None
    except OSError as exc:
        raise RenderError(f"could not run {program}: {exc}") from None
    if done.returncode < 0:  # killed by a signal: a crash (or the OOM killer), not a message
        raise RenderError(
            f"{os.path.basename(program)} -T{fmt} crashed (killed by "
            f"{_signal_name(-done.returncode)}) while rendering a graph of "
            f"{source.count(' -> ')} edges; large graphs can make it run out of memory or "
            f"crash: {SMALLER}"
        )
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise RenderError(f"{os.path.basename(program)} -T{fmt} failed: {message}")
    _warn_if_pure(program, done.stdout)
    return done.stdout


def is_graphviz_pure(program: str, output: bytes = b"") -> bool:
    """Whether `program` is graphviz-pure: by its name (dev.py links it as ``dot``, so the
    link's target counts) or by the comment it writes at the top of an SVG."""
    name = os.path.basename(os.path.realpath(program))
    return name.startswith("graphviz-pure") or b"(graphviz-pure)" in output[:400]


def _warn_if_pure(program: str, output: bytes) -> None:
    global _warned_pure
    if not _warned_pure and is_graphviz_pure(program, output):
        _warned_pure = True
        warnings.warn(PURE_LIMITS, ApproximateRendererWarning, stacklevel=3)


def _signal_name(number: int) -> str:
    """``SIGSEGV, segmentation fault`` for 11 (what the number means where it is known)."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    description = signal.strsignal(number) if hasattr(signal, "strsignal") else None
    return f"{name}, {description.lower()}" if description else name


def svg(source: str) -> str:
    """DOT text rendered to SVG text."""
    return render(source, "svg").decode("utf-8")
