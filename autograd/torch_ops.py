"""chainrule's Value API on PyTorch tensors, so one function runs on both (needs torch).

Imported only by the bridge to PyTorch (``autograd.pytorch``, ``nn.pytorch``) after it has
checked that torch is installed; ``import autograd`` never loads this file.

A function written for Values uses operators and Value methods.  On a float64 tensor the
operators (``+ - * / ** abs``, unary ``-``) and most methods (``abs neg exp log sqrt sin cos
tanh sigmoid relu``) already mean the same thing; ``ValueTensor`` adds the three a tensor lacks
(tests/test_torch_compare.py checks every Value method and every primitive):

=============  =====================================  ==========================================
Value method   torch op                               note
=============  =====================================  ==========================================
softplus()     torch.nn.functional.softplus           log(1 + e^x), derivative sigmoid(x)
leaky_relu(a)  torch.nn.functional.leaky_relu(x, a)   slope a for x <= 0 in both
step()         ``heaviside`` below                    1 for x >= 0, derivative 0; NaN stays NaN
=============  =====================================  ==========================================

Results of torch ops on a ValueTensor are ValueTensors again (torch's default
``__torch_function__`` keeps the subclass), so ``(x * w).softplus()`` works.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class _Heaviside(torch.autograd.Function):
    """The perceptron's step with chainrule's rule: 1 for x >= 0, 0 below, gradient g * 0."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ones = (x >= 0).to(x.dtype)
        return torch.where(torch.isnan(x), x, ones)  # NaN stays NaN, as in the engine

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> torch.Tensor:
        return g * 0.0  # zero everywhere (and NaN for a NaN upstream, like the engine's rule)


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """chainrule's ``step`` on a tensor: 1 for x >= 0, else 0, with a zero gradient."""
    out = _Heaviside.apply(x)
    # a custom Function returns a plain Tensor; keep the caller's subclass
    return out.as_subclass(type(x)) if type(out) is not type(x) else out


class ValueTensor(torch.Tensor):
    """A torch tensor that also has the Value methods plain tensors lack."""

    def softplus(self) -> torch.Tensor:
        """log(1 + e^x), as ``Value.softplus``."""
        return F.softplus(self)

    def leaky_relu(self, alpha: float = 0.01) -> torch.Tensor:
        """x for x > 0, alpha * x otherwise, as ``Value.leaky_relu``."""
        return F.leaky_relu(self, alpha)

    def step(self) -> torch.Tensor:
        """1 for x >= 0, else 0 (gradient 0), as ``Value.step``."""
        return heaviside(self)


class Step(torch.nn.Module):
    """The step activation as a layer (torch has none): chainrule's ``step`` on every element."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return heaviside(x)


class Abs(torch.nn.Module):
    """The abs activation as a layer (torch has none): |x|, gradient sign(x) (0 at 0) in both."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.abs(x)


def scalar(x: float, dtype: torch.dtype = torch.float64) -> ValueTensor:
    """A 0-d leaf ValueTensor holding x, requiring grad."""
    return torch.tensor(x, dtype=dtype).as_subclass(ValueTensor).requires_grad_()
