"""write_atomically: what a rename must keep (links, modes), what it must refuse, and no debris."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import injection
import pytest

from autograd import files
from autograd.files import write_all_atomically, write_atomically

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file semantics")


def _debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_new_file_gets_the_bytes_and_leaves_no_temporary_file(tmp_path):
    assert write_atomically(tmp_path / "a.txt", b"hello") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_bytes() == b"hello"
    assert _debris(tmp_path) == []


@posix_only
def test_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "model.json"
    real.write_bytes(b"old")
    link = tmp_path / "latest.json"
    link.symlink_to(Path("real") / "model.json")  # relative, as `ln -s` makes them
    write_atomically(link, b"new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "model.json")
    assert real.read_bytes() == b"new"
    assert _debris(tmp_path) == [] and _debris(tmp_path / "real") == []


@posix_only
def test_chain_of_symlinks_and_a_dangling_link_are_followed(tmp_path):
    (tmp_path / "b").symlink_to("c")
    (tmp_path / "a").symlink_to("b")
    write_atomically(tmp_path / "a", b"made")  # c does not exist yet: created, as `>` does
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()
    assert (tmp_path / "c").read_bytes() == b"made" and not (tmp_path / "c").is_symlink()


@posix_only
def test_symlink_loop_is_a_clear_error(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match=r"cannot write .*a: "):
        write_atomically(tmp_path / "a", b"x")
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


@posix_only
def test_fifo_is_refused_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=r"cannot write .*pipe: it is a FIFO \(named pipe\), not a"):
        write_atomically(fifo, b"x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert _debris(tmp_path) == []


@posix_only
def test_device_file_is_refused_not_replaced(tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a copy of /dev/null
    except PermissionError:
        pytest.skip("creating a device file needs CAP_MKNOD")
    with pytest.raises(OSError, match=r"it is a character device, not a regular file"):
        write_atomically(device, b"x")
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_directory_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match=r"cannot write .*d: it is a directory"):
        write_atomically(tmp_path / "d", b"x")


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o664])
def test_existing_file_keeps_its_permission_bits(tmp_path, mode):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    old = os.umask(0o022)
    try:
        write_atomically(path, b"new", durable=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode and path.read_bytes() == b"new"


@posix_only
@pytest.mark.skipif(
    os.name == "posix" and os.geteuid() != 0, reason="giving a file away needs root"
)
def test_existing_file_keeps_its_owner_when_root_writes_it(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    os.chown(path, 1234, 4321)
    write_atomically(path, b"new")
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (1234, 4321) and path.read_bytes() == b"new"


@posix_only
@pytest.mark.parametrize("mode", [0o444, 0o400, 0o000])
def test_read_only_file_is_refused_as_cp_refuses_it(tmp_path, mode):
    # judged from the permission bits: the tests may run as root, who bypasses them
    path = tmp_path / "f"
    path.write_bytes(b"old")
    os.chmod(path, mode)
    with pytest.raises(PermissionError, match=r"cannot write .*f: the file is read-only") as info:
        write_atomically(path, b"new")
    assert info.value.errno == errno.EACCES
    os.chmod(path, 0o600)
    assert path.read_bytes() == b"old" and _debris(tmp_path) == []


@posix_only
def test_read_only_file_behind_a_symlink_is_refused(tmp_path):
    (tmp_path / "f").write_bytes(b"old")
    os.chmod(tmp_path / "f", 0o444)
    (tmp_path / "link").symlink_to("f")
    with pytest.raises(PermissionError, match=r"cannot write .*link: the file is read-only"):
        write_atomically(tmp_path / "link", b"new")
    assert (tmp_path / "f").read_bytes() == b"old"


class _Failing:
    """The os module, except that the n-th call of a listed function raises exc."""

    CALLS = ("open", "fchown", "fchmod", "fstat", "write", "fsync", "close", "replace")

    def __init__(self, n: int, exc: BaseException):
        self.n, self.exc, self.count, self.renamed = n, exc, 0, False

    def __getattr__(self, name):
        real = getattr(os, name)
        if name not in self.CALLS:
            return real

        def call(*args, **kwargs):
            self.count += 1
            if self.count == self.n:
                raise self.exc
            result = real(*args, **kwargs)
            self.renamed |= name == "replace"
            return result

        return call


@posix_only
@pytest.mark.parametrize(
    "exc", [KeyboardInterrupt(), OSError(errno.EIO, "I/O error"), MemoryError()], ids=repr
)
def test_failure_at_every_step_leaves_the_old_file_and_no_temporary_file(
    tmp_path, monkeypatch, exc
):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    counter = _Failing(0, exc)
    monkeypatch.setattr(files, "os", counter)
    write_atomically(path, b"new" * 1000, durable=True)  # counts the calls of a whole write
    steps = counter.count
    assert steps >= 6
    for n in range(1, steps + 1):
        path.write_bytes(b"old")
        failing = _Failing(n, exc)
        monkeypatch.setattr(files, "os", failing)
        try:
            write_atomically(path, b"new" * 1000, durable=True)
        except type(exc) as raised:
            if isinstance(exc, OSError):
                assert str(raised).startswith(f"cannot write {path}: ")
        else:  # only the folder's fsync after the rename may fail quietly (best effort)
            assert failing.renamed and isinstance(exc, OSError), f"step {n} did not raise"
        monkeypatch.setattr(files, "os", os)
        # before the rename (the commit point) the old file is intact; after it, the new one
        expected = b"new" * 1000 if failing.renamed else b"old"
        assert path.read_bytes() == expected, f"failure at step {n} of {steps}: half a change"
        assert _debris(tmp_path) == [], f"failure at step {n} left a temporary file"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


_KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from autograd import files
    real_replace = os.replace
    def hang(*args):
        print("ready", flush=True)
        time.sleep(600)
    files.os.replace = hang
    files.write_atomically(sys.argv[1], b"half")
    """
)


def _leave_a_temporary_file_behind(path: Path) -> Path:
    """Run a writer that is SIGKILLed between writing its temporary file and the rename."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)], stdout=subprocess.PIPE, env=env
    )
    assert child.stdout.readline() == b"ready\n"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    (left,) = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert left.name.startswith(f".{path.name}.{child.pid}.")
    return left


@posix_only
def test_temporary_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b"old")
    left = _leave_a_temporary_file_behind(path)
    assert path.read_bytes() == b"old"  # the killed write changed nothing
    old = time.time() - files.ABANDONED_AFTER - 60
    os.utime(left, (old, old))
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new" and _debris(tmp_path) == []


@posix_only
def test_recent_or_live_temporary_files_and_other_names_are_kept(tmp_path):
    path = tmp_path / "m.json"
    left = _leave_a_temporary_file_behind(path)  # a dead writer's, but only seconds old
    old = time.time() - files.ABANDONED_AFTER - 60
    live = tmp_path / f".m.json.{os.getpid()}.0123abcd.tmp"  # a running process's
    other = tmp_path / ".other.json.999999.0123abcd.tmp"  # another target's
    mine = tmp_path / ".m.json.notes.tmp"  # not our pattern: the user's
    for p in (live, other, mine):
        p.write_bytes(b"")
        os.utime(p, (old, old))
    write_atomically(path, b"new")
    assert _debris(tmp_path) == sorted(p.name for p in (left, live, other, mine))


def test_writing_several_files_interrupted_at_every_bytecode_writes_all_or_none(tmp_path):
    paths = [tmp_path / "a.svg", tmp_path / "b.svg"]
    new = [(path, b"new " + path.name.encode()) for path in paths]
    k = 0
    while True:
        k += 1
        for path in paths:
            path.write_bytes(b"old " + path.name.encode())
        call = lambda: write_all_atomically(new)  # noqa: E731
        if injection.run_interrupted_at(k, KeyboardInterrupt, call, files.__file__) < k:
            break
        contents = {path.read_bytes().split()[0] for path in paths}
        assert len(contents) == 1, f"interrupted at bytecode {k}: old and new files side by side"
        assert _debris(tmp_path) == [], f"interrupted at bytecode {k}: a temporary file is left"
    assert k > 50
    assert [path.read_bytes() for path in paths] == [b"new a.svg", b"new b.svg"]


def test_writing_several_files_refused_for_one_writes_none(tmp_path):
    (tmp_path / "b.svg").mkdir()
    (tmp_path / "a.svg").write_bytes(b"old")
    with pytest.raises(OSError, match=r"cannot write .*b\.svg: it is a directory"):
        write_all_atomically([(tmp_path / "a.svg", b"new"), (tmp_path / "b.svg", b"new")])
    assert (tmp_path / "a.svg").read_bytes() == b"old" and _debris(tmp_path) == []
