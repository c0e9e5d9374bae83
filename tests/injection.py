"""Failure injection for the tests: raise an exception at the k-th bytecode a call runs in
chosen files (with a trace function), so a test can check that an interruption at ANY point,
Ctrl-C included, leaves the user's objects as they were."""

from __future__ import annotations

import dis
import linecache
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


def run_interrupted_twice(
    k: int,
    j: int,
    exc_type: type[BaseException],
    call: Callable[[], object],
    files: str | tuple[str, ...],
) -> tuple[int, tuple[str, str] | None]:
    """Run call() raising ``exc_type`` at the k-th bytecode executed in ``files``, then a
    second one at the j-th bytecode executed there after the first was raised (in the except
    and finally clauses that handle it, and what they call): a user pressing Ctrl-C twice.

    Returns (how many bytecodes ran after the first exception, (function, source line, or the
    instruction's name if it has no line) where the second was raised, or None if the call
    ended first).  The call must raise one of ours.

    A trace function that raises is switched off by Python, so a profile function (which
    Python leaves on) switches tracing back on at the next call or return after the first
    exception.  Hence the bytecodes of an except clause in the function the first exception
    was raised in are watched only from its first call on; when the first exception comes
    from a function it calls, the whole clause is watched.
    """
    count, after, where = 0, None, None

    def trace_call(frame, event, arg):
        if not frame.f_code.co_filename.startswith(files):
            return None
        frame.f_trace_opcodes = True
        return trace_opcode

    def trace_opcode(frame, event, arg):
        nonlocal count, after, where
        if event != "opcode":
            return trace_opcode
        if after is None:
            count += 1
            if count == k:
                after = 0
                raise exc_type(f"injected at bytecode {k}")
        else:
            after += 1
            if after == j:
                code, line = frame.f_code, frame.f_lineno
                if line is None:  # an instruction of no line (the start of an except clause)
                    where = (code.co_name, dis.opname[code.co_code[frame.f_lasti]])
                else:
                    where = (code.co_name, linecache.getline(code.co_filename, line).strip())
                raise exc_type(f"second, injected {j} bytecodes after the first")
        return trace_opcode

    def rearm(frame, event, arg):
        if after is None or where is not None or sys.gettrace() is not None:
            return
        sys.settrace(trace_call)
        while frame is not None:  # the frames already running: trace them from here on
            if frame.f_code.co_filename.startswith(files):
                frame.f_trace, frame.f_trace_opcodes = trace_opcode, True
            frame = frame.f_back

    previous_trace, previous_profile = sys.gettrace(), sys.getprofile()
    sys.setprofile(rearm)
    sys.settrace(trace_call)
    try:
        call()
    except exc_type as exc:
        assert str(exc).startswith(("injected at bytecode", "second, injected"))
    else:
        raise AssertionError("the call finished although an exception was injected")
    finally:
        sys.setprofile(previous_profile)  # first: its c_call event would rearm the tracing
        sys.settrace(previous_trace)
    return after, where
