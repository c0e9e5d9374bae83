"""Standard output for the command line: a closed or full stdout ends in one line, not a traceback.

``chainrule lecture --json | true`` closes the pipe before the JSON is written, and
``> /dev/full`` fails every write; Python would print a traceback (and another one at exit,
when it flushes what is still buffered).  ``run_with_stdout_guard`` runs a command with
``sys.stdout`` wrapped so that a failed write raises ``OutputClosedError``, which is not an
``OSError`` (a subcommand's ``except OSError`` is about its own files and must not take it for
one); it then prints one line on stderr and returns status 1.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable


class OutputClosedError(Exception):
    """Standard output could not be written (its reader went away, the disk is full, ...)."""

    def __init__(self, cause: OSError | None):
        super().__init__(cause)
        self.cause = cause


class _GuardedStream:
    """A text stream whose write and flush raise OutputClosedError instead of OSError."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        if self._stream is None:  # Python starts with sys.stdout None when fd 1 is closed
            raise OutputClosedError(None)
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputClosedError(exc) from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputClosedError(exc) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def run_with_stdout_guard(prog: str, command: Callable[[], int]) -> int:
    """command() with stdout guarded; its status, or 1 with one line on stderr if stdout failed."""
    original = sys.stdout
    sys.stdout = _GuardedStream(original)
    try:
        try:
            status = command()
        except SystemExit:  # argparse's --help and usage errors: flush what they wrote
            sys.stdout.flush()
            raise
        sys.stdout.flush()
        return status
    except OutputClosedError as exc:
        _discard_buffered(original)
        _report(prog, exc.cause)
        return 1
    finally:
        sys.stdout = original


def _discard_buffered(stream) -> None:
    """Point fd 1 at the null device, so the flush at exit cannot fail (and print) again."""
    if stream is None:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def _report(prog: str, cause: OSError | None) -> None:
    if cause is None:
        why = "standard output is closed"
    elif cause.errno == errno.EPIPE:
        why = "standard output was closed before all output was written (the reader exited)"
    else:
        why = f"cannot write to standard output: {cause.strerror or cause}"
    try:
        print(f"{prog}: {why}", file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass  # stderr is gone too: the exit status still says it failed
