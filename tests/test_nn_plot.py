"""Plots render headless (Agg) and return a Figure: decision boundary and loss curves."""

from __future__ import annotations

import io

import matplotlib
import pytest

import nn
from nn import data

matplotlib.use("Agg")


def trained():
    X, y = data.moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    history = nn.fit(
        model,
        X,
        data.signed(y),
        loss="hinge",
        optimizer=nn.SGD(model, lr=0.1),
        epochs=5,
        val=(X, data.signed(y)),
        engine="tape",
        progress=False,
    )
    return model, X, y, history


def renders(fig) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue().startswith(b"\x89PNG")


def test_decision_boundary_returns_a_figure_with_the_data_on_top():
    from matplotlib.figure import Figure

    model, X, y, _ = trained()
    fig = nn.plot.decision_boundary(model, X, y, resolution=30)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.collections[-1].get_offsets().shape == (40, 2)  # the scatter is drawn last
    assert renders(fig)


def test_decision_boundary_of_a_multiclass_model_and_into_given_axes():
    from matplotlib.figure import Figure

    X, y = data.blobs(30, centers=3, seed=0)
    fig = Figure()
    ax = fig.add_subplot()
    assert nn.plot.decision_boundary(nn.MLP(2, [4, 3], seed=0), X, y, resolution=20, ax=ax) is fig
    assert renders(fig)


def test_decision_boundary_needs_two_features():
    X, y = data.noisy_line(10)
    with pytest.raises(ValueError, match="needs 2-D inputs"):
        nn.plot.decision_boundary(nn.MLP(1, [1]), X, y)


def test_loss_curves_show_training_and_validation():
    *_, history = trained()
    fig = nn.plot.loss_curves(history)
    labels = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
    assert {"training loss", "validation loss", "training accuracy", "validation accuracy"} <= set(
        labels
    )
    assert renders(fig)


def test_loss_curves_legend_lies_outside_the_plot_so_it_covers_no_curve():
    *_, history = trained()
    fig = nn.plot.loss_curves(history)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert {"training loss", "validation loss", "training accuracy", "validation accuracy"} <= {
        t.get_text() for t in legend.get_texts()
    }
    fig.draw_without_rendering()  # lays the legend out
    box, plot_area = legend.get_window_extent(), ax.get_window_extent()
    assert box.y1 <= plot_area.y0  # wholly below the axes, not over the lines


def test_loss_curves_of_an_empty_history_are_refused():
    with pytest.raises(ValueError, match="empty"):
        nn.plot.loss_curves(nn.History())
