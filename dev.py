#!/usr/bin/env python3
"""Bootstrap for chainrule: one command from a fresh clone to a working environment.

Usage (needs only Python 3.10+, nothing installed beforehand)::

    python3 dev.py lecture [args...]   # run `chainrule lecture` (the lecture's worked example)
    python3 dev.py test [pytest args]  # run the whole test suite (pytest --nbmake)
    python3 dev.py bench [args...]     # run benchmarks/run.py (installs the `bench` extra)
    python3 dev.py notebooks [args...] # open the notebooks in JupyterLab (the `notebooks` extra)
    python3 dev.py setup               # only prepare the environment

Every command first makes sure that

1. ``.venv`` exists next to this file (created with ``python -m venv``; re-created if broken);
2. the project is installed into it editable with the extras the command needs, which is
   skipped when pyproject.toml has not changed since the last install (a stamp file in
   ``.venv`` records its hash and the extras installed), so repeated runs are fast;
3. Graphviz's ``dot`` can render: taken from PATH if there; otherwise installed with apt-get
   when running as root on Debian/Ubuntu; otherwise the pip-only ``graphviz-pure`` (a port of
   dot) is installed into the venv and linked as ``.venv/bin/dot``.  If none of that works a
   message says how to install Graphviz, but the command still runs;
4. for ``setup`` and ``test``: a Chromium browser (the explorer page's tests drive it with
   Playwright, from the dev extra) is on PATH, installed with apt-get as root on Debian/Ubuntu
   if it is not; otherwise a message says how to get it and those tests skip (CI fails them).

Commands run with ``.venv/bin`` first on PATH, so a ``dot`` linked there is found.  Only the
standard library is used here, on purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".chainrule-install.json"
IS_WINDOWS = os.name == "nt"
VENV_BIN = VENV / ("Scripts" if IS_WINDOWS else "bin")
EXE = ".exe" if IS_WINDOWS else ""
VENV_PYTHON = VENV_BIN / f"python{EXE}"

# The pip-only fallback for Graphviz: a self-contained port of `dot` (wheels for Linux, macOS
# and Windows).  Its binary is called `graphviz-pure`; we link it as `dot` so the `graphviz`
# Python package finds it.  It renders svg and png (not pdf).
GRAPHVIZ_PURE = "graphviz-pure==0.2.2"

# Which extras each command installs (the tests of the PyTorch bridge need the `torch` extra).
EXTRAS = {
    "setup": ["dev", "torch"],
    "test": ["dev", "torch"],
    "lecture": [],
    "bench": ["bench"],
    "notebooks": ["notebooks"],
}
# `dev` includes the `notebooks` extra (the tests start JupyterLab), so it satisfies it too.
IMPLIED_EXTRAS = {"dev": ["notebooks"]}

USAGE = """usage: python3 dev.py COMMAND [args...]

  lecture [args...]   run `chainrule lecture` (the lecture's worked example, recomputed and drawn)
  test [pytest args]  run the test suite (pytest --nbmake)
  bench [args...]     run benchmarks/run.py (installs the `bench` extra)
  notebooks [args...] open the notebooks in JupyterLab (args go to `jupyter lab`,
                      e.g. --no-browser --port 8899)
  setup               only prepare .venv (install chainrule + dev tools and torch, Graphviz)"""


class BootstrapError(Exception):
    """A step failed in a way the user has to fix; the message says how."""


def step(message: str) -> None:
    """Print one progress line."""
    print(f"==> {message}", flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command without stdin (so nothing can hang waiting for a prompt, e.g. in CI)."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([str(c) for c in cmd], **kwargs)


def pip_install(args: list[str]) -> bool:
    """pip install into the venv, quietly: pip's output is shown only if it fails."""
    cmd = [VENV_PYTHON, "-m", "pip", "install", "--disable-pip-version-check", *args]
    result = run(
        cmd, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if result.returncode != 0:
        sys.stdout.write(result.stdout)
        step(f"pip install {' '.join(args)} failed (exit {result.returncode})")
    return result.returncode == 0


def child_env() -> dict[str, str]:
    """The environment for commands run in the venv: its bin first on PATH, as if activated."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("PYTHONHOME", None)
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return env


# --------------------------------------------------------------------------- the venv


def venv_works() -> bool:
    """True if .venv has a Python that starts and has pip."""
    if not VENV_PYTHON.exists():
        return False
    probe = run([VENV_PYTHON, "-c", "import pip"], capture_output=True)
    return probe.returncode == 0


def ensure_venv() -> None:
    """Create .venv (or re-create it when it is broken, e.g. its Python was removed)."""
    if venv_works():
        return
    if VENV.exists():
        step(f"{VENV.name} is broken (no working python/pip); re-creating it")
        shutil.rmtree(VENV)
    else:
        step(f"Creating virtual environment {VENV.name} with {sys.executable}")
    try:
        import ensurepip  # noqa: F401  (Debian ships venv's pip support separately)
        import venv  # noqa: F401
    except ImportError:
        raise BootstrapError(venv_missing_message()) from None
    result = run([sys.executable, "-m", "venv", VENV], capture_output=True, text=True)
    if result.returncode != 0 or not venv_works():
        shutil.rmtree(VENV, ignore_errors=True)
        detail = (result.stderr or result.stdout).strip()
        if "ensurepip" in detail:
            raise BootstrapError(venv_missing_message() + "\n\n" + detail)
        raise BootstrapError(f"could not create {VENV}:\n{detail}")


def venv_missing_message() -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (
        "Python's venv module (with ensurepip) is not available.\n"
        f"On Debian/Ubuntu install it with:  sudo apt-get install python3-venv "
        f"(or python{version}-venv), then run this command again."
    )


# --------------------------------------------------------------------------- the install


def pyproject_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def read_stamp() -> dict:
    try:
        return json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}


def ensure_installed(extras: list[str]) -> None:
    """pip install -e ".[extras]" unless the stamp says this pyproject.toml already has them.

    Extras accumulate: once `dev` is in, a later `lecture` (no extras) or `bench` does not
    reinstall without it; the stamp's hash covers pyproject.toml and the extras installed.
    """
    stamp = read_stamp()
    digest = pyproject_hash()
    have = set(stamp.get("extras", []))
    have |= {implied for extra in have for implied in IMPLIED_EXTRAS.get(extra, [])}
    up_to_date = stamp.get("pyproject") == digest
    if up_to_date and set(extras) <= have:
        return
    # After a pyproject change, re-install what was there before too, so it stays current.
    wanted = sorted(set(extras) | have)
    target = "." + (f"[{','.join(wanted)}]" if wanted else "")
    why = "pyproject.toml changed" if stamp else "first install, takes a few minutes"
    if up_to_date:
        why = "new extras"
    step(f'Installing chainrule into {VENV.name}: pip install -e "{target}" ({why})')
    if not pip_install(["-e", target]):
        STAMP.unlink(missing_ok=True)
        raise BootstrapError(f'pip install -e "{target}" failed; see its output above.')
    STAMP.write_text(json.dumps({"pyproject": digest, "extras": wanted}, indent=2) + "\n")


# --------------------------------------------------------------------------- Graphviz


def system_dot() -> str | None:
    """`dot` on PATH, not counting the one this script may have linked into the venv."""
    venv_bin = os.path.normcase(str(VENV_BIN))
    path = os.pathsep.join(
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and os.path.normcase(os.path.abspath(p)) != venv_bin
    )
    return shutil.which("dot", path=path)


def venv_dot() -> Path:
    return VENV_BIN / f"dot{EXE}"


def dot_runs(dot: str | Path) -> bool:
    try:
        probe = run(
            [dot, "-Tsvg"], input=b"digraph{a->b}", stdin=None, capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and b"<svg" in probe.stdout


def ensure_graphviz() -> None:
    """Make `dot` available; warn (don't fail) if no route works."""
    shim = venv_dot()
    if system_dot():
        # A real Graphviz is installed: drop our fallback link so it doesn't shadow it.
        if shim.is_symlink():
            shim.unlink()
        return
    if shim.exists() and dot_runs(shim):
        return
    if apt_install_graphviz() and system_dot():
        return
    if pip_install_graphviz_pure():
        return
    print(
        "\n"
        "warning: Graphviz's `dot` is not available, so graphs can't be drawn (everything\n"
        "else works).  Install Graphviz with one of:\n"
        "    sudo apt-get install graphviz      (Debian/Ubuntu)\n"
        "    brew install graphviz              (macOS)\n"
        "    conda install -c conda-forge graphviz\n"
        f"  or let `python3 dev.py setup` retry the pip-only {GRAPHVIZ_PURE} once pip works.\n",
        file=sys.stderr,
        flush=True,
    )


def apt_install_graphviz() -> bool:
    """As root with apt-get: install Debian's graphviz. Returns True if apt-get succeeded."""
    return apt_install("graphviz", "Graphviz `dot` not found")


# The browser the explorer page's tests drive; Debian's package and binary are `chromium`.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def ensure_browser() -> None:
    """Make a Chromium available for the browser tests; warn (don't fail) if that cannot be done."""
    if any(shutil.which(name) for name in CHROMIUM_NAMES):
        return
    if apt_install("chromium", "Chromium not found (the explorer page's tests need it)"):
        if any(shutil.which(name) for name in CHROMIUM_NAMES):
            return
    print(
        "\n"
        "warning: no Chromium browser on PATH, so the explorer page's browser tests will skip\n"
        "(CI fails them).  Install it with:  sudo apt-get install chromium   (Debian/Ubuntu)\n"
        "or put any Chromium or Chrome on PATH as `chromium`.\n",
        file=sys.stderr,
        flush=True,
    )


def apt_install(package: str, why: str) -> bool:
    """As root with apt-get: install a Debian package. Returns True if apt-get succeeded."""
    is_root = getattr(os, "geteuid", lambda: -1)() == 0
    apt = shutil.which("apt-get")
    if not (is_root and apt):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    step(f"{why}; installing it: apt-get update && apt-get install -y {package}")
    for cmd in (
        [apt, "-q", "update"],
        # Wait for a held dpkg lock (e.g. unattended upgrades) instead of failing at once.
        [
            apt,
            "-q",
            "-y",
            "-o",
            "DPkg::Lock::Timeout=120",
            "install",
            "--no-install-recommends",
            package,
        ],
    ):
        result = run(cmd, env=env, stdout=subprocess.DEVNULL)
        if result.returncode != 0:
            step(f"{' '.join(cmd[1:])} failed (exit {result.returncode})")
            return False
    return True


def pip_install_graphviz_pure() -> bool:
    """Install graphviz-pure into the venv and link its binary as `dot`. True if dot works."""
    step(
        f"Graphviz `dot` not found; installing the pip-only fallback {GRAPHVIZ_PURE} "
        f"into {VENV.name}"
    )
    binary = VENV_BIN / f"graphviz-pure{EXE}"
    if not pip_install([GRAPHVIZ_PURE]) or not binary.exists():
        return False
    shim = venv_dot()
    if shim.exists() or shim.is_symlink():
        shim.unlink()
    if IS_WINDOWS:
        shutil.copy2(binary, shim)  # symlinks need extra rights on Windows
    else:
        shim.symlink_to(binary.name)  # relative, so the venv can be moved
    if dot_runs(shim):
        step(f"Using {binary.name} as {shim.relative_to(ROOT)}")
        return True
    return False


# --------------------------------------------------------------------------- commands


def prepare(command: str) -> None:
    ensure_venv()
    ensure_installed(EXTRAS[command])
    if command != "bench":  # the benchmarks draw nothing
        ensure_graphviz()
    if command in ("setup", "test"):
        ensure_browser()


def run_in_venv(cmd: list[str]) -> int:
    """Run a command with the venv active; returns its exit code."""
    shown = [os.path.relpath(c, ROOT) if isinstance(c, Path) else c for c in cmd]
    step(" ".join(shown))
    try:
        # stdin is inherited so interactive tools (pdb, input()) keep working.
        return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=child_env())
    except FileNotFoundError:
        raise BootstrapError(f"{cmd[0]} not found; try: python3 dev.py setup") from None


def notebooks_command(args: list[str]) -> list:
    """JupyterLab on notebooks/, from the venv (tests/test_dev_notebooks.py starts the same)."""
    command = [VENV_PYTHON, "-m", "jupyterlab", f"--notebook-dir={ROOT / 'notebooks'}"]
    if getattr(os, "geteuid", lambda: -1)() == 0:  # root, e.g. in a container: Jupyter refuses
        command.append("--allow-root")  # to start as root without this flag
    return [*command, *args]


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    if command not in EXTRAS:
        print(f"dev.py: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    if sys.version_info < (3, 10):  # noqa: UP036  (dev.py may be run by an older python3)
        raise BootstrapError(
            f"chainrule needs Python 3.10 or newer; this is {sys.version.split()[0]}"
        )

    prepare(command)
    if command == "setup":
        step(f"Ready. Activate with: source {VENV_BIN.relative_to(ROOT) / 'activate'}")
        return 0
    if command == "lecture":
        return run_in_venv([VENV_BIN / f"chainrule{EXE}", "lecture", *args])
    if command == "test":
        return run_in_venv([VENV_PYTHON, "-m", "pytest", "--nbmake", *args])
    if command == "notebooks":
        return run_in_venv(notebooks_command(args))
    # bench
    script = ROOT / "benchmarks" / "run.py"
    if not script.exists():
        raise BootstrapError(f"{script.relative_to(ROOT)} does not exist yet")
    return run_in_venv([VENV_PYTHON, script.relative_to(ROOT), *args])


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BootstrapError as error:
        print(f"\ndev.py: error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
