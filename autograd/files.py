"""Writing files so that a failure changes nothing: ``write_atomically``, ``write_all_atomically``.

Used for everything chainrule writes (saved models, DOT text, rendered pictures).  The bytes
go to a temporary file beside the target, which is then renamed over it; ``os.replace`` is
atomic on POSIX and Windows, so a reader (or a crash) sees the old file or the new one, never
half of one.  Produce the bytes in full before calling (render first, then write), so a failed
render touches nothing either.

What the rename must not lose, it keeps: a symbolic link is followed (the file it points to is
replaced, the link stays a link), an existing file keeps its permission bits (and its owner
where the system allows), and what ``cp`` would refuse is refused before anything is written:
a directory, a FIFO or device (a rename would silently put a plain file in its place), or a
read-only file.  A temporary file is named ``.<name>.<pid>.<random>.tmp``; one left behind by a
process that was killed mid-write is removed by the next write to the same target (see
``_remove_abandoned``), so they cannot accumulate.

``make_folder`` creates the folder a file goes in, with an error that says why it cannot.
``write_all_atomically`` writes a set of files (the frames of one backward pass) all or none:
every temporary file is written first, then all are renamed in one C-level call, which a
Ctrl-C cannot split (Python delivers it between bytecodes).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

# A temporary file whose process is gone is removed once it is this old: the age guard keeps a
# folder shared between machines (where a process id from another host means nothing here)
# from losing a save that is still in progress there.
ABANDONED_AFTER = 600  # seconds
ABANDONED_AFTER_NO_PIDS = 24 * 3600  # where process ids cannot be checked (Windows): age only

_KINDS = (  # (test, what the error calls it) for files a rename must not replace
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def write_atomically(
    path: str | os.PathLike, data: bytes, action: str = "write", durable: bool = False
) -> Path:
    """Write data to path through a temporary file and a rename; returns the path.

    If writing fails (or is interrupted, Ctrl-C included) before the rename, path is as it was
    and no temporary file is left; the error (same type and errno) names path and why, e.g.
    ``cannot write out/g.svg: directory /abs/out does not exist`` (``action`` replaces "write":
    "save to").  A symlink is written through; a directory, FIFO, device or read-only file is
    refused.  ``durable=True`` also fsyncs the file and its folder, so the new content survives
    a power cut.  A new file gets the permissions the umask gives any new file; an existing
    one keeps its own.
    """
    path = Path(path)
    target = Path(os.path.realpath(path))  # symlinks followed: the link itself is kept
    try:
        old = _replaceable(target)
    except OSError as exc:
        raise _naming_path(path, target, action, exc) from None
    tmp = target.with_name(_temp_name(target.name, os.getpid(), secrets.token_hex(4)))
    try:
        _fill_new_file(tmp, data, old, durable)
        os.replace(tmp, target)  # the commit point: before it the old file is intact
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # e.g. the "folder" is a file: there is no temporary file to remove
        if isinstance(exc, OSError):
            raise _naming_path(path, target, action, exc) from None
        raise
    if durable:
        _fsync_folder(target.parent)
    _remove_abandoned(target)
    return path


def write_all_atomically(
    files: Sequence[tuple[str | os.PathLike, bytes]], action: str = "write"
) -> list[Path]:
    """Write each (path, data) as ``write_atomically`` does, all of them or none; returns the
    paths.

    Every file is first written to its temporary file (a failure, Ctrl-C included, removes
    them all and leaves every path as it was), then all are renamed over their paths in one
    C-level call: a Ctrl-C lands before the first rename or after the last.  Only a rename
    that the system refuses midway (each path was checked first) could leave some renamed.
    """
    paths = [Path(path) for path, _ in files]
    staged: list[tuple[Path, Path]] = []  # (temporary file, target), each listed before it exists
    try:
        for path, (_, data) in zip(paths, files, strict=True):
            _write_temporary(path, data, action, staged)
        temporary, targets = [tmp for tmp, _ in staged], [target for _, target in staged]
        deque(map(os.replace, temporary, targets), maxlen=0)  # the commit point: one C call
    except BaseException as exc:
        for tmp, _ in staged:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        if isinstance(exc, OSError) and exc.filename2 is not None:  # a rename refused
            failed = targets.index(Path(exc.filename2))
            raise _naming_path(paths[failed], targets[failed], action, exc) from None
        raise
    for _, target in staged:
        _remove_abandoned(target)
    return paths


def _write_temporary(path: Path, data: bytes, action: str, staged: list) -> None:
    """Write data to a new temporary file beside path's target, listed in `staged` first;
    an OSError names path and why, as ``write_atomically``'s do."""
    target = Path(os.path.realpath(path))
    try:
        old = _replaceable(target)
        tmp = target.with_name(_temp_name(target.name, os.getpid(), secrets.token_hex(4)))
        staged.append((tmp, target))
        _fill_new_file(tmp, data, old)
    except OSError as exc:
        raise _naming_path(path, target, action, exc) from None


def _fill_new_file(
    tmp: Path, data: bytes, old: os.stat_result | None, durable: bool = False
) -> None:
    """Create tmp (it must not exist yet) holding data, with old's owner and mode if there is
    an old file; ``durable`` fsyncs it.  The descriptor is closed on every exit."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if old is not None:
            _keep_owner_and_mode(fd, old)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def make_folder(folder: Path, writing: str | os.PathLike) -> None:
    """Create folder and its parents, to write `writing` in; an OSError that names `writing`
    and why not (a file in the way, a folder that cannot be created) if that cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocking = next((p for p in [folder, *folder.parents] if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            error: OSError = NotADirectoryError(
                f"cannot write {writing}: {blocking} is a file, not a directory"
            )
        else:
            error = type(exc)(
                f"cannot write {writing}: cannot create directory {folder}: {exc.strerror or exc}"
            )
        error.errno = exc.errno
        raise error from None


def _replaceable(target: Path) -> os.stat_result | None:
    """The existing target's stat (None if there is none); OSError for what must not be replaced.

    ``cp`` opens an existing file for writing, so it fails on a read-only file; a rename only
    needs the folder to be writable, so that is checked here from the permission bits.  Root
    bypasses the bits (as ``cp`` run by root does), except that a file nobody may write
    (no w bit at all, e.g. ``chmod a-w``) is refused for root too.
    """
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    for is_kind, kind in _KINDS:
        if is_kind(st.st_mode):
            code = errno.EISDIR if kind == "a directory" else errno.EINVAL
            raise OSError(code, f"it is {kind}, not a regular file; write to a file path instead")
    if not _may_write(target, st):
        raise PermissionError(
            errno.EACCES,
            f"the file is read-only (mode {stat.filemode(st.st_mode)}); "
            "make it writable (chmod u+w) or write elsewhere",
        )
    return st


def _may_write(target: Path, st: os.stat_result) -> bool:
    """Whether the permission bits let this process write the existing file."""
    if os.name != "posix":
        return bool(st.st_mode & stat.S_IWRITE)  # Windows: the read-only attribute
    if os.geteuid() == 0:
        return bool(st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return os.access(target, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


def _keep_owner_and_mode(fd: int, old: os.stat_result) -> None:
    """Give the temporary file the old file's owner (where allowed) and permission bits."""
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != _owner(fd):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)  # root, or the owner keeping a group of theirs
        except PermissionError:
            pass  # not allowed to give the file away: it becomes this user's
    if hasattr(os, "fchmod"):  # (Windows has only the read-only flag, checked before)
        os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after chown, which clears set-id bits


def _owner(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_uid, st.st_gid


def _temp_name(name: str, pid: int, tag: str) -> str:
    return f".{name}.{pid}.{tag}.tmp"


def _remove_abandoned(target: Path) -> None:
    """Remove temporary files for target that a killed process left behind.

    Ours are ``.<name>.<pid>.<8 hex>.tmp``; one is abandoned when its process no longer runs
    and it is older than ``ABANDONED_AFTER`` (without process ids: ``ABANDONED_AFTER_NO_PIDS``).
    A process that is still running may still rename its file, so its files are never touched.
    Best effort: a failure here never fails the write that just succeeded.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    now = time.time()
    try:
        with os.scandir(target.parent) as entries:
            candidates = [(e, m) for e in entries if (m := pattern.fullmatch(e.name))]
        for entry, match in candidates:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if os.name == "posix":
                abandoned = age > ABANDONED_AFTER and not _running(int(match.group(1)))
            else:
                abandoned = age > ABANDONED_AFTER_NO_PIDS
            if abandoned and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
    except OSError:
        pass


def _running(pid: int) -> bool:
    """Whether a process with this id runs here (POSIX: signal 0 checks without sending)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process (or an id we cannot check): assume it runs
    return True


def _naming_path(path: Path, target: Path, action: str, exc: OSError) -> OSError:
    """exc again, its message naming path and why (a missing folder, not a temporary file)."""
    folder = target.parent
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
        try:
            os.close(fd)
        except OSError:
            pass
