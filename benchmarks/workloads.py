"""The benchmark workloads: what is measured, written once, and the table that lists them.

Workloads that train (step, demo) are written against micrograd's API (``Value``,
``MLP(nin, nouts)``, ``.parameters()``, ``.zero_grad()``) and run literally the same code on
both engines.  Each worker takes an ``Engine`` and its parameters, runs in a fresh process
(``harness.py`` starts it) and returns ``{"samples": [...], "unit": ..., "info": {...}}`` or
``{"error": ...}``.  ``WORKLOADS`` gives each one's title, engines, sizes (full and --quick)
and target, as numbers: the table's target text and its verdict are both read from them.  The
tape rows are judged against the same network written by hand in numpy (the floor) and in
PyTorch batched (an optional peer, engine "torch").
"""

from __future__ import annotations

import gc
import math
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SRC_ENV = "CHAINRULE_BENCH_SRC"  # where workers import chainrule from (set by the harness)

ENGINES = ("chainrule", "micrograd")
ALPHA = 1e-4  # the demo's L2 weight
N_SAMPLES = 100  # the demo's moons
SEED = 1337  # the demo notebook seeds numpy and random with 1337


# =============================================================================================
# Engines and data
# =============================================================================================


@dataclass
class Engine:
    name: str
    Value: type | None
    MLP: type | None
    autograd: object = None  # chainrule's autograd module (grad, trace); None for micrograd
    torch: object = None  # the torch module, for the PyTorch batched peer; None otherwise


def load_engine(name: str) -> Engine:
    """micrograd, or chainrule from the run's copy of autograd/ and nn/, or torch on one thread;
    "numpy" needs none.  Raises ImportError when the engine is not installed."""
    if name == "torch":
        import torch

        torch.set_num_threads(1)  # one thread, as every other engine here (and OPENBLAS_...=1)
        return Engine(name, None, None, torch=torch)
    if name == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP

        return Engine(name, Value, MLP)
    if name == "numpy":
        return Engine(name, None, None)
    if name in ("chainrule", "tape"):
        src = os.environ.get(SRC_ENV, REPO)
        if src not in sys.path:
            sys.path.insert(0, src)
        import autograd
        from nn import MLP

        return Engine("chainrule", autograd.Value, MLP, autograd)
    raise ValueError(f"unknown engine {name!r}")


def make_data() -> dict:
    """The demo's data: sklearn's make_moons(100, noise=0.1) with seed 1337 (``nn.data``), as
    plain Python floats and ints (y in {-1, +1}).

    Plain numbers, not numpy scalars, go into the workloads: micrograd's notebook feeds numpy
    rows, whose float64/int64 scalars make every micrograd op slower still; here neither engine
    pays for numpy-scalar arithmetic.
    """
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from nn.data import make_moons

    X, y = make_moons(n_samples=N_SAMPLES, noise=0.1, random_state=SEED)
    return {
        "X": X.tolist(),
        "y": [int(v) * 2 - 1 for v in y],  # the demo's labels are -1 / +1
        "source": f"nn.data.make_moons(n_samples={N_SAMPLES}, noise=0.1, random_state={SEED})",
    }


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
    SGD with micrograd's learning-rate decay."""
    import numpy as np

    from nn import fit
    from nn.optim import SGD, linear_decay

    X, y = np.array(p["data"]["X"]), np.array(p["data"]["y"], dtype=float)
    model = make_model(engine.MLP)  # outside the timing, as the other tape rows and the floors
    t0 = _clock()
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
    info = {
        "steps_run": p["steps"],
        "engine_used": history.engine,
        "trace_s": history.trace_seconds,  # included in the time
        "first_loss": history.step_loss[0],
        "final_loss": history.step_loss[-1],
        "final_acc": history.accuracy[-1],
        **_peak(),
    }
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
            **_peak(),
        },
    }


# ---- issue 17's wider networks: nn.fit(engine="tape") against the same network in numpy --------


def _wide_problem(p: dict):
    """(X, y, sizes) for a --problem: 2-64-64-1 on moons (hinge) or 16-64-64-10 (cross-entropy)."""
    import numpy as np

    if p["problem"] == "moons":
        src = os.environ.get(SRC_ENV, REPO)  # the numpy worker loads no engine, so no path yet
        if src not in sys.path:
            sys.path.insert(0, src)
        from nn.data import moons

        X, y = moons(p["n"], noise=0.1, seed=0)
        return X, 2.0 * y - 1.0, [2, 64, 64, 1]
    rng = np.random.default_rng(0)  # 10 Gaussian classes in 16 dimensions
    centres = rng.normal(size=(10, 16)) * 2
    y = rng.integers(0, 10, p["n"])
    return centres[y] + rng.normal(size=(p["n"], 16)), y, [16, 64, 64, 10]


def _wide_init(sizes, seed=0):
    """Uniform(-1, 1) weights W (out x in) and zero biases: the same for both engines."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [
        (rng.uniform(-1, 1, (m, n)) / np.sqrt(n), np.zeros(m))
        for n, m in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def numpy_mlp(X, y, layers, steps: int, lr: float, loss: str):
    """relu MLP trained with full-batch SGD, written by hand in numpy; returns the losses."""
    import numpy as np

    n = len(X)
    T = np.eye(layers[-1][0].shape[0])[y] if loss == "cross_entropy" else None
    losses = []
    for _ in range(steps):
        acts, zs = [X.T], []
        for k, (W, b) in enumerate(layers):
            z = W @ acts[-1] + b[:, None]
            zs.append(z)
            acts.append(np.maximum(z, 0.0) if k < len(layers) - 1 else z)
        out = acts[-1]
        if loss == "hinge":
            margin = 1.0 - y * out[0]
            losses.append(float(np.maximum(margin, 0).mean()))
            dz = ((-y * (margin > 0)) / n)[None, :]
        else:  # softmax cross-entropy
            shifted = out - out.max(axis=0)
            p_ = np.exp(shifted)
            p_ /= p_.sum(axis=0)
            losses.append(float(-np.log(p_[y, np.arange(n)]).mean()))
            dz = (p_ - T.T) / n
        for k in range(len(layers) - 1, -1, -1):
            W, b = layers[k]
            dW, db = dz @ acts[k].T, dz.sum(axis=1)
            if k:
                dz = (W.T @ dz) * (zs[k - 1] > 0)
            W -= lr * dW
            b -= lr * db
    return losses


def work_wide_numpy(engine: Engine, p: dict) -> dict:
    X, y, sizes = _wide_problem(p)
    numpy_mlp(X, y, _wide_init(sizes), 2, p["lr"], p["loss"])  # warm up
    layers = _wide_init(sizes)
    t0 = _clock()
    losses = numpy_mlp(X, y, layers, p["steps"], p["lr"], p["loss"])
    return {
        "samples": [_clock() - t0],
        "unit": "s",
        "info": {"first_loss": losses[0], "final_loss": losses[-1], **_peak()},
    }


def work_wide_fit_tape(engine: Engine, p: dict) -> dict:
    """The same network, data, initial weights, loss and SGD through nn.fit(engine="tape")."""
    from nn import MLP, SGD, fit

    X, y, sizes = _wide_problem(p)
    model = MLP.from_weights(
        [W.T.tolist() for W, _ in _wide_init(sizes)],
        [b.tolist() for _, b in _wide_init(sizes)],
        activation="relu",
    )
    t0 = _clock()
    history = fit(
        model,
        X,
        y,
        loss=p["loss"],
        optimizer=SGD(model, lr=p["lr"]),
        epochs=p["steps"],
        engine="tape",
        progress=False,
        shuffle=False,
        accuracy=None,
    )
    elapsed = _clock() - t0
    info = {
        "trace_s": history.trace_seconds,  # included in the time
        "first_loss": history.step_loss[0],
        "final_loss": history.step_loss[-1],
        **_peak(),
    }
    return {"samples": [elapsed], "unit": "s", "info": info}


# ---- PyTorch batched (CPU, float64, one thread): the optional peer of the three tape rows ------


def torch_model(torch, layers):
    """The floors' relu MLP as a PyTorch user builds it: nn.Sequential of Linear and ReLU, linear
    output, float64 (so its losses are the numpy floor's), weights from ``layers``: (W out x in,
    b) numpy arrays."""
    modules = []
    for W, b in layers:
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*modules[:-1])


def torch_sgd(torch, model, X, y, steps: int, lr, loss: str, l2: float = 0.0):
    """Full-batch SGD in PyTorch: the whole batch through autograd, torch.optim.SGD; ``lr`` is a
    number or a function of the step.  Returns the losses and the last step's outputs."""
    import torch.nn.functional as F

    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=1.0)
    schedule = lr if callable(lr) else (lambda k: lr)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    losses = []
    for k in range(steps):
        out = model(X)
        if loss == "hinge":
            total = F.relu(1.0 - y * out[:, 0]).mean()
        else:
            total = F.cross_entropy(out, y)
        if l2:
            total = total + l2 * sum((q * q).sum() for q in params)
        optimizer.zero_grad()
        total.backward()
        optimizer.param_groups[0]["lr"] = schedule(k)
        optimizer.step()
        losses.append(total.item())
    return losses, out.detach().numpy()


def demo_lr(k: int) -> float:
    """micrograd's demo schedule: 1.0 at step 0, down by 0.009 a step."""
    return 1.0 - 0.9 * k / 100


def _torch_info(torch, losses) -> dict:
    return {
        "first_loss": losses[0],
        "final_loss": losses[-1],
        "threads": torch.get_num_threads(),
        **_peak(),
    }


def work_demo_torch(engine: Engine, p: dict) -> dict:
    """The demo (demo-numpy's network, micrograd's initial weights, hinge + L2, decaying SGD) in
    PyTorch batched; model setup untimed, as the numpy floor's."""
    import numpy as np

    torch = engine.torch
    X, y = np.array(p["data"]["X"]), np.array(p["data"]["y"], dtype=float)
    torch_sgd(torch, torch_model(torch, micrograd_init()), X, y, 2, demo_lr, "hinge", ALPHA)
    model = torch_model(torch, micrograd_init())  # after the warm-up (first-call allocations)
    t0 = _clock()
    losses, out = torch_sgd(torch, model, X, y, p["steps"], demo_lr, "hinge", ALPHA)
    elapsed = _clock() - t0
    acc = float(np.mean((y > 0) == (out[:, 0] > 0)))
    info = {"steps_run": p["steps"], **_torch_info(engine.torch, losses), "final_acc": acc}
    return {"samples": [elapsed], "unit": "s", "info": info}


def work_wide_torch(engine: Engine, p: dict) -> dict:
    """moons-numpy's or classes-numpy's network, data, weights and SGD in PyTorch batched."""
    torch = engine.torch
    X, y, sizes = _wide_problem(p)
    torch_sgd(torch, torch_model(torch, _wide_init(sizes)), X, y, 2, p["lr"], p["loss"])
    model = torch_model(torch, _wide_init(sizes))
    t0 = _clock()
    losses, _ = torch_sgd(torch, model, X, y, p["steps"], p["lr"], p["loss"])
    elapsed = _clock() - t0
    return {"samples": [elapsed], "unit": "s", "info": _torch_info(torch, losses)}


def work_trace_digits(engine: Engine, p: dict) -> dict:
    """Tracing cost alone: autograd.trace of an MLP 64-32-10's cross-entropy per sample."""
    from nn import MLP
    from nn.functional import cross_entropy

    model = MLP(64, [32, 10], seed=0)
    t0 = _clock()
    engine.autograd.trace(
        lambda *xs: cross_entropy(model(list(xs[:64])), list(xs[64:])),
        74,
        example=[0.5] * 64 + [1.0] + [0.0] * 9,
    )
    return {"samples": [_clock() - t0], "unit": "s", "info": {}}


def work_digits_tape(engine: Engine, p: dict) -> dict:
    """Issue 17's real dataset: an MLP 64-32-10 on the 8x8 digits (1,797 images), trained as
    notebook 11 trains it (Adam, lr 0.01, batches of 64, nn.fit(engine="tape")): seconds per
    epoch, tracing included, and the accuracy on the held-out fifth."""
    import numpy as np

    from nn import MLP, Adam, data, fit, predict

    X, y = data.digits()
    (X_train, y_train), _, (X_test, y_test) = data.split(X, y, val=0.0, test=0.2, seed=0)
    model = MLP(64, [32, 10], activation="relu", seed=0)
    t0 = _clock()
    fit(
        model,
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer=Adam(model, lr=0.01),
        epochs=p["epochs"],
        batch_size=64,
        engine="tape",
        progress=False,
    )
    per_epoch = (_clock() - t0) / p["epochs"]
    accuracy = float(np.mean(predict(model, X_test).argmax(axis=1) == y_test))
    info = {"epochs": p["epochs"], "test_accuracy": accuracy, **_peak()}
    return {"samples": [per_epoch], "unit": "s", "info": info}


def work_tiny(engine: Engine, p: dict) -> dict:
    """``(x*y + z).backward()`` on three leaves, again and again: the per-call cost."""
    Value = engine.Value
    x, y, z = Value(2.0), Value(3.0), Value(4.0)
    samples = []
    for _ in range(p["repeats"]):
        t0 = _clock()
        for _ in range(p["calls"]):
            (x * y + z).backward()
        samples.append((_clock() - t0) / p["calls"])
    return {"samples": [min(samples)], "unit": "s", "info": {"calls": p["calls"]}}


def _peak() -> dict:
    """The process's peak resident memory so far, in MB (Linux: ru_maxrss is in KiB)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return {}
    return {"peak_MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


# =============================================================================================
# The workload table
# =============================================================================================


@dataclass(frozen=True)
class Medians:
    """What a row's target is judged on: its median and those of the rows it is compared with
    (None: that row was not run, or failed)."""

    mine: float | None
    micro: float | None = None  # micrograd's (this row's column, or micrograd_row's)
    floor: float | None = None  # the numpy floor's time (floor_row)
    torch: float | None = None  # PyTorch batched's time (torch_row)
    peak: float | None = None  # this row's peak resident memory, MB
    floor_peak: float | None = None  # the numpy floor's, MB
    accuracy: float | None = None  # the lowest test accuracy of this row's repeats


@dataclass(frozen=True)
class Target:
    """A workload's goal, as numbers: the table's target text and its verdict come from here."""

    ratio: float | None = None  # micrograd / chainrule at least this
    seconds: float | None = None  # chainrule's median under this
    bytes_per_node: float | None = None  # chainrule's median at most this
    numpy_factor: float | None = None  # at most this many times the numpy floor's time
    torch_factor: float | None = None  # under this many times PyTorch batched's time
    peak_factor: float | None = None  # peak memory at most this many times the numpy floor's
    accuracy: float | None = None  # every repeat's test accuracy above this

    def goals(self, m: Medians | None = None) -> list[tuple[str, bool | None]]:
        """Each goal's text and whether ``m`` meets it (None: a median it needs is missing)."""
        m = m or Medians(None)
        goals = []

        def goal(text, check, *needed):
            goals.append((text, None if None in (m.mine, *needed) else check()))

        if self.ratio is not None:
            goal(f">= {self.ratio:g}x", lambda: m.micro / m.mine >= self.ratio, m.micro)
        if self.seconds is not None:
            goal(f"chainrule < {self.seconds:g} s", lambda: m.mine < self.seconds)
        if self.bytes_per_node is not None:
            goal(
                f"chainrule <= {self.bytes_per_node:g} B/node",
                lambda: m.mine <= self.bytes_per_node,
            )
        if self.numpy_factor is not None:
            goal(
                f"<= {self.numpy_factor:g}x numpy",
                lambda: m.mine <= self.numpy_factor * m.floor,
                m.floor,
            )
        if self.torch_factor is not None:
            goal(
                "faster than torch batched"
                if self.torch_factor == 1
                else f"< {self.torch_factor:g}x torch batched",
                lambda: m.mine < self.torch_factor * m.torch,
                m.torch,
            )
        if self.peak_factor is not None:
            goal(
                f"peak memory <= {self.peak_factor:g}x numpy's",
                lambda: m.peak <= self.peak_factor * m.floor_peak,
                m.peak,
                m.floor_peak,
            )
        if self.accuracy is not None:
            goal(
                f"test accuracy > {self.accuracy:.0%}",
                lambda: m.accuracy > self.accuracy,
                m.accuracy,
            )
        return goals

    def text(self) -> str:
        return "; ".join(goal for goal, _ in self.goals())

    def verdict(self, m: Medians) -> str:
        """Every goal with its verdict: "<= 3x numpy (no); faster than torch batched (yes)"; "(n/a)"
        when the row it compares with was not run; no verdicts when this row has no median."""
        if m.mine is None:
            return self.text()
        shown = {True: "yes", False: "no", None: "n/a"}
        return "; ".join(f"{goal} ({shown[ok]})" for goal, ok in self.goals(m))


@dataclass(frozen=True)
class Workload:
    name: str
    title: str  # the table's row label; {n} etc. are filled from the parameters
    worker: Callable[[Engine, dict], dict]
    engines: tuple[str, ...]  # engines that run it ("tape"/"numpy" go in the chainrule column)
    full: dict = field(default_factory=dict)  # parameters of a full run
    quick: dict | None = None  # parameters of --quick (None: as full)
    target: Target | None = None
    note: str = ""  # the target column when there is no target
    needs_data: bool = False  # gets the demo's moons as p["data"]
    fast_exit: bool = False  # the worker skips freeing its graph (a million nodes)
    micrograd_row: str | None = None  # compared with this workload's micrograd column
    floor_row: str = "demo-numpy"  # the numpy workload a numpy_factor target compares with
    torch_row: str | None = None  # the PyTorch batched workload a torch_factor target compares with
    cut_micrograd: bool = False  # --demo-steps cuts micrograd's run (scaled back to 100 steps)

    def params(self, engine: str, quick: bool, demo_steps: int | None, data: dict) -> dict:
        """The worker's parameters for this engine and run."""
        p = dict(self.quick if quick and self.quick is not None else self.full)
        if self.cut_micrograd and engine == "micrograd":
            p["steps"] = demo_steps or (3 if quick else 100)
        if self.needs_data:
            p["data"] = data
        if self.fast_exit:
            p["fast_exit"] = True
        return p


# Issue 17's targets for the three tape rows (nn.fit): within 3x of the numpy floor, faster than
# PyTorch batched on the CPU, peak memory within 2x of the numpy floor's.
ISSUE_17 = {"numpy_factor": 3, "torch_factor": 1, "peak_factor": 2}


def wide_rows(problem: str, title: str, loss: str) -> list[Workload]:
    """Issue 17's wider network through nn.fit(engine="tape"), its numpy floor, its torch peer."""
    full = {"problem": problem, "n": 1000, "steps": 100, "loss": loss, "lr": 0.05}
    quick = {**full, "n": 200, "steps": 10}
    same = {"full": full, "quick": quick, "floor_row": f"{problem}-numpy"}
    title = f"8. {title}, {{steps}} SGD steps"
    return [
        Workload(
            f"{problem}-tape",
            f"{title}, nn.fit(engine='tape')",
            work_wide_fit_tape,
            ("tape",),
            target=Target(**ISSUE_17),
            torch_row=f"{problem}-torch",
            **same,
        ),
        Workload(
            f"{problem}-numpy",
            f"{title}, numpy by hand",
            work_wide_numpy,
            ("numpy",),
            note="(reference)",
            **same,
        ),
        Workload(
            f"{problem}-torch",
            f"{title}, PyTorch batched (CPU, float64)",
            work_wide_torch,
            ("torch",),
            note="(peer)",
            **same,
        ),
    ]


DEMO = {"steps": 100}
WORKLOADS = {
    w.name: w
    for w in [
        Workload(
            "step",
            "1. one demo step (MLP 2-16-16-1, 100 moons)",
            work_step,
            ENGINES,
            full={"warmup": 2, "measure": 3},
            quick={"warmup": 1, "measure": 1},
            target=Target(ratio=20),  # issue 17 (issue 6 asked for 4x)
            needs_data=True,
        ),
        Workload(
            "demo",
            "2. whole demo, {steps} steps, GC on",
            work_demo,
            ENGINES,
            full=DEMO,
            target=Target(ratio=8),
            needs_data=True,
            cut_micrograd=True,
        ),
        Workload(
            "wide",
            "3. wide graph, {n:,} products summed pairwise, fwd+bwd",
            work_wide,
            ENGINES,
            full={"n": 200_000},
            quick={"n": 20_000},
            target=Target(ratio=8),  # issue 17 (issue 6 asked for 4x)
        ),
        Workload(
            "deep",
            "4. deep chain, {n:,} ops, fwd+bwd",
            work_deep,
            ENGINES,
            full={"n": 1_000_000},
            quick={"n": 100_000},
            target=Target(seconds=10),
            fast_exit=True,
        ),
        Workload(
            "memory",
            "5. memory per node, {nodes:,}-node graph (tracemalloc)",
            work_memory,
            ENGINES,
            full={"nodes": 200_000},
            quick={"nodes": 20_000},
            target=Target(bytes_per_node=200),
        ),
        Workload(
            "second-order",
            "6. grad of grad, {nodes:,}-node graph",
            work_second_order,
            ("chainrule",),
            full={"nodes": 10_000},
        ),
        Workload(
            "demo-tape",
            "7. whole demo, {steps} steps, chainrule tape (autograd.trace)",
            work_demo_tape,
            ("tape",),
            full=DEMO,
            target=Target(seconds=0.5, numpy_factor=20),
            needs_data=True,
            micrograd_row="demo",
        ),
        Workload(
            "demo-fit-tape",
            "7. whole demo, {steps} steps, nn.fit(engine='tape')",
            work_demo_fit_tape,
            ("tape",),
            full=DEMO,
            target=Target(seconds=0.5, **ISSUE_17),
            needs_data=True,
            micrograd_row="demo",
            torch_row="demo-torch",
        ),
        Workload(
            "tiny",
            "9. tiny graph (x*y + z).backward(), per call",
            work_tiny,
            ENGINES,
            full={"calls": 20_000, "repeats": 5},
            quick={"calls": 2000, "repeats": 2},
            target=Target(ratio=1),
        ),
        Workload(
            "trace-digits",
            "10. tracing an MLP 64-32-10's cross-entropy (autograd.trace)",
            work_trace_digits,
            ("tape",),
            target=Target(seconds=1.0),
        ),
        Workload(
            "digits-tape",
            "11. digits, MLP 64-32-10, Adam, batches of 64, nn.fit(engine='tape'), per epoch",
            work_digits_tape,
            ("tape",),
            full={"epochs": 15},
            quick={"epochs": 2},
            target=Target(accuracy=0.95),
        ),
        *wide_rows("moons", "2-64-64-1, 1000 moons, hinge", "hinge"),
        *wide_rows("classes", "16-64-64-10, 1000 samples, cross-entropy", "cross_entropy"),
        Workload(
            "demo-numpy",
            "7. whole demo, {steps} steps, numpy by hand (the floor)",
            work_demo_numpy,
            ("numpy",),
            full=DEMO,
            note="(reference)",
            needs_data=True,
            micrograd_row="demo",
        ),
        Workload(
            "demo-torch",
            "7. whole demo, {steps} steps, PyTorch batched (CPU, float64)",
            work_demo_torch,
            ("torch",),
            full=DEMO,
            note="(peer)",
            needs_data=True,
            micrograd_row="demo",
        ),
    ]
}
