"""Optimizers (SGD with momentum and weight decay, Adam) and learning-rate schedules.

An optimizer holds the parameter Values and, on ``step()``, moves each ``p.data`` using
``p.grad``; it never builds graph nodes.  Its rule is written once, on numpy arrays:
``step()`` runs it on the Values' numbers, ``update(data, grad)`` on arrays a training loop
keeps.  The learning rate is a number or a schedule: any function of the step number
k = 0, 1, 2, ... (``constant``, ``linear_decay``, ``inverse_time``), read once per step.
micrograd's demo is ``SGD(params, lr=linear_decay())``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import partial

import numpy as np

from autograd import Value
from autograd.flat import read_data, read_grads, together, writing, zero_grads

Params = Iterable[Value]  # or a Module: its .parameters() are taken

Schedule = Callable[[int], float]


# ---- schedules ------------------------------------------------------------------------------


def constant(lr: float) -> Schedule:
    """a_k = lr."""
    _check_positive(lr, "lr")

    def schedule(k: int) -> float:
        return lr

    schedule.__name__ = f"constant({lr})"
    return schedule


def linear_decay(start: float = 1.0, end: float = 0.1, steps: int = 100) -> Schedule:
    """a_k = start - (start - end) k / steps, then end: micrograd's demo is 1.0 - 0.9 k / 100."""
    _check_positive(steps, "steps")
    drop = start - end

    def schedule(k: int) -> float:
        return start - drop * min(k, steps) / steps

    schedule.__name__ = f"linear_decay({start}, {end}, {steps})"
    return schedule


def inverse_time(c1: float, c2: float) -> Schedule:
    """a_k = c1 / (k + c2): large steps first, then ever finer ones (the lecture's schedule)."""
    _check_positive(c1, "c1")
    _check_positive(c2, "c2")

    def schedule(k: int) -> float:
        return c1 / (k + c2)

    schedule.__name__ = f"inverse_time({c1}, {c2})"
    return schedule


def _check_positive(x: object, what: str) -> None:
    if not (isinstance(x, (int, float)) and math.isfinite(x) and x > 0):
        raise ValueError(f"{what} must be a positive number, got {x!r}")


# ---- optimizers -----------------------------------------------------------------------------


class Optimizer:
    """Base class: the parameters, the learning rate (number or schedule) and the step count.

    Each optimizer writes its rule once, on arrays (``_rule``).  ``step()`` reads every
    ``.data`` and ``.grad`` into arrays, applies the rule and writes the numbers back in one
    uninterruptible step (``autograd.flat.write``); ``update(data, grad)`` applies it to arrays
    the caller keeps (``nn.fit`` on the tape keeps the parameters in arrays while it trains).
    Either way no parameter is ever half-updated, and the optimizer's own state (step count,
    momentum, moments) changes in the same C-level call as the numbers (``flat.together``):
    a Ctrl-C never leaves new numbers beside the old momentum, or the reverse.
    """

    def __init__(self, params: Params, lr: float | Schedule) -> None:
        if callable(params) and not hasattr(params, "parameters"):  # SGD(model.parameters, ...)
            raise TypeError(
                f"the optimizer got the method {getattr(params, '__qualname__', params)!r}, "
                f"not the parameters: call it, as in {type(self).__name__}(model.parameters(), ...)"
            )
        params = params.parameters() if hasattr(params, "parameters") else list(params)
        if not params:
            raise ValueError("the optimizer got no parameters")
        first: dict[Value, int] = {}
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"parameter {i} is a {type(p).__name__}, not a Value")
            if first.setdefault(p, i) != i:
                raise ValueError(
                    f"parameter {i} is parameter {first[p]} again: each Value may appear once "
                    "(it would be updated twice per step)"
                )
        self.params: list[Value] = params
        if not callable(lr):
            _check_positive(lr, "lr")
        self.schedule: Schedule = lr if callable(lr) else constant(lr)
        self.k = 0  # steps taken so far

    @property
    def lr(self) -> float:
        """The learning rate the next step will use."""
        return self.schedule(self.k)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        name = getattr(self.schedule, "__name__", "a schedule")
        schedule = "" if name.startswith("constant(") else f" now, from {name}"
        return (
            f"{type(self).__name__}(lr={self.lr:g}{schedule}, {settings}; "
            f"{len(self.params)} parameters, {self.k} steps taken)"
        )

    def _settings(self) -> dict[str, object]:
        """The hyper-parameters shown in repr besides lr."""
        return {}

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (all of them or, if interrupted, none)."""
        zero_grads(self.params)

    def step(self) -> None:
        """Update every parameter from its ``.grad``, then advance the schedule."""
        data = read_data(self.params)
        new_data, state = self._rule(data, read_grads(self.params), self.schedule(self.k))
        together(writing(self.params, new_data), self._committing(state))

    def update(self, data: np.ndarray, grad: np.ndarray) -> None:
        """The same step on arrays: ``data`` (the parameters' numbers, in ``self.params`` order)
        is updated in place from ``grad``; the Values are not touched."""
        n = len(self.params)
        if np.shape(data) != (n,) or np.shape(grad) != (n,):
            raise ValueError(
                f"update takes data and grad of shape ({n},), one number per parameter; "
                f"got {np.shape(data)} and {np.shape(grad)}"
            )
        new_data, state = self._rule(data, grad, self.schedule(self.k))
        together(partial(data.__setitem__, Ellipsis, new_data), self._committing(state))

    def _rule(self, data: np.ndarray, grad: np.ndarray, lr: float) -> tuple[np.ndarray, dict]:
        """(new numbers, new state) from the numbers and gradients; changes nothing itself."""
        raise NotImplementedError

    def _committing(self, state: dict) -> Callable[[], None]:
        """The new step count and moments as one C-level call (dict.update), to be made
        together with the numbers'."""
        return partial(vars(self).update, state, k=self.k + 1)


class SGD(Optimizer):
    """p <- p - lr v, with v = momentum v + (grad + weight_decay p) (PyTorch's form)."""

    def __init__(
        self,
        params: Params,
        lr: float | Schedule = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.momentum, self.weight_decay = momentum, weight_decay
        self.velocity = np.zeros(len(self.params))

    def _settings(self) -> dict[str, object]:
        return {"momentum": self.momentum, "weight_decay": self.weight_decay}

    def _rule(self, data: np.ndarray, grad: np.ndarray, lr: float) -> tuple[np.ndarray, dict]:
        if self.momentum == 0 and self.weight_decay == 0:
            return data - lr * grad, {}  # plain gradient descent, the same float ops as micrograd
        g = grad + self.weight_decay * data if self.weight_decay else grad
        v = self.momentum * self.velocity + g  # starts at 0: the first step is v = g (PyTorch)
        return data - lr * v, {"velocity": v}


class Adam(Optimizer):
    """Adam: steps by a running mean of gradients over the root of their running mean square.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr m^ / (sqrt(v^) + eps),
    with m^ = m / (1 - b1^t), v^ = v / (1 - b2^t) undoing the bias of starting at 0.
    """

    def __init__(
        self,
        params: Params,
        lr: float | Schedule = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        self.betas, self.eps, self.weight_decay = (b1, b2), eps, weight_decay
        self.m = np.zeros(len(self.params))
        self.v = np.zeros(len(self.params))

    def _settings(self) -> dict[str, object]:
        return {"betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay}

    def _rule(self, data: np.ndarray, grad: np.ndarray, lr: float) -> tuple[np.ndarray, dict]:
        b1, b2 = self.betas
        t = self.k + 1
        c1, c2 = 1 - b1**t, 1 - b2**t
        g = grad + self.weight_decay * data if self.weight_decay else grad
        m = b1 * self.m + (1 - b1) * g
        v = b2 * self.v + (1 - b2) * g * g
        return data - lr * (m / c1) / (np.sqrt(v / c2) + self.eps), {"m": m, "v": v}
