#!/usr/bin/env python3
"""chainrule against micrograd: the same workloads, one run, alternating, several repeats.

    python3 benchmarks/run.py                       # full run (about 10 minutes: micrograd's demo
                                                    # alone takes ~150 s per repeat)
    python3 benchmarks/run.py --quick               # smoke run, small sizes (about a minute)
    python3 benchmarks/run.py --only wide,deep --repeats 3
    python3 benchmarks/run.py --demo-steps 10       # micrograd runs 10 demo steps, scaled to 100
    python3 benchmarks/run.py --output benchmarks/RESULTS.md --json /tmp/bench.json
    python3 benchmarks/run.py --profile step        # cProfile chainrule on one workload
    python3 benchmarks/run.py --list                # the workloads

(``python3 dev.py bench`` runs this file with the project's virtualenv.)  Needs numpy and
``micrograd==0.1.0``; without micrograd its column says "not installed".

Every (workload, engine, repeat) runs in a fresh subprocess (``run.py --worker ...``), so each
measurement starts from the same memory and garbage-collector state; engines alternate, and the
order flips every repeat.  The garbage collector is left on, as a user has it.  Workloads that
train (step, demo) are written once, against micrograd's API (``Value``, ``MLP(nin, nouts)``,
``.parameters()``, ``.zero_grad()``), and run literally the same code on both engines.

The table gives, per workload and engine, the median over repeats and the min-max spread, and
the ratio micrograd / chainrule (above 1: chainrule is faster, or smaller).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

ENGINES = ("chainrule", "micrograd")
ALPHA = 1e-4  # the demo's L2 weight
N_SAMPLES = 100  # the demo's moons
SEED = 1337  # the demo notebook seeds numpy and random with 1337
SRC_ENV = "CHAINRULE_BENCH_SRC"  # where workers import chainrule from (set by the orchestrator)
PACKAGES = ("autograd", "nn")


# =============================================================================================
# Engines: the classes a workload runs on
# =============================================================================================


@dataclass
class Engine:
    name: str
    Value: type
    MLP: type | None  # None: chainrule's nn package is not there (yet)
    autograd: object = None  # chainrule's autograd module (grad, trace); None for micrograd


def load_engine(name: str) -> Engine:
    if name == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP

        return Engine(name, Value, MLP)
    if name in ("chainrule", "tape"):
        src = os.environ.get(SRC_ENV, REPO)  # the run's copy of autograd/ and nn/, or the tree
        if src not in sys.path:
            sys.path.insert(0, src)
        import autograd

        try:
            from nn import MLP
        except ImportError:
            MLP = None
        return Engine("chainrule", autograd.Value, MLP, autograd)
    raise ValueError(f"unknown engine {name!r}")


# =============================================================================================
# Data: 100 two-moons samples, the same for every engine
# =============================================================================================


def make_moons_local(n_samples: int = 100, noise: float = 0.1, seed: int = SEED):
    """sklearn's make_moons(n_samples, noise, random_state=seed), rewritten with numpy.

    Same construction and the same random draws as sklearn (shuffle, then Gaussian noise, from
    one RandomState), so with seed 1337 these are the moons of micrograd's demo notebook.
    Returns X (n x 2) and y in {0, 1}.
    """
    import numpy as np

    rng = np.random.RandomState(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    rng.shuffle(order)
    X, y = X[order], y[order]
    X += rng.normal(scale=noise, size=X.shape)
    return X, y


def make_data() -> dict:
    """The demo's data as plain Python floats and ints (y in {-1, +1}), plus where it came from.

    chainrule's ``nn.data.make_moons`` is used when it exists, else ``make_moons_local``.
    Plain Python numbers, not numpy scalars, go into the workloads: micrograd's notebook feeds
    numpy rows, whose float64/int64 scalars make every micrograd op slower still; here neither
    engine pays for numpy-scalar arithmetic.
    """
    import numpy as np

    source = "make_moons_local (sklearn's make_moons re-implemented, seed 1337)"
    X = y = None
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    try:
        from nn.data import make_moons  # chainrule's own, once nn has landed
    except ImportError:
        make_moons = None
    if make_moons is not None:
        import inspect

        params = inspect.signature(make_moons).parameters
        kwargs = {"n_samples": N_SAMPLES, "noise": 0.1}
        for name in ("random_state", "seed", "rng"):
            if name in params:
                kwargs[name] = SEED
                break
        try:
            X, y = make_moons(**{k: v for k, v in kwargs.items() if k in params})
            given = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k in params)
            source = f"nn.data.make_moons({given})"
        except Exception as exc:  # an API we did not guess: fall back, and say so
            source += f" (nn.data.make_moons failed: {type(exc).__name__}: {exc})"
            X = y = None
    if X is None:
        X, y = make_moons_local(N_SAMPLES, 0.1, SEED)
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if set(np.unique(y).tolist()) <= {0, 1}:
        y = y * 2 - 1  # the demo's labels are -1 / +1
    return {"X": X.tolist(), "y": [int(v) for v in y], "source": source}


# =============================================================================================
# The workloads, written once against micrograd's API
# =============================================================================================


def make_model(MLP):
    """micrograd's demo model, MLP(2, [16, 16, 1]), initialised from random.seed(1337)."""
    random.seed(SEED)
    return MLP(2, [16, 16, 1])


def demo_step(Value, model, X, y, k):
    """One step of micrograd's demo notebook (full batch): forward over every sample, hinge loss
    plus alpha * sum(p * p), accuracy, backward, SGD with a decaying learning rate.

    Copied from the notebook; only the loss() helper is inlined.  Returns (loss, accuracy).
    """
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores, strict=True)]

    model.zero_grad()
    total_loss.backward()

    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, sum(accuracy) / len(accuracy)


def _wide_ops(xs):
    """Products x_i * x_(i+1) (cyclic) summed pairwise, a balanced tree of adds: for n leaves,
    n products and n - 1 adds.  Returns the root."""
    n = len(xs)
    terms = [xs[i] * xs[i + 1 - n] for i in range(n)]  # xs[i + 1 - n] is xs[(i + 1) % n]
    while len(terms) > 1:
        pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            pairs.append(terms[-1])
        terms = pairs
    return terms[0]


def deep_chain_ops(x, w, n_ops):
    """n_ops alternating y = y * w and y = y + x: a chain as deep as it is long."""
    y = x
    for _ in range(n_ops // 2):
        y = y * w
        y = y + x
    return y


# =============================================================================================
# Workers: one measurement in a fresh process; they return a dict
# =============================================================================================


def _clock():
    return time.perf_counter()


def work_step(engine: Engine, p: dict) -> dict:
    if engine.MLP is None:
        return {"error": "nn missing"}
    X, y = p["data"]["X"], p["data"]["y"]
    model = make_model(engine.MLP)
    for k in range(p["warmup"]):
        demo_step(engine.Value, model, X, y, k)
    samples = []
    for k in range(p["warmup"], p["warmup"] + p["measure"]):
        t0 = _clock()
        loss, acc = demo_step(engine.Value, model, X, y, k)
        samples.append(_clock() - t0)
    return {"samples": samples, "unit": "s", "info": {"n_params": len(model.parameters())}}


def work_demo(engine: Engine, p: dict) -> dict:
    if engine.MLP is None:
        return {"error": "nn missing"}
    X, y = p["data"]["X"], p["data"]["y"]
    steps = p["steps"]
    model = make_model(engine.MLP)
    losses = []
    t0 = _clock()
    for k in range(steps):
        loss, acc = demo_step(engine.Value, model, X, y, k)
        losses.append(loss)
    elapsed = _clock() - t0
    info = {"steps_run": steps, "first_loss": losses[0], "final_loss": losses[-1], "final_acc": acc}
    if steps < 100:  # scale the measured steps to the full demo
        info["extrapolated_from_steps"] = steps
        elapsed *= 100 / steps
    return {"samples": [elapsed], "unit": "s", "info": info}


def work_wide(engine: Engine, p: dict) -> dict:
    n = p["n"]
    xs = [engine.Value(1.0 + 0.01 * (i % 7)) for i in range(n)]  # leaves: setup, not timed
    t0 = _clock()
    root = _wide_ops(xs)
    t1 = _clock()
    root.backward()
    t2 = _clock()
    expected = xs[1].data + xs[n - 1].data  # d root / d x_0
    ok = math.isclose(xs[0].grad, expected, rel_tol=1e-12)
    return {
        "samples": [t2 - t0],
        "unit": "s",
        "info": {"forward_s": t1 - t0, "backward_s": t2 - t1, "nodes": 3 * n - 1, "grad_ok": ok},
    }


def work_deep(engine: Engine, p: dict) -> dict:
    n = p["n"]
    x, w = engine.Value(0.5), engine.Value(0.999)
    t0 = _clock()
    y = deep_chain_ops(x, w, n)
    t1 = _clock()
    try:
        y.backward()
    except RecursionError:
        return {"error": "RecursionError", "info": {"forward_s": t1 - t0}}
    t2 = _clock()
    ok = math.isfinite(x.grad) and math.isfinite(w.grad) and x.grad > 0
    info = {"forward_s": t1 - t0, "backward_s": t2 - t1, "ops": n, "grad_ok": ok}
    return {"samples": [t2 - t0], "unit": "s", "info": info}


def work_memory(engine: Engine, p: dict) -> dict:
    """Bytes traced by tracemalloc per node of a wide graph (1/3 leaves, 1/3 products, 1/3 adds).

    Only the graph is counted: the lists used to build it are dropped before the reading, and
    the root keeps every node alive.  Also reported: bytes per leaf and per op node, and the
    bytes per node after backward() (what the gradients add).
    """
    n_leaves = (p["nodes"] + 1) // 3  # n leaves, n products, n - 1 adds
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    xs = [engine.Value(float(i % 1000)) for i in range(n_leaves)]
    leaf_bytes = tracemalloc.get_traced_memory()[0] - base - sys.getsizeof(xs)
    root = _wide_ops(xs)
    x0 = xs[0]
    del xs
    graph_bytes = tracemalloc.get_traced_memory()[0] - base
    root.backward()
    after_backward = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    nodes = _count_nodes(root)
    return {
        "samples": [graph_bytes / nodes],
        "unit": "B/node",
        "info": {
            "nodes": nodes,
            "graph_bytes": graph_bytes,
            "B_per_leaf": leaf_bytes / n_leaves,
            "B_per_op_node": (graph_bytes - leaf_bytes) / (nodes - n_leaves),
            "after_backward_B_per_node": after_backward / nodes,
            "grad_x0": x0.grad,
        },
    }


def _count_nodes(root) -> int:
    """Nodes reachable from root, on either engine (micrograd: _prev; chainrule: parents)."""
    seen, stack = {id(root)}, [root]
    count = 0
    while stack:
        node = stack.pop()
        count += 1
        kids = node.parents if hasattr(node, "parents") else node._prev
        for kid in kids:
            if id(kid) not in seen:
                seen.add(id(kid))
                stack.append(kid)
    return count


def work_second_order(engine: Engine, p: dict) -> dict:
    """Gradient penalty: f = sum tanh(x_i * x_(i+1)); g = grad(f, x, create_graph=True);
    backward of sum(g_i ** 2).  f has 4n - 1 nodes (n leaves, n muls, n tanhs, n - 1 adds)."""
    if engine.autograd is None:
        return {"error": "n/a"}
    autograd, Value = engine.autograd, engine.Value
    n = (p["nodes"] + 1) // 4
    xs = [Value(0.01 * (i % 50) - 0.25) for i in range(n)]
    t0 = _clock()
    f = (xs[0] * xs[1]).tanh()
    for i in range(1, n):
        f = f + (xs[i] * xs[(i + 1) % n]).tanh()
    t1 = _clock()
    grads = autograd.grad(f, xs, create_graph=True)
    t2 = _clock()
    penalty = grads[0] * grads[0]
    for g in grads[1:]:
        penalty = penalty + g * g
    penalty.backward()
    t3 = _clock()
    ok = all(math.isfinite(x.grad) for x in xs) and any(x.grad != 0 for x in xs)
    return {
        "samples": [t3 - t0],
        "unit": "s",
        "info": {
            "forward_s": t1 - t0,
            "grad_s": t2 - t1,
            "penalty_backward_s": t3 - t2,
            "nodes": 4 * n - 1,
            "grad_ok": ok,
        },
    }


def work_demo_tape(engine: Engine, p: dict) -> dict:
    """The 100-step demo on chainrule's tape: trace the per-sample loss once, replay it over the
    batch with numpy.  Same model, data, loss, regulariser and schedule as ``demo_step``."""
    if engine.autograd is None or not hasattr(engine.autograd, "trace"):
        return {"error": "no autograd.trace"}
    if engine.MLP is None:
        return {"error": "nn missing"}
    import numpy as np

    trace = engine.autograd.trace
    X, y = np.array(p["data"]["X"]), np.array(p["data"]["y"], dtype=float)
    XY = np.column_stack([X, y])
    n = len(y)
    t0 = _clock()
    model = make_model(engine.MLP)
    params = model.parameters()

    def per_sample(x1, x2, yi):
        score = model([x1, x2])
        return [(1 + -yi * score).relu(), score]

    loss_tape = trace(per_sample, 3)
    reg_tape = trace(lambda: ALPHA * sum(q * q for q in params), 0)
    seeds = np.tile([1.0 / n, 0.0], (n, 1))  # d total / d (loss_i, score_i)
    t1 = _clock()
    losses = []
    for k in range(p["steps"]):
        out = loss_tape(XY)
        reg = float(np.asarray(reg_tape()).reshape(-1)[0])
        losses.append(out[:, 0].mean() + reg)
        acc = float(np.mean((y > 0) == (out[:, 1] > 0)))
        model.zero_grad()
        loss_tape.backward(seeds)
        reg_tape.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for q in params:
            q.data -= learning_rate * q.grad
    t2 = _clock()
    return {
        "samples": [t2 - t0],
        "unit": "s",
        "info": {
            "trace_s": t1 - t0,
            "steps_s": t2 - t1,
            "steps_run": p["steps"],
            "first_loss": float(losses[0]),
            "final_loss": float(losses[-1]),
            "final_acc": acc,
        },
    }


def work_demo_fit_tape(engine: Engine, p: dict) -> dict:
    """The 100-step demo through ``nn.fit(..., engine="tape")``: full batch, hinge loss, l2 1e-4,
    SGD with micrograd's learning-rate decay.  Skipped when nn.fit has no tape engine."""
    import inspect

    import numpy as np

    try:
        import nn
        from nn.optim import SGD, linear_decay

        fit = nn.fit
    except (ImportError, AttributeError) as exc:
        return {"error": "no nn.fit", "detail": str(exc)}
    if "engine" not in inspect.signature(fit).parameters:
        return {"error": "nn.fit has no engine="}
    X, y = np.array(p["data"]["X"]), np.array(p["data"]["y"], dtype=float)
    t0 = _clock()
    model = make_model(engine.MLP)
    history = fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer=SGD(model.parameters(), lr=linear_decay(1.0, 0.1, 100)),
        epochs=p["steps"],
        l2=ALPHA,
        engine="tape",
        progress=False,
        shuffle=False,
    )
    elapsed = _clock() - t0
    info = {"steps_run": p["steps"], "engine_used": getattr(history, "engine", "?")}
    if getattr(history, "step_loss", None):
        info["first_loss"], info["final_loss"] = history.step_loss[0], history.step_loss[-1]
    if getattr(history, "accuracy", None):
        info["final_acc"] = history.accuracy[-1]
    return {"samples": [elapsed], "unit": "s", "info": info}


def micrograd_init(sizes=(2, 16, 16, 1), seed=SEED):
    """The weights micrograd's MLP draws after random.seed(seed): per layer (W, b), W out x in."""
    import numpy as np

    random.seed(seed)
    layers = []
    for nin, nout in zip(sizes[:-1], sizes[1:], strict=False):
        W = np.array([[random.uniform(-1, 1) for _ in range(nin)] for _ in range(nout)])
        layers.append((W, np.zeros(nout)))
    return layers


def numpy_demo(X, y, layers, steps):
    """The demo's MLP, hinge loss, L2 and SGD written by hand in numpy (the floor for the tape).

    relu hidden layers, linear output; relu'(0) = 0 as in micrograd.  All parameters live in
    one flat vector (the layers' W and b are views into it), so the L2 term and the SGD update
    are one numpy call each.  Updates ``layers`` in place; returns (losses, final accuracy).
    """
    import numpy as np

    shapes = [P.shape for W, b in layers for P in (W, b)]
    sizes = [int(np.prod(s)) for s in shapes]
    theta = np.concatenate([P.ravel() for W, b in layers for P in (W, b)])
    grad = np.empty_like(theta)

    def views(flat):
        out, at = [], 0
        for shape, size in zip(shapes, sizes, strict=True):
            out.append(flat[at : at + size].reshape(shape))
            at += size
        return out

    W1, b1, W2, b2, W3, b3 = views(theta)
    dW1, db1, dW2, db2, dW3, db3 = views(grad)
    n = len(y)
    losses = []
    for k in range(steps):
        h1 = X @ W1.T + b1
        a1 = np.maximum(h1, 0.0)
        h2 = a1 @ W2.T + b2
        a2 = np.maximum(h2, 0.0)
        s = a2 @ W3[0] + b3[0]
        margin = 1.0 - y * s
        active = margin > 0
        losses.append(float(margin @ active) / n + ALPHA * float(theta @ theta))
        acc = float(np.count_nonzero((y > 0) == (s > 0))) / n
        ds = (-y * active) / n  # d loss / d score
        np.dot(ds, a2, out=dW3[0])
        db3[0] = ds.sum()
        dh2 = np.multiply.outer(ds, W3[0])
        dh2 *= h2 > 0
        np.dot(dh2.T, a1, out=dW2)
        np.sum(dh2, axis=0, out=db2)
        dh1 = dh2 @ W2
        dh1 *= h1 > 0
        np.dot(dh1.T, X, out=dW1)
        np.sum(dh1, axis=0, out=db1)
        grad += 2 * ALPHA * theta
        theta -= (1.0 - 0.9 * k / 100) * grad
    for (W, b), new_W, new_b in zip(layers, views(theta)[0::2], views(theta)[1::2], strict=True):
        W[...], b[...] = new_W, new_b
    return losses, acc


def work_demo_numpy(engine: Engine, p: dict) -> dict:
    import numpy as np

    X, y = np.array(p["data"]["X"]), np.array(p["data"]["y"], dtype=float)
    numpy_demo(X, y, micrograd_init(), 2)  # warm numpy up (first-call allocations)
    layers = micrograd_init()
    t0 = _clock()
    losses, acc = numpy_demo(X, y, layers, p["steps"])
    elapsed = _clock() - t0
    return {
        "samples": [elapsed],
        "unit": "s",
        "info": {
            "steps_run": p["steps"],
            "first_loss": losses[0],
            "final_loss": losses[-1],
            "final_acc": acc,
            "init": "micrograd's (random.seed(1337))",
        },
    }


# =============================================================================================
# The workload table
# =============================================================================================


@dataclass
class Workload:
    name: str
    title: str  # the table's row label; {n} etc. are filled from params
    worker: object
    engines: tuple  # engines that run it ("tape"/"numpy" go in the chainrule column)
    target: str = ""
    notes: list = field(default_factory=list)


WORKLOADS = {
    w.name: w
    for w in [
        Workload(
            "step",
            "1. one demo step (MLP 2-16-16-1, 100 moons)",
            work_step,
            ENGINES,
            target=">= 4x",
        ),
        Workload("demo", "2. whole demo, {steps} steps, GC on", work_demo, ENGINES, target=">= 8x"),
        Workload(
            "wide",
            "3. wide graph, {n:,} products summed pairwise, fwd+bwd",
            work_wide,
            ENGINES,
            target=">= 4x",
        ),
        Workload(
            "deep",
            "4. deep chain, {n:,} ops, fwd+bwd",
            work_deep,
            ENGINES,
            target="chainrule < 10 s",
        ),
        Workload(
            "memory",
            "5. memory per node, {nodes:,}-node graph (tracemalloc)",
            work_memory,
            ENGINES,
            target="chainrule <= 200 B/node",
        ),
        Workload(
            "second-order",
            "6. grad of grad, {nodes:,}-node graph",
            work_second_order,
            ("chainrule",),
            target="",
        ),
        Workload(
            "demo-tape",
            "7. whole demo, {steps} steps, chainrule tape (autograd.trace)",
            work_demo_tape,
            ("tape",),
            target="< 0.5 s; <= 20x numpy",
        ),
        Workload(
            "demo-fit-tape",
            "7. whole demo, {steps} steps, nn.fit(engine='tape')",
            work_demo_fit_tape,
            ("tape",),
            target="< 0.5 s; <= 20x numpy",
        ),
        Workload(
            "demo-numpy",
            "7. whole demo, {steps} steps, numpy by hand (the floor)",
            work_demo_numpy,
            ("numpy",),
            target="(reference, ~6 ms)",
        ),
    ]
}

WORKERS = {w.name: w.worker for w in WORKLOADS.values()}


def params_for(name: str, args, data: dict, engine: str) -> dict:
    quick = args.quick
    if name == "step":
        return {"data": data, "warmup": 1 if quick else 2, "measure": 1 if quick else 3}
    if name == "demo":
        steps = 100
        if engine == "micrograd":  # only micrograd's run is cut (and scaled back to 100 steps)
            steps = args.demo_steps if args.demo_steps else (3 if quick else 100)
        return {"data": data, "steps": steps}
    if name == "wide":
        return {"n": 20_000 if quick else 200_000}
    if name == "deep":
        return {"n": 100_000 if quick else 1_000_000, "fast_exit": True}
    if name == "memory":
        return {"nodes": 20_000 if quick else 200_000}
    if name == "second-order":
        return {"nodes": 10_000}
    if name in ("demo-tape", "demo-fit-tape", "demo-numpy"):
        return {"data": data, "steps": 100}
    raise KeyError(name)


def repeats_for(name: str, args) -> int:
    if name == "demo":
        return args.demo_repeats
    if name == "memory":
        return min(args.repeats, 3)  # deterministic up to allocator noise
    return args.repeats


# =============================================================================================
# Running workers
# =============================================================================================


def _emit(result: dict) -> None:
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def worker_main(name: str, engine_name: str, params_file: str) -> None:
    with open(params_file) as f:
        p = json.load(f)
    if engine_name == "numpy":
        engine = Engine("numpy", None, None)
    else:
        try:
            engine = load_engine(engine_name)
        except ImportError as exc:
            _emit({"error": "not installed", "detail": str(exc)})
            return
    result = WORKERS[name](engine, p)
    _emit(result)
    if p.get("fast_exit"):  # skip the interpreter freeing a million nodes (and any trouble there)
        os._exit(0)


def run_worker(name: str, engine: str, params: dict, timeout: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(params, f)
        path = f.name
    env = dict(os.environ, PYTHONHASHSEED="0")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, engine, path]
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


def summarize(results: list[dict]) -> dict | None:
    samples = [s for r in results for s in r.get("samples", [])]
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


def target_met(name: str, chain: list[dict], micro: list[dict], all_results: dict) -> str:
    a = summarize(chain or [])
    b = summarize(micro or [])
    if a is None:
        return ""
    r = b["median"] / a["median"] if b else None
    verdict = None
    if name == "step" or name == "wide":
        verdict = r is not None and r >= 4
    elif name == "demo":
        verdict = r is not None and r >= 8
    elif name == "deep":
        verdict = a["median"] < 10
    elif name == "memory":
        verdict = a["median"] <= 200
    elif name in ("demo-tape", "demo-fit-tape"):
        floor = summarize(all_results.get(("demo-numpy", "numpy"), []))
        if floor is None:  # only the time target can be judged
            return ("yes" if a["median"] < 0.5 else "no") + "; numpy floor not run"
        verdict = a["median"] < 0.5 and a["median"] <= 20 * floor["median"]
    if verdict is None or (r is None and name in ("step", "wide", "demo")):
        return ""
    return "yes" if verdict else "no"


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

        for pkg in ("numpy", "micrograd"):
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


def render(selected, results, facts, args, started, load_before, load_after, elapsed, data) -> str:
    lines = []
    lines.append(
        "| workload | chainrule: median (min–max, n) | micrograd: median (min–max, n) "
        "| micrograd / chainrule | target (met?) |"
    )
    lines.append("|---|---|---|---|---|")
    for name in selected:
        w = WORKLOADS[name]
        title = w.title.format(
            **{k: v for k, v in params_for(name, args, data, "chainrule").items() if k != "data"}
        )
        col = w.engines[0] if w.engines[0] != "micrograd" else "chainrule"
        chain = results.get((name, col), [])
        micro = results.get((name, "micrograd"), [])
        micro_cell = cell(micro) if "micrograd" in w.engines else "n/a"
        rat = ratio(chain, micro)
        if name in (
            "demo-tape",
            "demo-fit-tape",
        ):  # compare with micrograd's eager demo and the numpy floor
            demo_micro = results.get(("demo", "micrograd"), [])
            micro_cell = f"(row 2: {cell(demo_micro)})" if demo_micro else "n/a"
            rat = ratio(chain, demo_micro)
            floor = summarize(results.get(("demo-numpy", "numpy"), []))
            mine = summarize(chain)
            if floor and mine:
                vs_floor = f"tape / numpy = {mine['median'] / floor['median']:.1f}x"
                rat = f"{rat}; {vs_floor}" if rat else vs_floor
        elif name == "demo-numpy":
            micro_cell = "n/a"
            demo_micro = results.get(("demo", "micrograd"), [])
            rat = ratio(chain, demo_micro)
        met = target_met(name, chain, micro, results)
        target = f"{w.target} ({met})" if met else w.target
        lines.append(f"| {title} | {cell(chain)} | {micro_cell} | {rat} | {target} |")
    table = "\n".join(lines)

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
        + table
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
        reps = repeats_for(name, args)
        finished = set()  # engines whose result cannot change with repeats (RecursionError, n/a)
        for rep in range(reps):
            order = list(w.engines) if rep % 2 == 0 else list(reversed(w.engines))
            for engine in order:
                if engine in finished:
                    continue
                params = params_for(name, args, data, engine)
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
    report = render(selected, results, facts, args, started, load_before, loadavg(), elapsed, data)
    print(report)
    if args.output:
        with open(args.output, "w") as f:
            f.write("# Benchmark results: chainrule vs micrograd\n\n")
            f.write(report)
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

- A snapshot, not a specification: the numbers move with the commit, the load and the machine.
  The machine is shared (2 cores, other engineers running tests at the same time), so expect
  spreads of tens of percent; compare ratios from the same run rather than absolute times.
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
    p = params_for(name, args, data, "chainrule")
    p.pop("fast_exit", None)
    fn = WORKERS[name]
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark chainrule against micrograd (see benchmarks/README.md)."
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="fresh-process repeats per engine (default 5)"
    )
    parser.add_argument(
        "--demo-repeats",
        type=int,
        default=2,
        help="repeats of the whole demo (default 2; micrograd takes ~150 s each)",
    )
    parser.add_argument(
        "--demo-steps",
        type=int,
        default=None,
        help="run only this many of micrograd's 100 demo steps and scale the time "
        "to 100 (marked ≈); chainrule always runs 100",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, 1-2 repeats")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME[,NAME]",
        help=f"run only these workloads: {', '.join(WORKLOADS)}",
    )
    parser.add_argument("--output", metavar="FILE", help="also write the markdown report to FILE")
    parser.add_argument("--json", metavar="FILE", help="also write every raw measurement as JSON")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds per subprocess (default 1800)"
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="import chainrule from the working tree in every worker, instead of a copy of "
        "autograd/ and nn/ taken at the start of the run",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument(
        "--profile", metavar="NAME", help="profile chainrule on one workload, in process"
    )
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--top", type=int, default=25, help="rows of the cProfile listing")
    parser.add_argument(
        "--worker", nargs=3, metavar=("NAME", "ENGINE", "PARAMS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(*args.worker)
        return 0
    if args.list:
        for w in WORKLOADS.values():
            print(f"{w.name:13s} {w.title.split('{')[0].rstrip(', ')} [{', '.join(w.engines)}]")
        return 0
    if args.profile:
        return profile_main(args)
    if args.demo_steps is not None and not 1 <= args.demo_steps <= 100:
        parser.error("--demo-steps must be between 1 and 100")
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
