"""Failure injection for the tests: raise an exception at the k-th bytecode a call runs in
chosen files (with a trace function), so a test can check that an interruption at ANY point,
Ctrl-C included, leaves the user's objects as they were."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run_interrupted_at(
    k: int,
    exc_type: type[BaseException],
    call: Callable[[], object],
    files: str | tuple[str, ...],
    *,
    on_call: Callable[[object, int], None] | None = None,
    wrapped: tuple[type[BaseException], ...] = (),
) -> int:
    """Run call() raising ``exc_type("injected at bytecode k")`` at the k-th bytecode executed
    in ``files`` (path prefixes); return how many ran there: k if the exception was injected,
    fewer if call() finished first (k = 0 only counts).

    ``on_call(frame, count)`` runs as each watched function starts; ``wrapped`` are exception
    types the code may raise with the injected one as their ``__cause__``.
    """
    count = 0

    def trace_call(frame, event, arg):
        if not frame.f_code.co_filename.startswith(files):
            return None
        if on_call is not None:
            on_call(frame, count)
        frame.f_trace_opcodes = True
        return trace_opcode

    def trace_opcode(frame, event, arg):
        nonlocal count
        if event == "opcode":
            count += 1
            if count == k:
                raise exc_type(f"injected at bytecode {k}")
        return trace_opcode

    previous = sys.gettrace()
    sys.settrace(trace_call)
    try:
        call()
    except exc_type as exc:
        assert str(exc) == f"injected at bytecode {k}"  # ours, not an error the code raised
        return k
    except wrapped as exc:
        assert isinstance(exc.__cause__, exc_type)
        return k
    finally:
        sys.settrace(previous)
    assert not 0 < k <= count, "the injected exception was swallowed"
    return count
