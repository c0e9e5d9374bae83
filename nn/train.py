"""``fit``: the training loop, with a progress bar, a history, early stopping and NaN checks.

One step is what micrograd's demo does by hand: the mean per-sample loss over a batch, plus a
penalty on the weights, then ``backward`` and an optimizer step.  Two engines run it:

* ``engine="eager"`` (the default and the reference) builds a scalar graph per sample;
* ``engine="tape"`` traces the per-sample loss once with ``autograd.trace`` and replays that
  tape over every batch with numpy (same numbers, far fewer Python objects).  The parameters
  live in numpy arrays while it trains: the penalty, the gradient and the optimizer's step
  (``Optimizer.update``) are array operations, and the Values get the arrays' numbers wherever
  user code can see them (``_Taped``).  A loss or model whose graph depends on the data cannot
  be traced: fit then says so and trains eagerly.

``predict`` evaluates a model on many rows at once (traced when possible).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from autograd import TracingError, Value, no_grad, relaxed_gc, trace
from autograd.flat import read_data, read_grads, write, zero_grads

from .data import Batches
from .functional import ACTIVATIONS, LAYER_ACTIVATIONS, LOSSES, get_loss, l1_penalty, l2_penalty
from .layers import MLP, Layer, positive_int
from .module import Module
from .optim import SGD, Optimizer

ENGINES = ("eager", "tape")


class DivergenceError(FloatingPointError):
    """The loss became NaN or infinite during ``fit``; ``.history`` holds what ran before."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


@dataclass(repr=False)
class History:
    """What ``fit`` measured: per-epoch curves, every step's loss, and how training ended.

    Its repr is one line (typed at the prompt after ``fit`` it must not print thousands of
    floats); the curves are the list attributes.
    """

    loss: list[float] = field(default_factory=list)  # per epoch: data loss + penalty
    accuracy: list[float] = field(default_factory=list)  # per epoch, on the batches as trained
    val_loss: list[float] = field(default_factory=list)  # per epoch, after the epoch's steps
    val_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)  # every optimizer step
    lr: list[float] = field(default_factory=list)  # the learning rate of every step
    epochs: int = 0  # epochs completed
    stopped_early: bool = False  # True when patience or the callback ended training
    stop_reason: str = ""  # "", "patience" or "callback"
    best_epoch: int | None = None  # 1-based epoch with the lowest validation loss
    engine: str = "eager"
    trace_seconds: float = 0.0  # time spent tracing the model and loss (engine="tape"; else 0)

    def __repr__(self) -> str:
        parts = [f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}"]
        if self.loss:
            parts.append(f"loss {self.loss[0]:.3g} → {self.loss[-1]:.3g}")
        if self.accuracy:
            parts.append(f"accuracy {round(self.accuracy[-1], 3)}")
        if self.val_loss:
            parts.append(f"val_loss {self.val_loss[-1]:.3g}")
        if self.val_accuracy:
            parts.append(f"val_accuracy {round(self.val_accuracy[-1], 3)}")
        if self.stopped_early:
            why = self.stop_reason
            if why == "patience" and self.best_epoch is not None:
                why += f", best epoch {self.best_epoch}"
            parts.append(f"stopped early: {why}")
        parts.append(f"engine {self.engine}")
        return f"History({', '.join(parts)})"


# ---- accuracy: how a loss's outputs become class decisions -------------------------------


# The share of hits as count / n: the same float as np.mean of the booleans, without its
# Python wrapper: with _rows_of, fit's own cost per epoch (steps made no-ops, the demo) 17 -> 10 us.


def _binary(threshold: float, truth: float) -> Callable:
    def accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
        hits = (outputs > threshold) == (targets > truth)
        return int(np.count_nonzero(hits)) / hits.size

    return accuracy


def _argmax(outputs: np.ndarray, targets: np.ndarray) -> float:
    return int(np.count_nonzero(outputs.argmax(axis=1) == targets.argmax(axis=1))) / len(outputs)


ACCURACY = {
    "hinge": _binary(0.0, 0.0),  # labels -1/+1, decide by the sign of the score (micrograd)
    "bce_with_logits": _binary(0.0, 0.5),
    "bce": _binary(0.5, 0.5),
    "cross_entropy": _argmax,
}


# ---- the per-sample computation both engines share ---------------------------------------


class _Problem:
    """Model, loss and penalty, with the targets laid out as columns (one-hot for classes)."""

    def __init__(
        self,
        model: Module,
        loss: str | Callable[..., Value],
        X: ArrayLike,
        y: ArrayLike,
        l1: float,
        l2: float,
    ) -> None:
        self.model = model
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "loss")
        self.loss = get_loss(loss) if isinstance(loss, str) else loss
        if not callable(self.loss):
            raise TypeError(f"loss must be a name or a function, got {loss!r}")
        self.X = _rows(X, "X")
        self.n_features = self.X.shape[1]
        nin = getattr(model, "nin", None)
        if isinstance(nin, int) and nin != self.n_features:
            raise ValueError(
                f"the model takes {nin} inputs but X has {self.n_features} columns (features); "
                f"build the model with {self.n_features} inputs, e.g. MLP({self.n_features}, ...)"
            )
        self.classes = self.loss_name == "cross_entropy"
        if self.classes:  # one-hot targets need the number of classes: the model's outputs
            # (only here: a third forward before the tape's two recordings was 0.3 ms of the
            # demo's fit; every other loss takes y as given)
            self.n_outputs = _n_outputs(model, self.X[0])
            if self.n_outputs < 2:
                raise ValueError(
                    "cross_entropy needs a model with one output per class (at least 2)"
                )
        # the advice below is for the library's own losses (a custom loss may be called "bce")
        self.builtin = next((name for name, f in LOSSES.items() if f is self.loss), None)
        if self.builtin == "bce":
            _check_probability_outputs(model, self.X)
        self.T = self.targets(y)
        self.l1, self.l2 = l1, l2
        self.params = model.parameters()

    def targets(self, y: ArrayLike) -> np.ndarray:
        """y as a float array with one column per loss target (one-hot for integer classes)."""
        y = np.asarray(y)
        if self.classes:
            return _class_targets(y, self.n_outputs)
        T = np.asarray(y, dtype=float).reshape(len(y), -1)
        _check_labels(self.builtin, T)
        return T

    def sample(self, xs: list, ts: list) -> list[Value]:
        """[loss, output_1, ...] for one sample (xs and ts are numbers or traced Values)."""
        out = self.model(xs)
        outs = [out] if isinstance(out, Value) else list(out)
        target = ts if self.classes or len(ts) > 1 else ts[0]
        return [self.loss(out, target), *outs]

    def penalty(self) -> Value | None:
        """l1 sum |p| + l2 sum p^2 over the parameters, or None without either."""
        terms = []
        if self.l1:
            terms.append(self.l1 * l1_penalty(self.params))
        if self.l2:
            terms.append(self.l2 * l2_penalty(self.params))
        return sum(terms[1:], terms[0]) if terms else None


# ---- advice before training: targets and outputs that do not suit the loss ---------------


def _n_outputs(model: Module, x: np.ndarray) -> int:
    """How many Values ``model`` returns for one sample.  nn's own MLP and Layer say it (the
    last layer's width; one unit gives one Value, i.e. 1): no forward pass, which for the
    16-64-64-10 network was 5.8 ms of fit's 200 (classes-tape).  Any other model (a subclass
    may return something else) is run once on ``x``."""
    if type(model) is MLP and model.layers:
        return model.layers[-1].nout
    if type(model) is Layer:
        return model.nout
    with no_grad():
        first = model(x.tolist())
    return 1 if isinstance(first, Value) else len(first)


def _class_targets(y: np.ndarray, classes: int) -> np.ndarray:
    """Class indices 0..classes-1 or one-hot rows, as one-hot rows; a clear error otherwise."""
    expected = (
        f"cross_entropy takes class indices (integers 0..{classes - 1}, one per sample) or "
        f"one-hot rows of {classes} columns (nn.data.one_hot(y))"
    )
    if y.ndim == 1:
        if y.dtype.kind not in "iub":
            integral = y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))
            if not integral:
                raise ValueError(f"{expected}; got {y.dtype} labels such as {_examples(y)}")
            y = y.astype(int)
        if len(y) and (y.min() < 0 or y.max() >= classes):
            raise ValueError(
                f"{expected}; got labels {_examples(y)}, outside 0..{classes - 1} for a model "
                f"with {classes} outputs"
            )
        return np.eye(classes)[y]
    if y.ndim != 2 or y.shape[1] != classes:
        raise ValueError(f"{expected}; got an array of shape {y.shape}")
    T = y.astype(float)
    if not (np.all((T == 0) | (T == 1)) and np.all(T.sum(axis=1) == 1)):
        raise ValueError(f"{expected}; rows such as {T[0].tolist()} are not one-hot")
    return T


def _distinct(a: ArrayLike) -> np.ndarray:
    """The distinct values of a, sorted.  Not np.unique: its first call in a process imports
    numpy.ma, 7 ms of every first fit (measured in fresh processes)."""
    values = np.sort(np.asarray(a, dtype=float).ravel())
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _check_labels(loss: str | None, T: np.ndarray) -> None:
    """Targets a loss cannot mean: 0/1 labels for hinge, labels outside [0, 1] for bce."""
    values = _distinct(T)
    if loss == "hinge" and not np.all(np.isin(values, (-1.0, 1.0))):
        if np.all(np.isin(values, (0.0, 1.0))):
            raise ValueError(
                "loss='hinge' expects labels -1/+1, but y has 0/1 labels: hinge would train "
                "every 0 as if it were on the boundary. Convert them with nn.data.signed(y), "
                "or use loss='bce_with_logits' for 0/1 labels"
            )
        raise ValueError(f"loss='hinge' expects labels -1/+1, got {_examples(values)}")
    if loss in ("bce", "bce_with_logits") and (values.min() < 0 or values.max() > 1):
        raise ValueError(
            f"loss={loss!r} expects targets in [0, 1] (0/1 labels), got {_examples(values)}; "
            "for -1/+1 labels use (y + 1) / 2, or loss='hinge'"
        )


def _output_activation(model: Module) -> str | None:
    """The activation of the model's output units, when the model says (Neuron, Layer, MLP)."""
    last = model.layers[-1] if hasattr(model, "layers") and model.layers else model
    activation = getattr(last, "activation", None)
    known = activation in ACTIVATIONS or activation in LAYER_ACTIVATIONS
    return activation if known else None  # a custom function: its name proves nothing


def _check_probability_outputs(model: Module, X: np.ndarray) -> None:
    """bce takes log(p) and log(1 - p): the model's outputs must be probabilities."""
    activation = _output_activation(model)
    if activation is None:  # a model we cannot inspect: look at what it outputs on X
        outputs = predict(model, X, engine="eager")
        fits = bool(np.all((outputs > 0) & (outputs < 1)))
        what = "outputs values outside (0, 1)"
    else:
        fits = activation in ("sigmoid", "softmax")
        what = f"has a {activation} output layer (outputs can be any number, not probabilities)"
    if not fits:
        raise ValueError(
            f"loss='bce' takes probabilities in (0, 1), but the model {what}, and bce takes "
            "their log. Give the model a sigmoid output (MLP(..., output_activation='sigmoid')), "
            "or keep the raw scores and use loss='bce_with_logits'"
        )


def _examples(values: np.ndarray, shown: int = 4) -> str:
    values = _distinct(values)
    text = ", ".join(f"{v:g}" for v in values[:shown].tolist())
    return text + (", ..." if len(values) > shown else "")


class _Eager:
    """A graph per sample, as in micrograd's demo: sum(losses) * (1 / n) + penalty."""

    name = "eager"

    def __init__(self, problem: _Problem) -> None:
        self.problem = problem

    def step(self, X: np.ndarray, T: np.ndarray) -> tuple[float, np.ndarray]:
        results = [self.problem.sample(x, t) for x, t in zip(X.tolist(), T.tolist(), strict=True)]
        losses = [r[0] for r in results]
        total = sum(losses) * (1.0 / len(losses))
        penalty = self.problem.penalty()
        if penalty is not None:
            total = total + penalty
        zero_grads(self.problem.params)  # one C-level call: Ctrl-C cannot half-zero them
        total.backward()
        return total.data, np.array([[v.data for v in r[1:]] for r in results])

    def update(self, optimizer: Optimizer) -> None:
        optimizer.step()

    def sync(self) -> None:
        """Nothing to do: the eager engine trains the Values themselves."""

    reload = sync

    def evaluate(self, X: np.ndarray, T: np.ndarray) -> tuple[float, np.ndarray]:
        with no_grad():
            results = [
                self.problem.sample(x, t) for x, t in zip(X.tolist(), T.tolist(), strict=True)
            ]
            penalty = self.problem.penalty()
        data_loss = sum(r[0].data for r in results) / len(results)
        outs = np.array([[v.data for v in r[1:]] for r in results])
        return data_loss + (penalty.data if penalty is not None else 0.0), outs


class _Taped:
    """The per-sample graph traced once and replayed over each batch with numpy.

    While it trains, the parameters live in two arrays, ``data`` and ``grad``, in
    ``self.params`` order: the optimizer's parameters first (so its array step works on the
    views ``data[:n]``, ``grad[:n]``), then the model's other parameters, then any other leaf
    the loss closes over.  ``sync`` writes both arrays into the Values in one uninterruptible
    step (``autograd.flat.write``); ``fit`` calls it wherever user code can look (before a
    callback or ``state_dict``, and on every exit, an exception or Ctrl-C included), so the
    Values are always those of one whole step, as eager training leaves them.  Against
    reading every ``.data`` into the tape and writing every ``.grad`` back each step (and the
    optimizer's loop over Values), this took the demo's step (MLP 2-16-16-1, 100 moons,
    in process, medians) from 263 to 146 us and the SGD step from 13 to 5 us.
    """

    name = "tape"

    def __init__(self, problem: _Problem, optimizer: Optimizer) -> None:
        self.problem = problem
        d = problem.n_features
        example = np.concatenate([problem.X[0], problem.T[0]]).tolist()
        first = set(optimizer.params)
        self.tape = trace(
            lambda *cols: problem.sample(list(cols[:d]), list(cols[d:])),
            d + problem.T.shape[1],
            example=example,
            parameters=optimizer.params + [p for p in problem.params if p not in first],
        )
        self.params = self.tape.parameters
        self.n_optimized = len(optimizer.params)
        # each step replaces the model's gradients (eager zeroes them first); any other leaf's
        # gradient accumulates, as it does in eager training
        model = set(problem.params)
        self._keep = np.array([p not in model for p in self.params])
        if not self._keep.any():
            self._keep = None
        position = {p: i for i, p in enumerate(self.params)}
        self.penalty = _ArrayPenalty.of(problem, [position[p] for p in problem.params])
        self.data = read_data(self.params)
        self.grad = read_grads(self.params)
        self._totals = np.zeros(len(self.params))
        self._seeds: dict[int, np.ndarray] = {}
        self._columns: dict[int, np.ndarray] = {}

    def _forward(self, X: np.ndarray, T: np.ndarray) -> np.ndarray:
        # X and T side by side in an array kept per batch size, not a new one from np.hstack
        # (a Python function): 2.5 -> 1.2 us a step
        # It is laid out column by column (a transposed array): the tape copies it into its
        # rows (samples along them), then one memcpy, not a second transposing copy: the
        # 1000 x 26 columns of classes-tape 29 -> 22 us a step (timeit, medians).
        columns = self._columns.get(len(X))
        if columns is None:
            columns = np.empty((X.shape[1] + T.shape[1], len(X))).T
            self._columns = {len(X): columns}  # one size: full batches (the last may differ)
        np.concatenate((X, T), axis=1, out=columns)
        return self.tape(columns, params=self.data)

    def step(self, X: np.ndarray, T: np.ndarray) -> tuple[float, np.ndarray]:
        out = self._forward(X, T)
        n = len(out)
        if n not in self._seeds:  # d(mean loss)/d(per-sample loss): weight 1 on the loss column
            seeds = np.zeros((n, out.shape[1]))
            seeds[:, 0] = 1.0
            self._seeds = {n: seeds}
        totals = self.tape.gradients(self._seeds[n], reduction="mean", out=self._totals)
        with np.errstate(over="ignore", invalid="ignore"):  # fit checks the total for inf/NaN
            total = float(out[:, 0].sum()) * (1.0 / n)
        if self.penalty is not None:
            total = total + self.penalty.value(self.data)
            self.penalty.add_gradient(self.data, totals)
        # one numpy call each: the step's gradients all arrive, or (on an error) none
        if self._keep is None:
            self.grad[...] = totals
        else:
            self.grad[...] = np.where(self._keep, self.grad, 0.0) + totals
        return total, out[:, 1:]

    def update(self, optimizer: Optimizer) -> None:
        n = self.n_optimized
        optimizer.update(self.data[:n], self.grad[:n])

    def sync(self) -> None:
        """Write the arrays into the Values' ``.data`` and ``.grad``, all in one step."""
        write(self.params, self.data, self.grad)

    def reload(self) -> None:
        """Read the Values back (a callback may have changed them)."""
        read_data(self.params, out=self.data)
        read_grads(self.params, out=self.grad)

    def evaluate(self, X: np.ndarray, T: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            out = self._forward(X, T)
        except (ArithmeticError, ValueError):
            # a sample the replay refuses (inf - inf from an infinite feature): the eager
            # engine's numbers (NaN where it gives NaN) or its own error, as predict does
            self.sync()
            return _Eager(self.problem).evaluate(X, T)
        penalty = self.penalty.value(self.data) if self.penalty is not None else 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            return float(out[:, 0].mean()) + penalty, out[:, 1:]


class _ArrayPenalty:
    """``l1 sum |p| + l2 sum p^2`` over the model's parameters, on the parameter array.

    The same numbers as ``_Problem.penalty``'s graph (to rounding), without a second tape:
    its 337 products and a 337-term sum cost the demo 72 us a step, replayed as groups
    (forward and backward, timeit), against 3 us here.
    """

    def __init__(self, l1: float, l2: float, positions: slice | np.ndarray) -> None:
        self.l1, self.l2, self.positions = l1, l2, positions

    @classmethod
    def of(cls, problem: _Problem, positions: list[int]) -> _ArrayPenalty | None:
        if not (problem.l1 or problem.l2):
            return None
        start = positions[0] if positions else 0
        if positions == list(range(start, start + len(positions))):
            return cls(problem.l1, problem.l2, slice(start, start + len(positions)))
        return cls(problem.l1, problem.l2, np.array(positions, dtype=np.intp))

    def value(self, data: np.ndarray) -> float:
        p = data[self.positions]
        terms = []
        if self.l1:
            terms.append(self.l1 * float(np.abs(p).sum()))
        if self.l2:
            terms.append(self.l2 * float(p @ p))
        return sum(terms[1:], terms[0])

    def add_gradient(self, data: np.ndarray, grad: np.ndarray) -> None:
        """Add d(penalty)/d(parameter) into grad: l1 sign(p) (0 at 0, as abs's rule) + 2 l2 p."""
        p = data[self.positions]
        if self.l1:
            grad[self.positions] += self.l1 * np.sign(p)
        if self.l2:
            half = self.l2 * p
            grad[self.positions] += half + half  # p * p's rule sends l2 p to each operand


def _engine(name: str, problem: _Problem, optimizer: Optimizer) -> _Eager | _Taped:
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    if name == "eager":
        return _Eager(problem)
    try:
        return _Taped(problem, optimizer)
    except TracingError as exc:
        reason = f"engine='tape' cannot trace this model and loss ({exc})"
    except (ArithmeticError, ValueError) as exc:  # the first sample is outside an op's domain
        reason = f"engine='tape' could not trace the first sample ({type(exc).__name__}: {exc})"
    warnings.warn(
        f"{reason}; training with the eager engine instead (same numbers, slower)",
        RuntimeWarning,
        stacklevel=4,  # _engine, fit, relaxed_gc's wrapper (contextlib), fit's caller
    )
    return _Eager(problem)


def _rows_of(parts: list[np.ndarray]) -> np.ndarray:
    """The batches' rows as one array (the one batch itself when there is one)."""
    return parts[0] if len(parts) == 1 else np.vstack(parts)


def _rows(X: ArrayLike, what: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(
            f"{what} must be a non-empty 2-D array (samples x features), got shape {X.shape}"
        )
    return X


# ---- fit --------------------------------------------------------------------------------


class _NoBar:
    """What fit needs of a tqdm bar, for progress=False: the epochs and nothing shown."""

    def __init__(self, epochs: int) -> None:
        self._epochs = range(1, epochs + 1)

    def __iter__(self):
        return iter(self._epochs)

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(epochs: int, progress: bool):
    if not progress:
        return _NoBar(epochs)
    # Imported here, not with the module: tqdm.auto is slow to import and, in Jupyter without
    # ipywidgets, warns on import.
    from tqdm.auto import tqdm

    return tqdm(range(1, epochs + 1), desc="fit", unit="epoch")


@relaxed_gc()  # Values make no reference cycles: the collector only costs time here (~2x)
def fit(
    model: Module,
    X: ArrayLike,
    y: ArrayLike,
    loss: str | Callable[..., Value] = "mse",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    val: tuple | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    patience: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    engine: str = "eager",
    accuracy: str | Callable | None = "auto",
    progress: bool = True,
    shuffle: bool = True,
    seed: int = 0,
    callback: Callable[[History], bool | None] | None = None,
) -> History:
    """Train `model` on (X, y) and return the History; stops clearly if the loss turns NaN/inf.

    ``loss``: a name from ``nn.functional.LOSSES`` or a function (prediction, target) -> Value.
    ``optimizer`` defaults to ``SGD(model.parameters(), lr=0.1)``.  ``batch_size=None`` trains
    on the whole set per step.  ``l1``/``l2`` add penalties on every parameter.  With
    ``val=(X_val, y_val)`` and ``patience`` epochs without a lower validation loss training
    stops, restoring the best parameters.  ``accuracy``: "auto" (from the loss: sign for
    hinge and logits, 0.5 for probabilities, argmax for classes), a function
    (outputs, targets) -> float, or None.  ``callback(history)`` runs after every epoch;
    returning True stops training there (e.g. ``lambda h: h.accuracy[-1] == 1.0``).
    """
    epochs = positive_int(epochs, "epochs")
    if patience is not None and val is None:
        raise ValueError("early stopping (patience) needs validation data: pass val=(X_val, y_val)")
    problem = _Problem(model, loss, X, y, l1, l2)
    if len(problem.T) != len(problem.X):
        raise ValueError(f"X has {len(problem.X)} rows but y has {len(problem.T)}")
    if accuracy == "auto":
        accuracy = ACCURACY.get(problem.loss_name)
    optimizer = optimizer if optimizer is not None else SGD(problem.params, lr=0.1)
    started = time.perf_counter()
    runner = _engine(engine, problem, optimizer)
    history = History(engine=runner.name)
    if runner.name == "tape":
        history.trace_seconds = time.perf_counter() - started
    if val is not None:
        X_val, T_val = _rows(val[0], "val X"), problem.targets(val[1])
    batches = Batches(problem.X, problem.T, batch_size, shuffle=shuffle, seed=seed)
    if batches.batch_size == len(problem.X):  # the whole set, in order (never shuffled)
        # its arrays themselves, not Batches' copy of them every epoch (an arange and two
        # gathers); with the bar's text made only for a bar and the columns below, the demo's
        # epoch (one step) 101 -> 95 us (CPU time, medians of 5 fits of 201 epochs)
        batches = [(problem.X, problem.T)]
    best, best_state, waited = math.inf, None, 0

    bar = _progress_bar(epochs, progress)
    try:
        for epoch in bar:
            total, seen, outs, targets = 0.0, 0, [], []
            for step, (Xb, Tb) in enumerate(batches, start=1):
                lr = optimizer.lr
                try:
                    step_loss, out = runner.step(Xb, Tb)
                except (FloatingPointError, OverflowError, ZeroDivisionError) as exc:
                    raise _diverged(
                        f"the loss could not be computed ({exc})", epoch, step, history
                    ) from exc
                if not math.isfinite(step_loss):
                    raise _diverged(f"the loss became {step_loss}", epoch, step, history)
                runner.update(optimizer)
                history.step_loss.append(step_loss)
                history.lr.append(lr)
                total += step_loss * len(Xb)
                seen += len(Xb)
                outs.append(out)
                targets.append(Tb)
            history.loss.append(total / seen)
            if accuracy is not None:
                history.accuracy.append(accuracy(_rows_of(outs), _rows_of(targets)))
            history.epochs = epoch
            if val is not None:
                val_loss, val_out = runner.evaluate(X_val, T_val)
                history.val_loss.append(val_loss)
                if accuracy is not None:
                    history.val_accuracy.append(accuracy(val_out, T_val))
                if val_loss < best - min_delta:
                    runner.sync()
                    best, best_state, waited = val_loss, model.state_dict(), 0
                    history.best_epoch = epoch
                else:
                    waited += 1
            if progress:
                bar.set_postfix(_postfix(history), refresh=False)
            if patience is not None and waited >= patience:
                history.stopped_early, history.stop_reason = True, "patience"
                break
            if callback is not None:
                runner.sync()
                try:
                    stop = callback(history)
                finally:  # what it changed, also before raising, is what fit keeps
                    runner.reload()
                if stop:
                    history.stopped_early, history.stop_reason = True, "callback"
                    break
    finally:
        runner.sync()  # first: the Values get the last whole step, whatever ended training
        bar.close()
    if history.stop_reason == "patience" and restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return history


def _postfix(history: History) -> dict[str, str]:
    """The bar's text after an epoch: the last loss and accuracy, and their validation's."""
    shown = {"loss": f"{history.loss[-1]:.4g}"}
    if history.accuracy:
        shown["acc"] = f"{history.accuracy[-1]:.1%}"
    if history.val_loss:
        shown["val_loss"] = f"{history.val_loss[-1]:.4g}"
    if history.val_accuracy:
        shown["val_acc"] = f"{history.val_accuracy[-1]:.1%}"
    return shown


def _diverged(what: str, epoch: int, step: int, history: History) -> DivergenceError:
    last = f"; the last finite loss was {history.step_loss[-1]:.6g}" if history.step_loss else ""
    return DivergenceError(
        f"training stopped at epoch {epoch} (step {step} of that epoch): {what}{last}. "
        "Try a smaller learning rate, or look for log(0) or overflowing exp in the loss "
        "(autograd.detect_anomaly() names the op).",
        history,
    )


# ---- predict ----------------------------------------------------------------------------


def predict(model: Module, X: ArrayLike, engine: str = "tape") -> np.ndarray:
    """The model's outputs for every row of X: shape (n,) for one output, else (n, outputs)."""
    X = _rows(X, "X")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; valid: {', '.join(ENGINES)}")
    if engine == "tape":
        try:
            tape = trace(lambda *xs: model(list(xs)), X.shape[1], example=X[0].tolist())
            return tape(X)
        except (TracingError, ArithmeticError, ValueError):
            pass  # the eager engine below gives its answer, or its own error for the bad row
    with no_grad():
        outs = [model(x) for x in X.tolist()]
    if isinstance(outs[0], Value):
        return np.array([v.data for v in outs])
    out = np.array([[v.data for v in out] for out in outs])
    return out[:, 0] if out.shape[1] == 1 else out  # one output: (n,), as the tape gives
