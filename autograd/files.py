"""Writing a file so that a failure changes nothing: ``write_atomically``.

Used for everything chainrule writes (saved models, DOT text, rendered pictures).  The bytes
go to a temporary file beside the target, which is then renamed over it; ``os.replace`` is
atomic on POSIX and Windows, so a reader (or a crash) sees the old file or the new one, never
half of one.  Produce the bytes in full before calling (render first, then write), so a failed
render touches nothing either.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomically(
    path: str | os.PathLike, data: bytes, action: str = "write", durable: bool = False
) -> Path:
    """Write data to path through a temporary file and a rename; returns the path.

    If writing fails, path is as it was, no temporary file is left, and the error (same type
    and errno) names path and why, e.g. ``cannot write out/g.svg: directory /abs/out does not
    exist`` (``action`` replaces "write": "save to").  ``durable=True`` also fsyncs the file
    and its folder, so the new content survives a power cut.  The temporary file is created
    with mode 0o666, so the umask gives the result the permissions of any new file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # e.g. the "folder" is a file: there is no temporary file to remove
        if isinstance(exc, OSError):
            raise _naming_path(path, action, exc) from None
        raise
    if durable:
        _fsync_folder(path.absolute().parent)
    return path


def _naming_path(path: Path, action: str, exc: OSError) -> OSError:
    """exc again, its message naming path and why (a missing folder, not a temporary file)."""
    folder = path.absolute().parent
    if not folder.exists():
        reason = f"directory {folder} does not exist"
    elif not folder.is_dir():
        reason = f"{folder} is not a directory"
    else:
        reason = exc.strerror or str(exc)
    error = type(exc)(f"cannot {action} {path}: {reason}")
    error.errno = exc.errno
    return error


def _fsync_folder(folder: Path) -> None:
    """Make a rename in folder durable (POSIX; elsewhere, and on failure, a no-op)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
