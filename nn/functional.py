"""Activations, losses and penalties written with Value operations, so they all backpropagate.

Everything here works on one sample: a Value (or a list of Values for several outputs) and
its target.  A batch's loss is the mean of the per-sample losses (see ``nn.train.fit``).

All of it is traceable by ``autograd.trace``: the graph's shape and its constants never depend
on the numbers flowing through.  That is why the numerically stable forms below use ``relu``
and ``abs`` instead of ``if`` on ``.data``:

* ``softmax``/``log_softmax`` shift by a running maximum m = m + relu(x - m), so exp never
  overflows; the result does not depend on the shift, and the gradients through it cancel;
* ``bce_with_logits`` is max(z, 0) - z t + log(1 + e^-|z|), written relu(z) - z t + ...
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from autograd import Value

if TYPE_CHECKING:
    from .module import Module

Target = float | Value | Sequence


def _value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


# ---- activations (one Value in, one Value out) -------------------------------------------


def linear(x: Value) -> Value:
    """The identity: a neuron's weighted sum, unchanged."""
    return x


def step(x: Value) -> Value:
    """The perceptron's threshold: 1 for x >= 0, else 0 (derivative 0)."""
    return _value(x).step()


def sigmoid(x: Value) -> Value:
    """1 / (1 + e^-x), squashing into (0, 1)."""
    return _value(x).sigmoid()


def tanh(x: Value) -> Value:
    """Hyperbolic tangent, squashing into (-1, 1)."""
    return _value(x).tanh()


def relu(x: Value) -> Value:
    """max(0, x)."""
    return _value(x).relu()


def leaky_relu(x: Value, alpha: float = 0.01) -> Value:
    """x for x > 0, alpha * x otherwise."""
    return _value(x).leaky_relu(alpha)


def prelu(x: Value, alpha: Value | float = 0.25) -> Value:
    """Parametric ReLU: x for x > 0, alpha * x otherwise, with alpha a Value that can be learned.

    Written max(x, 0) + alpha min(x, 0), with min(x, 0) = x - relu(x): the gradient reaches
    alpha (dPReLU/dalpha = min(x, 0)), and dPReLU/dx at 0 is alpha, as in PyTorch's PReLU.
    """
    x = _value(x)
    if not isinstance(alpha, Value):
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise TypeError(f"prelu: alpha must be a real number or a Value, got {alpha!r}")
    positive = x.relu()
    return positive + alpha * (x - positive)


def absolute(x: Value) -> Value:
    """|x| (the activation "abs"), derivative sign(x), taken as 0 at 0."""
    return _value(x).__abs__()


# ---- activations over a layer's outputs (a list in, a list out) ---------------------------


def _running_max(xs: list[Value]) -> Value:
    """max(xs) as m <- m + relu(x - m): traceable, and only used as a shift."""
    m = xs[0]
    for x in xs[1:]:
        m = m + (x - m).relu()
    return m


def _shifted(xs: Sequence[Value | float]) -> list[Value]:
    xs = [_value(x) for x in xs]
    if not xs:
        raise ValueError("softmax of an empty list")
    m = _running_max(xs)
    return [x - m for x in xs]


def softmax(xs: Sequence[Value]) -> list[Value]:
    """e^x_i / sum_k e^x_k, shifted by the maximum so that large inputs do not overflow."""
    exps = [z.exp() for z in _shifted(xs)]
    total = sum(exps[1:], exps[0])
    return [e / total for e in exps]


def log_softmax(xs: Sequence[Value]) -> list[Value]:
    """log softmax(x)_i = (x_i - m) - log sum_k e^(x_k - m); stable for any inputs."""
    zs = _shifted(xs)
    exps = [z.exp() for z in zs]
    log_total = sum(exps[1:], exps[0]).log()
    return [z - log_total for z in zs]


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "linear": linear,
    "step": step,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "abs": absolute,
}
LAYER_ACTIVATIONS: dict[str, Callable[[Sequence[Value]], list[Value]]] = {
    "softmax": softmax,
    "log_softmax": log_softmax,
}


def get_activation(name: str, layer: bool = False) -> Callable:
    """The activation called `name`; ValueError listing the valid names otherwise."""
    table = {**ACTIVATIONS, **LAYER_ACTIVATIONS} if layer else ACTIVATIONS
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(table)}")
    return table[name]


# ---- losses (one sample: prediction and target) ----------------------------------------


def _pairs(pred: Value | float | Sequence, target: Target, loss: str) -> list[tuple[Value, object]]:
    """(prediction, target) per output; a single Value pairs with a single target."""
    if isinstance(pred, Value) or isinstance(pred, numbers.Real):
        if isinstance(target, (list, tuple)):
            if len(target) != 1:
                raise ValueError(f"one prediction but {len(target)} targets")
            target = target[0]
        return [(_value(pred), target)]
    pred, target = list(pred), list(target) if isinstance(target, Iterable) else [target]
    if len(pred) != len(target):
        raise ValueError(f"{len(pred)} predictions but {len(target)} targets")
    if not pred:
        raise ValueError(f"{loss}: no predictions (empty lists): a loss needs at least one output")
    return [(_value(p), t) for p, t in zip(pred, target, strict=True)]


def _mean(terms: list[Value]) -> Value:
    total = sum(terms[1:], terms[0])
    return total if len(terms) == 1 else total * (1.0 / len(terms))


def mse(pred: Value | Sequence[Value], target: Target, half: bool = False) -> Value:
    """Squared error (p - t)^2, averaged over outputs; ``half=True``: lecture's 1/2 (p - t)^2."""
    loss = _mean([(p - t) ** 2 for p, t in _pairs(pred, target, "mse")])
    return 0.5 * loss if half else loss


def mae(pred: Value | Sequence[Value], target: Target) -> Value:
    """Absolute error |p - t|, averaged over outputs."""
    return _mean([abs(p - t) for p, t in _pairs(pred, target, "mae")])


def bce(prob: Value | Sequence[Value], target: Target, eps: float = 1e-12) -> Value:
    """Binary cross-entropy -(t log p + (1 - t) log(1 - p)) from probabilities, targets in [0, 1].

    p is squeezed into [eps, 1 - eps] (p' = eps + (1 - 2 eps) p, smooth and traceable) so a
    saturated sigmoid does not take log(0); for raw scores use ``bce_with_logits``.
    """
    terms = []
    for p, t in _pairs(prob, target, "bce"):
        squeezed = eps + (1 - 2 * eps) * p
        try:
            terms.append(-(t * squeezed.log() + (1 - t) * (1 - squeezed).log()))
        except ValueError:  # the log of a negative number: p was outside [0, 1]
            raise ValueError(
                f"bce takes probabilities in [0, 1] (a sigmoid's output), got {p.data!r}; "
                "for raw scores (any number) use bce_with_logits"
            ) from None
    return _mean(terms)


def bce_with_logits(logit: Value | Sequence[Value], target: Target) -> Value:
    """Binary cross-entropy of sigmoid(z), computed from z without overflow, targets in [0, 1].

    -(t log s(z) + (1 - t) log(1 - s(z))) = softplus(z) - z t, with softplus(z) = log(1 + e^z)
    a primitive of its own: stable, and with the right slope sigmoid(z) - t also at z = 0.
    """
    return _mean([z.softplus() - z * t for z, t in _pairs(logit, target, "bce_with_logits")])


def cross_entropy(logits: Sequence[Value], target: int | Sequence) -> Value:
    """-log softmax(logits)[target] for a class index, or -sum_i t_i log softmax_i for one-hot t."""
    logp = log_softmax(logits)
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        if not 0 <= target < len(logp):
            raise ValueError(f"class {target} out of range for {len(logp)} classes")
        return -logp[target]
    if isinstance(target, (Value, numbers.Number)) or not isinstance(target, Iterable):
        raise TypeError(
            "cross_entropy: the target must be a class index (an int, 0 to "
            f"{len(logp) - 1}) or a list of {len(logp)} probabilities (one-hot), "
            f"got {type(target).__name__}"
            + (f" {target!r}" if isinstance(target, numbers.Number) else "")
        )
    target = list(target)
    if len(target) != len(logp):
        raise ValueError(f"{len(logp)} logits but a target of length {len(target)}")
    # numeric zeros add nothing; Values (a traced target) always take part, so the graph is fixed
    terms = [t * lp for t, lp in zip(target, logp, strict=True) if isinstance(t, Value) or t != 0]
    if not terms:
        raise ValueError("cross_entropy: the target has no nonzero entry")
    return -sum(terms[1:], terms[0])


def hinge(score: Value | Sequence[Value], target: Target) -> Value:
    """max(0, 1 - y s) for labels y in {-1, +1}: micrograd's demo loss, written as micrograd's."""
    return _mean([(1 + -y * s).relu() for s, y in _pairs(score, target, "hinge")])


LOSSES: dict[str, Callable[..., Value]] = {
    "mse": mse,
    "mae": mae,
    "bce": bce,
    "bce_with_logits": bce_with_logits,
    "cross_entropy": cross_entropy,
    "hinge": hinge,
}


def get_loss(name: str) -> Callable[..., Value]:
    """The loss called `name`; ValueError listing the valid names otherwise."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")
    return LOSSES[name]


# ---- penalties on the parameters -------------------------------------------------------


def _params(params: Module | Iterable[Value]) -> list[Value]:
    params = params.parameters() if hasattr(params, "parameters") else list(params)
    if not params:
        raise ValueError("no parameters to penalise")
    return params


def l1_penalty(params: Module | Iterable[Value]) -> Value:
    """sum |p| over the parameters (a Module or an iterable of Values): pushes weights to 0."""
    return sum(abs(p) for p in _params(params))


def l2_penalty(params: Module | Iterable[Value]) -> Value:
    """sum p^2 over the parameters (a Module or an iterable of Values), as in micrograd's demo."""
    return sum(p * p for p in _params(params))
