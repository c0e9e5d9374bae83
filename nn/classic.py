"""The lecture's classic learning rules, before backpropagation.

* ``Perceptron``: a threshold unit y = step(w.x + b) trained with Rosenblatt's rule
  w <- w + a (t - y) x, one sample at a time.  It converges whenever the classes are linearly
  separable (AND, OR) and cycles for ever otherwise (XOR), which ``fit`` reports.
* ``Adaline``: the same unit trained on its linear output y = w.x + b with the Widrow-Hoff
  (LMS) rule w <- w + a (t - y) x: the SGD step for the loss 1/2 (t - y)^2.
* ``xor_network``: the lecture's multilayer perceptron for XOR: two threshold units, OR and
  NAND, feeding a third, AND.  Nothing above can learn it: step has derivative 0 everywhere, and
  the perceptron rule has no error signal for a hidden unit.  Backprop with smooth units can.

Weights are Values, so these models draw like any other; the rules update ``.data`` directly.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from autograd import Value
from autograd.flat import write

from .layers import MLP, _inputs
from .module import Module
from .notation import shown_names


class ConvergenceWarning(UserWarning):
    """A classic rule ran out of epochs before classifying every sample correctly."""


@dataclass
class RuleResult:
    """How a classic rule's training went: errors (Perceptron) or mean squared error per epoch."""

    converged: bool
    epochs: int
    errors: list[float] = field(default_factory=list)
    message: str = ""


class _LinearUnit(Module):
    def __init__(self, nin: int, lr: float, seed: int | None) -> None:
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr!r}")
        rng = random.Random(seed)
        self.w = [Value(0.0 if seed is None else rng.uniform(-0.5, 0.5)) for _ in range(nin)]
        self.b = Value(0.0)
        self.lr = lr
        self.relabel()

    def _shown_names(self) -> dict[str, str]:
        return shown_names(self)  # pictures name the weights w[1], w[2] and the bias b

    def net(self, x: Sequence) -> Value:
        """The weighted sum w.x + b."""
        x = _inputs(x, len(self.w))
        return sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)

    def _update(self, x: Sequence[float], error: float) -> None:
        step = self.lr * error
        new = [wi.data + step * xi for wi, xi in zip(self.w, x, strict=True)]
        new.append(self.b.data + step)  # the bias is a weight on a constant input 1
        write([*self.w, self.b], data=new)  # one C-level call: a Ctrl-C never half-updates

    def extra_repr(self) -> str:
        return f"{len(self.w)}, lr={self.lr}"


class Perceptron(_LinearUnit):
    """Rosenblatt's threshold unit y = step(w.x + b), trained by w <- w + a (t - y) x."""

    activation = "step"  # (named as a Neuron's activation is)

    def __init__(self, nin: int, lr: float = 1.0, seed: int | None = None) -> None:
        super().__init__(nin, lr, seed)  # seed None: start from zero weights

    def activate(self, z: Value) -> Value:
        """The threshold: 1 if z >= 0, else 0."""
        return z.step()

    def __call__(self, x: Sequence) -> Value:
        """The unit's 0/1 output step(w.x + b) (step(0) = 1) for one input vector."""
        return self.activate(self.net(x))

    def fit(self, X: ArrayLike, t: ArrayLike, epochs: int = 100) -> RuleResult:
        """Sweep the samples in order, updating after each; stop after an epoch with no errors."""
        X, t = _data(X, t)
        errors = []
        for epoch in range(1, epochs + 1):
            wrong = 0
            for x, target in zip(X, t, strict=True):
                error = target - self(x).data
                if error:
                    wrong += 1
                    self._update(x, error)
            errors.append(wrong)
            if wrong == 0:
                return RuleResult(True, epoch, errors, f"converged after {epoch} epochs")
        message = (
            f"did not converge within {epochs} epochs: {errors[-1]} of {len(X)} samples still "
            "wrong in the last epoch (are the classes linearly separable? XOR is not)"
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
        return RuleResult(False, epochs, errors, message)


class Adaline(_LinearUnit):
    """Widrow and Hoff's linear unit y = w.x + b, trained by LMS: w <- w + a (t - y) x."""

    activation = "linear"

    def __init__(self, nin: int, lr: float = 0.05, seed: int | None = None) -> None:
        super().__init__(nin, lr, seed)

    def activate(self, z: Value) -> Value:
        """The identity: Adaline's output is its weighted sum."""
        return z

    def __call__(self, x: Sequence) -> Value:
        """The unit's linear output w.x + b for one input vector."""
        return self.net(x)

    def predict(self, x: Sequence, threshold: float = 0.5) -> int:
        """The class decision: 1 if the linear output reaches `threshold`, else 0."""
        return int(self(x).data >= threshold)

    def fit(self, X: ArrayLike, t: ArrayLike, epochs: int = 50, tol: float = 1e-10) -> RuleResult:
        """LMS updates sample by sample, epoch after epoch, until the mean squared error settles.

        errors[k] is the mean (t - y)^2 after epoch k; training stops when an epoch changes it
        by at most `tol`.
        """
        X, t = _data(X, t)
        errors = []
        for epoch in range(1, epochs + 1):
            for x, target in zip(X, t, strict=True):
                self._update(x, target - self(x).data)
            errors.append(
                float(
                    np.mean([(target - self(x).data) ** 2 for x, target in zip(X, t, strict=True)])
                )
            )
            if len(errors) > 1 and abs(errors[-2] - errors[-1]) <= tol:
                return RuleResult(
                    True, epoch, errors, f"mean squared error settled at {errors[-1]:.6g}"
                )
        return RuleResult(
            False, epochs, errors, f"mean squared error {errors[-1]:.6g} after {epochs} epochs"
        )


# The lecture's XOR network (feedforward-networks lecture, after Minsky and Papert).  Its figure
# gives each unit weights and a threshold theta: the unit fires when its weighted sum reaches
# theta, i.e. step(w.x - theta) with step(0) = 1, so the bias is -theta.
#   hidden unit 0, OR:   weights +1, +1, theta +1  (fires unless x = (0, 0))
#   hidden unit 1, NAND: weights -1, -1, theta -1  (fires unless x = (1, 1))
#   output, AND:         weights +1, +1, theta +2  (fires when both hidden units do)
# OR and NAND are both 1 exactly when x1 != x2: XOR.  W[i][j] = weight from input i to unit j.
XOR_WEIGHTS = ([[1.0, -1.0], [1.0, -1.0]], [[1.0], [1.0]])
XOR_THRESHOLDS = ([1.0, -1.0], [2.0])
XOR_BIASES = tuple([-theta for theta in layer] for layer in XOR_THRESHOLDS)


def xor_network() -> MLP:
    """The lecture's hand-wired XOR network: threshold units (Value.step) OR and NAND, then AND."""
    return MLP.from_weights(XOR_WEIGHTS, XOR_BIASES, activation="step", output_activation="step")


def _data(X: ArrayLike, t: ArrayLike) -> tuple[list[list[float]], list[float]]:
    X, t = np.asarray(X, dtype=float), np.asarray(t, dtype=float)
    if X.ndim != 2 or len(X) != len(t):
        raise ValueError(
            f"X must be samples x features with one target each, got {X.shape} and {t.shape}"
        )
    return X.tolist(), t.tolist()
