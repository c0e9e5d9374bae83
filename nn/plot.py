"""Pictures of training: a 2-D classifier's decision regions with the data on top, loss curves.

Both return a matplotlib ``Figure`` (and draw into ``ax`` when given one).  Figures are made
with ``matplotlib.figure.Figure``, not pyplot, so nothing depends on a display or a GUI
backend (Agg is enough), no figure lingers in pyplot's registry, and a notebook shows the
returned Figure once (with the inline backend), not twice; ``fig.savefig(path)`` always works.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .module import Module
from .train import History, predict


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def decision_boundary(
    model: Module,
    X: ArrayLike,
    y: ArrayLike,
    threshold: float = 0.0,
    resolution: int = 200,
    margin: float = 0.25,
    ax: Axes | None = None,
) -> Figure:
    """Colour the plane by the model's decision and scatter the data, coloured by label, on top.

    The decision is output > threshold for one output (0 suits hinge loss and logits, 0.5 a
    sigmoid output), the argmax for several.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D inputs (samples x 2), got shape {X.shape}")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    out = predict(model, np.column_stack([gx.ravel(), gy.ravel()]))
    decision = out.argmax(axis=1) if out.ndim == 2 else (out > threshold).astype(int)
    fig, ax = _axes(ax, (5, 4.5))
    ax.contourf(
        gx,
        gy,
        decision.reshape(gx.shape),
        alpha=0.3,
        cmap="coolwarm",
        levels=np.arange(decision.max() + 2) - 0.5,
    )
    ax.scatter(X[:, 0], X[:, 1], c=y, s=20, cmap="coolwarm", edgecolors="k", linewidths=0.5)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title("decision boundary")
    return fig


def loss_curves(history: History, ax: Axes | None = None, log: bool = False) -> Figure:
    """Training (and validation) loss per epoch from ``fit``'s History; accuracy on a twin axis."""
    if not history.loss:
        raise ValueError("the history is empty: nothing to plot")
    fig, ax = _axes(ax, (6, 4))
    epochs = np.arange(1, len(history.loss) + 1)
    ax.plot(epochs, history.loss, label="training loss")
    if history.val_loss:
        ax.plot(epochs[: len(history.val_loss)], history.val_loss, label="validation loss")
    if history.best_epoch is not None:
        ax.axvline(history.best_epoch, color="gray", linestyle=":", label="best epoch")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    handles, labels = ax.get_legend_handles_labels()
    if history.accuracy:
        twin = ax.twinx()
        twin.plot(epochs, history.accuracy, color="tab:green", alpha=0.6, label="training accuracy")
        if history.val_accuracy:
            twin.plot(
                epochs[: len(history.val_accuracy)],
                history.val_accuracy,
                color="tab:olive",
                alpha=0.6,
                label="validation accuracy",
            )
        twin.set_ylabel("accuracy")
        twin.set_ylim(0, 1.05)
        more_handles, more_labels = twin.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    # below the axes: inside, it covered the curves wherever it went (the twin axis's lines
    # are drawn over it, and loc="best" cannot see them)
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncol=2,  # the loss entries in one column, the accuracy entries in the other
        fontsize=8,
        frameon=False,
    )
    return fig
