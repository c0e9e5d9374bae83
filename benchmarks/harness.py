"""The benchmark harness: every (workload, engine, repeat) in a fresh process, then the report.

Engines alternate and their order flips every repeat; the garbage collector is left on, as a
user has it.  Workers import a copy of ``autograd/`` and ``nn/`` taken when the run starts, so
edits made meanwhile do not mix into one run.  The report gives, per workload and engine, the
median over repeats with the min-max spread, the ratio micrograd / chainrule (and a tape
row's ratios to its numpy floor and PyTorch peer: time and peak memory), each goal of the
target with its verdict, and the machine as measured (CPU, cores, memory, load, Python, commit).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from workloads import REPO, SRC_ENV, WORKLOADS, Medians, Workload, load_engine, make_data

PACKAGES = ("autograd", "nn")


def repeats_for(w: Workload, args) -> int:
    if w.cut_micrograd:  # the whole demo: micrograd takes minutes per repeat
        return args.demo_repeats
    if w.name == "memory":
        return min(args.repeats, 3)  # deterministic up to allocator noise
    return args.repeats


# =============================================================================================
# Running workers
# =============================================================================================


def _emit(result: dict) -> None:
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def worker_main(name: str, engine_name: str, params_file: str) -> None:
    """One measurement (run.py --worker): print its result as a RESULT line."""
    with open(params_file) as f:
        p = json.load(f)
    try:
        engine = load_engine(engine_name)
    except ImportError as exc:
        _emit({"error": "not installed", "detail": str(exc)})
        return
    result = WORKLOADS[name].worker(engine, p)
    _emit(result)
    if p.get("fast_exit"):  # skip the interpreter freeing a million nodes (and any trouble there)
        os._exit(0)


def run_worker(name: str, engine: str, params: dict, timeout: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(params, f)
        path = f.name
    env = dict(os.environ, PYTHONHASHSEED="0")
    run_py = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
    cmd = [sys.executable, run_py, "--worker", name, engine, path]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout ({timeout:.0f} s)"}
    finally:
        os.unlink(path)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            if proc.returncode != 0:
                result.setdefault("info", {})["exit_code"] = proc.returncode
            return result
    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"error": f"crashed (exit {proc.returncode})", "detail": tail}


def fmt_value(x: float, unit: str) -> str:
    if unit == "B/node":
        return f"{x:,.0f} B"
    if x >= 100:
        return f"{x:,.0f} s"
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 1e-3:
        return f"{x * 1e3:.1f} ms"
    return f"{x * 1e6:.0f} µs"


def summarize(results: list[dict] | None) -> dict | None:
    samples = [s for r in results or [] for s in r.get("samples", [])]
    if not samples:
        return None
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
        "unit": results[0]["unit"],
        "extrapolated": any("extrapolated_from_steps" in r.get("info", {}) for r in results),
    }


def cell(results: list[dict]) -> str:
    if not results:
        return ""
    s = summarize(results)
    if s is None:
        errors = sorted({r.get("error", "?") for r in results})
        return " / ".join(errors)
    text = fmt_value(s["median"], s["unit"])
    if s["n"] > 1:
        text += f" ({fmt_value(s['min'], s['unit'])}–{fmt_value(s['max'], s['unit'])}, n={s['n']})"
    if s["extrapolated"]:
        steps = results[0]["info"]["extrapolated_from_steps"]
        text = f"≈ {text} [{steps} steps, scaled to 100]"
    return text


def ratio(chain: list[dict], micro: list[dict]) -> str:
    a, b = summarize(chain or []), summarize(micro or [])
    if a is None or b is None or a["median"] == 0:
        return ""
    prefix = "≈ " if (a["extrapolated"] or b["extrapolated"]) else ""
    r = b["median"] / a["median"]
    return f"{prefix}{r:.0f}x" if r >= 100 else f"{prefix}{r:.1f}x"


def _info(results: list[dict], key: str) -> list:
    """The repeats' info[key], from the repeats that report it."""
    return [r["info"][key] for r in results if key in r.get("info", {})]


def peak_mb(results: list[dict]) -> float | None:
    """The median of the repeats' peak resident memory (info["peak_MB"]), or None."""
    peaks = _info(results, "peak_MB")
    return statistics.median(peaks) if peaks else None


def lowest_accuracy(results: list[dict]) -> float | None:
    """The lowest of the repeats' test accuracy (info["test_accuracy"]), or None."""
    accuracies = _info(results, "test_accuracy")
    return min(accuracies) if accuracies else None


def medians(w: Workload, results: dict, mine: list[dict], micro: list[dict]) -> Medians:
    """What w's target is judged on: medians of its row and of its floor and torch rows."""

    def median(rs):
        s = summarize(rs)
        return s and s["median"]

    floor = results.get((w.floor_row, "numpy"), [])
    torch = results.get((w.torch_row, "torch"), [])
    return Medians(
        mine=median(mine),
        micro=median(micro),
        floor=median(floor),
        torch=median(torch),
        peak=peak_mb(mine),
        floor_peak=peak_mb(floor),
        accuracy=lowest_accuracy(mine),
    )


def versus_floors(w: Workload, m: Medians, results: dict) -> list[str]:
    """A tape row's ratios to the rows its target names: time over the numpy floor's and over
    PyTorch batched's, peak memory over the floor's (below 1x, the tape is faster or smaller)."""
    t, out = w.target, []
    if t is None:
        return out
    if t.numpy_factor and m.mine and m.floor:
        out.append(f"tape / numpy = {m.mine / m.floor:.1f}x")
    if t.torch_factor and m.mine and m.torch:
        out.append(f"tape / torch batched = {m.mine / m.torch:.2f}x")
    elif t.torch_factor and results.get((w.torch_row, "torch")):  # run, but no time: say why
        out.append(f"tape / torch batched: n/a ({cell(results[(w.torch_row, 'torch')])})")
    if t.peak_factor and m.peak and m.floor_peak:
        out.append(
            f"peak tape / numpy = {m.peak / m.floor_peak:.1f}x "
            f"({m.peak:.0f} MB / {m.floor_peak:.0f} MB)"
        )
    return out


def git_facts() -> str:
    def git(*a):
        try:
            return subprocess.run(
                ["git", "-C", REPO, *a], capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except Exception:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    subject = git("log", "-1", "--format=%s")
    dirty = git("status", "--porcelain", "--", "autograd", "nn")
    text = f"{commit} ({subject})" if subject else commit
    if dirty:
        changed = len(dirty.splitlines())
        text += f"; **uncommitted changes** in autograd/ or nn/ ({changed} files) were measured"
    return text


def source_digest(base: str = REPO) -> str:
    """A hash of the engine's and nn's source files, to notice edits made during a run."""
    import hashlib

    h = hashlib.sha1()
    for package in PACKAGES:
        root = os.path.join(base, package)
        for dirpath, dirnames, filenames in sorted(os.walk(root)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    h.update(os.path.relpath(path, base).encode())
                    with open(path, "rb") as f:
                        h.update(f.read())
    return h.hexdigest()[:12]


def snapshot_sources() -> str:
    """Copy autograd/ and nn/ to a temporary folder that the workers import from.

    Others edit the engine while a run goes on; measuring a copy taken at the start keeps every
    repeat on the same code (and a half-saved edit cannot crash a worker).
    """
    import shutil

    dest = tempfile.mkdtemp(prefix="chainrule-bench-")
    for package in PACKAGES:
        if os.path.isdir(os.path.join(REPO, package)):
            shutil.copytree(
                os.path.join(REPO, package),
                os.path.join(dest, package),
                ignore=shutil.ignore_patterns("__pycache__"),
            )
    return dest


def machine_facts() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or "unknown"
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {}
    try:
        from importlib.metadata import version

        for pkg in ("numpy", "micrograd", "torch"):
            try:
                versions[pkg] = version(pkg)
            except Exception:
                versions[pkg] = "not installed"
    except ImportError:
        pass
    return {
        "cpu": cpu,
        "cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "memory": mem,
        "os": platform.platform(),
        "python": (
            f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"
        ),
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "commit": git_facts(),
    }


def loadavg() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def table(selected: list[str], results: dict, args, data: dict) -> str:
    """The markdown table: per workload, its times, micrograd's, their ratio, its target."""
    lines = [
        "| workload | chainrule: median (min–max, n) | micrograd: median (min–max, n) "
        "| micrograd / chainrule | target (met?) |",
        "|---|---|---|---|---|",
    ]
    for name in selected:
        w = WORKLOADS[name]
        shown = w.params("chainrule", args.quick, args.demo_steps, data)
        title = w.title.format(**{k: v for k, v in shown.items() if k != "data"})
        column = w.engines[0] if w.engines[0] != "micrograd" else "chainrule"
        chain = results.get((name, column), [])
        if w.micrograd_row is None:
            micro = results.get((name, "micrograd"), [])
            micro_cell = cell(micro) if "micrograd" in w.engines else "n/a"
        else:  # a tape, numpy or torch row: compared with micrograd's eager run of that workload
            micro = results.get((w.micrograd_row, "micrograd"), [])
            micro_cell = f"({w.micrograd_row} row: {cell(micro)})" if micro else "n/a"
        m = medians(w, results, chain, micro)
        ratios = "; ".join(filter(None, [ratio(chain, micro), *versus_floors(w, m, results)]))
        target = w.target.verdict(m) if w.target else w.note
        lines.append(f"| {title} | {cell(chain)} | {micro_cell} | {ratios} | {target} |")
    return "\n".join(lines)


def report(selected, results, facts, args, started, load_before, load_after, elapsed, data) -> str:
    """The markdown report: the run's facts, the table, and every repeat's details."""
    table_text = table(selected, results, args, data)
    details = []
    for (name, engine), rs in sorted(results.items()):
        infos = [r.get("info") for r in rs if r.get("info")]
        errors = [r for r in rs if r.get("error")]
        if infos:
            details.append(
                f"- {name} / {engine}: "
                + "; ".join(_brief(i) for i in infos[:3])
                + (" ..." if len(infos) > 3 else "")
            )
        for r in errors[:1]:
            details.append(
                f"- {name} / {engine}: {r['error']}"
                + (f" — {r['detail']}" if r.get("detail") else "")
            )

    command = " ".join(["python3", "benchmarks/run.py", *sys.argv[1:]])
    head = [
        f"- command: `{command}`",
        f"- date: {started} UTC, wall time {elapsed:.0f} s",
        f"- machine: {facts['cpu']}, {facts['cores']}, {facts['memory']} RAM; {facts['os']}",
        f"- load average (1, 5, 15 min) before: {load_before}; after: {load_after}",
        f"- python: {facts['python']}; {facts['packages']}",
        f"- commit: {facts['commit']}",
        f"- data: {data['source']}",
        f"- repeats: {args.repeats} (memory {min(args.repeats, 3)}, demo {args.demo_repeats}), "
        "each in a fresh subprocess, engines alternating",
    ]
    if args.quick:
        head.append("- **--quick: reduced sizes and repeats, a smoke run, not a measurement**")
    return (
        "\n".join(head)
        + "\n\n"
        + table_text
        + "\n\nDetails (per repeat):\n\n"
        + "\n".join(details)
        + "\n"
    )


def _brief(info: dict) -> str:
    parts = []
    for k, v in info.items():
        if isinstance(v, float):
            v = f"{v:.4g}"
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def orchestrate(args) -> int:
    wanted = set(WORKLOADS) if not args.only else set()
    for item in args.only or []:
        for name in item.split(","):
            name = name.strip()
            if name not in WORKLOADS:
                sys.exit(f"unknown workload {name!r}; choose from: {', '.join(WORKLOADS)}")
            wanted.add(name)
    selected = [name for name in WORKLOADS if name in wanted]  # always in table order
    if args.quick:
        args.repeats = min(args.repeats, 2)
        args.demo_repeats = 1
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load_before = loadavg()
    t_start = time.time()
    data = make_data()
    facts = machine_facts()
    snapshot = None
    if not args.live:
        snapshot = snapshot_sources()
        os.environ[SRC_ENV] = snapshot  # inherited by every worker
    digest_before = source_digest(snapshot or REPO)  # of the code the workers import
    if snapshot is not None:
        facts["commit"] += (
            f"; measured a copy of autograd/ and nn/ taken at the start (digest {digest_before})"
        )
    print(
        f"# chainrule vs micrograd — {facts['cpu']}, {facts['cores']}, Python "
        f"{platform.python_version()}, commit {facts['commit']}",
        file=sys.stderr,
    )
    results: dict[tuple[str, str], list[dict]] = {}
    for name in selected:
        w = WORKLOADS[name]
        reps = repeats_for(w, args)
        finished = set()  # engines whose result cannot change with repeats (RecursionError, n/a)
        for rep in range(reps):
            order = list(w.engines) if rep % 2 == 0 else list(reversed(w.engines))
            for engine in order:
                if engine in finished:
                    continue
                params = w.params(engine, args.quick, args.demo_steps, data)
                result = run_worker(name, engine, params, args.timeout)
                results.setdefault((name, engine), []).append(result)
                shown = (
                    result["error"]
                    if "error" in result
                    else ", ".join(fmt_value(s, result["unit"]) for s in result["samples"])
                )
                print(
                    f"  [{name}] repeat {rep + 1}/{reps} {engine:9s}: {shown}",
                    file=sys.stderr,
                    flush=True,
                )
                if "error" in result and not result["error"].startswith(("crashed", "timeout")):
                    finished.add(engine)
    elapsed = time.time() - t_start
    if snapshot is not None:
        import shutil

        shutil.rmtree(snapshot, ignore_errors=True)
        os.environ.pop(SRC_ENV, None)
        if source_digest() != digest_before:
            facts["commit"] += " (the working tree changed during the run; the copy did not)"
    elif source_digest() != digest_before:
        facts["commit"] += (
            "; **autograd/ or nn/ changed during the run**: repeats may have measured "
            "different code"
        )
        print("warning: autograd/ or nn/ changed during the run", file=sys.stderr)
    text = report(selected, results, facts, args, started, load_before, loadavg(), elapsed, data)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write("# Benchmark results: chainrule vs micrograd\n\n")
            f.write(text)
            f.write(NOTES)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"facts": facts, "results": {f"{k[0]}/{k[1]}": v for k, v in results.items()}},
                f,
                indent=1,
            )
    return 0


NOTES = """
Notes:

- A snapshot, not a specification: the numbers move with the commit, the load and the machine
  (both given above). On a loaded machine expect spreads of tens of percent; compare ratios
  from the same run rather than absolute times.
- Every measurement runs in a fresh subprocess; engines alternate and the order flips each
  repeat. The garbage collector is on everywhere (a user's setting). Ratios are of medians.
- "≈" marks micrograd's demo scaled from fewer steps (`--demo-steps`); a default run does all
  100 steps on both engines.
- The demo's inputs are plain Python floats and ints on both engines (micrograd's notebook feeds
  numpy scalars, which makes micrograd slower still).
"""


# =============================================================================================
# Profiling chainrule on one workload, in this process
# =============================================================================================


def profile_main(args) -> int:
    name = args.profile
    if name not in WORKLOADS:
        sys.exit(f"unknown workload {name!r}; choose from: {', '.join(WORKLOADS)}")
    data = make_data()
    engine = load_engine("chainrule")
    p = WORKLOADS[name].params("chainrule", args.quick, args.demo_steps, data)
    p.pop("fast_exit", None)
    fn = WORKLOADS[name].worker
    if args.profiler == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        result = fn(engine, p)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    else:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        result = fn(engine, p)
        prof.disable()
        stats = pstats.Stats(prof).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    print("result:", {k: v for k, v in result.items() if k != "samples"}, file=sys.stderr)
    return 0
