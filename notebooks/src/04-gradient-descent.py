# %% [markdown]
# # 5. Training an MLP
#
# So far we have computed gradients for one sample at a time. Training repeats that over a
# whole data set, many times: take a batch, run the forward pass, compute the loss, run
# backward, update the weights, and start again. This notebook looks at the choices inside
# that loop.
#
# You will:
#
# 1. meet two toy data sets that no straight line can separate: **moons** and **circles**;
# 2. write the training loop by hand for a line fit, and compare **learning-rate schedules**,
#    including the lecture's $\alpha_k = c_1/(k + c_2)$;
# 3. compare **batch**, **mini-batch** and **stochastic** gradient descent on the moons;
# 4. train an MLP on the circles with a validation set, and read its **loss curves** and
#    **decision boundary**;
# 5. draw the trained network's graph with every **neuron collapsed** into a single node.
#
# Training uses `nn.fit(..., engine="tape")`. The tape engine records the per-sample graph
# once and then replays it over each batch with numpy. It gives the same numbers as the eager
# engine, only faster, so every run here takes about a second.

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, without Jupyter widgets

import matplotlib.pyplot as plt
import numpy as np

import autograd
import nn
from autograd import Value
from nn import data, optim, plot
from nn import functional as F

# %% [markdown]
# ## Two data sets
#
# `data.moons` makes two interleaving half circles. With seed 1337 they are exactly the points
# of micrograd's demo. `data.circles` puts a small ring inside a large one. Both generators are
# seeded, so every run gets the same points.

# %%
X_moons, y_moons = data.moons(100, noise=0.1, seed=1337)
X_circles, y_circles = data.circles(200, noise=0.08, seed=0)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, (name, X, y) in zip(
    axes, [("moons", X_moons, y_moons), ("circles", X_circles, y_circles)], strict=True
):
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=18, edgecolors="k", linewidths=0.5)
    ax.set_title(f"{name}: {len(X)} points, 2 classes")
    ax.set_aspect("equal")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Learning-rate schedules, on a line
#
# We start with the simplest model there is, the lecture's line $h(x) = w_0 + w_1 x$: a single
# linear neuron. We fit it to 50 noisy points with **stochastic** gradient descent, which
# updates the weights after every single sample. Because the loss surface here is a simple
# bowl, we can watch where the weights go.
#
# The learning rate $\alpha$ decides how far each step moves:
#
# * if $\alpha$ is too large, each sample pulls the weights a long way towards *itself*, and
#   they keep jumping around the minimum instead of settling in it;
# * if $\alpha$ is too small, the weights creep towards the minimum and take a long time to get
#   there;
# * a schedule that **decreases** $\alpha$, such as the lecture's $\alpha_k = c_1/(k + c_2)$
#   at step $k$, takes big steps at first and then ever finer ones.
#
# `nn.optim` provides `constant`, `linear_decay` and `inverse_time` (that is
# $c_1/(k + c_2)$). A schedule is just a function of the step number:

# %%
schedules = {
    "constant 0.2": optim.constant(0.2),
    "constant 0.005": optim.constant(0.005),
    "2 / (k + 5)": optim.inverse_time(2.0, 5.0),
}
print([round(schedules["2 / (k + 5)"](k), 4) for k in (0, 1, 10, 100, 999)])

# %% [markdown]
# Here is the training loop written out by hand, the same loop that `nn.fit` runs for us
# later. We record the weights after every step.

# %%
X_line, y_line = data.noisy_line(50, slope=2.0, intercept=1.0, noise=0.5, seed=0)
A = np.column_stack([np.ones(len(X_line)), X_line[:, 0]])
best_w, *_ = np.linalg.lstsq(A, y_line, rcond=None)  # the exact least-squares line
best_loss = np.mean((A @ best_w - y_line) ** 2)


def sgd_path(schedule, epochs=20):
    """Fit h(x) = w0 + w1 x by SGD from (0, 0); returns the (w0, w1) after every step."""
    line = nn.Neuron(1, activation="linear", init="zeros")  # w0 is its bias, w1 its weight
    optimizer = nn.SGD(line, lr=schedule)
    batches = data.Batches(X_line, y_line, batch_size=1, seed=0)  # reshuffled every epoch
    path = [(line.b.data, line.w[0].data)]
    for _ in range(epochs):
        for xb, yb in batches:
            loss = F.mse(line(xb[0].tolist()), float(yb[0]))  # forward pass and loss
            optimizer.zero_grad()
            loss.backward()  # gradients
            optimizer.step()  # w <- w - a_k dL/dw
            path.append((line.b.data, line.w[0].data))
    return np.array(path)


paths = {name: sgd_path(schedule) for name, schedule in schedules.items()}
for name, path in paths.items():
    w0, w1 = path[-1]
    print(f"{name:<16} ends at w0 = {w0:.3f}, w1 = {w1:.3f}")
print(f"{'least squares':<16}         w0 = {best_w[0]:.3f}, w1 = {best_w[1]:.3f}")

# %% [markdown]
# On the left, the paths are drawn over the contours of the loss on all 50 points. On the
# right is the distance from the best possible loss after every step, on a log scale.

# %%
W0, W1 = np.meshgrid(np.linspace(-0.3, 1.8, 120), np.linspace(-0.3, 3.0, 120))
surface = np.mean((W0[..., None] + W1[..., None] * X_line[:, 0] - y_line) ** 2, axis=-1)


def excess_loss(path):
    """Loss on all the points minus the least-squares minimum, for every (w0, w1) in path."""
    return np.mean((path[:, :1] + path[:, 1:] * X_line[:, 0] - y_line) ** 2, axis=1) - best_loss


fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.contour(W0, W1, surface, levels=np.geomspace(0.26, 6, 12), colors="lightgray")
for name, path in paths.items():
    left.plot(path[:, 0], path[:, 1], linewidth=0.8, label=name)
    right.semilogy(excess_loss(path), linewidth=0.8, label=name)
left.plot(*best_w, "k*", markersize=12, label="least squares")
left.set_xlabel("w0")
left.set_ylabel("w1")
left.set_title("the weights' path, step by step")
left.legend(fontsize=8)
right.set_xlabel("step k")
right.set_ylabel("loss - minimum")
right.set_title("how close to the minimum")
fig.tight_layout()
plt.show()

# %% [markdown]
# * **constant 0.2** gets close within a few dozen steps. After that it stays in a cloud
#   around the minimum, because every sample keeps tugging the line towards its own point.
# * **constant 0.005** moves smoothly but slowly. After 1000 steps it is still on its way.
# * **$2/(k + 5)$** starts with even larger steps (0.4), so it is as fast as the large
#   constant at first. Its steps then shrink, and the path settles onto the minimum.
#
# ## Batch, mini-batch and stochastic gradient descent
#
# One pass over the whole training set is an **epoch**. The **batch size** $K$ says how many
# samples go into each gradient, that is, into each update:
#
# | $K$ | name | updates per epoch (100 samples) |
# |---|---|---|
# | 100 (all) | batch gradient descent | 1 |
# | 10 | mini-batch gradient descent | 10 |
# | 1 | stochastic gradient descent | 100 |
#
# We train the same network, from the same starting weights, on the moons, with each batch
# size. All three get the same learning rate and 40 epochs, so each one computes the same
# number of per-sample gradients. Only how often the weights are updated differs.

# %%
batch_sizes = {"batch (K = 100)": None, "mini-batch (K = 10)": 10, "stochastic (K = 1)": 1}
runs = {}
for name, batch_size in batch_sizes.items():
    model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=0)
    history = nn.fit(
        model,
        X_moons,
        y_moons,
        loss="bce_with_logits",
        optimizer=nn.SGD(model, lr=0.1),
        epochs=40,
        batch_size=batch_size,
        engine="tape",
        progress=False,
    )
    runs[name] = (model, history)
    print(
        f"{name:<20} {len(history.step_loss):>5} updates, final loss {history.loss[-1]:.4f}, "
        f"accuracy {history.accuracy[-1]:.0%}"
    )

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for name, (_, history) in runs.items():
    left.plot(range(1, len(history.loss) + 1), history.loss, label=name)
    right.plot(range(1, 41), history.step_loss[:40], ".-", linewidth=0.8, label=name)
left.set_xlabel("epoch")
left.set_ylabel("training loss")
left.set_title("loss per epoch")
left.legend()
right.set_xlabel("update")
right.set_ylabel("loss on the batch used")
right.set_title("the first 40 updates (all of batch GD's)")
plt.show()

# %% [markdown]
# Per epoch, the small batches win, because they update the weights 10 or 100 times as often
# for the same amount of arithmetic. Per update it is the other way round. Each batch update
# uses all 100 points, so the loss falls smoothly. A stochastic update sees one sample, so the
# loss it sees jumps with whichever sample comes up, and a single step can make things worse
# for the other 99. Mini-batches sit in between, and that is why they are the usual choice: the
# gradient is much less noisy than with one sample, and on real hardware a batch of samples
# costs about as much time as a single one.
#
# Here is each network's decision boundary after its 40 epochs:

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
for ax, (name, (model, history)) in zip(axes, runs.items(), strict=True):
    plot.decision_boundary(model, X_moons, y_moons, ax=ax)
    ax.set_title(f"{name}: {history.accuracy[-1]:.0%}")
plt.show()

# %% [markdown]
# ## The circles, with a validation set
#
# To find out whether a network has learned the pattern or only memorised the points, we
# keep some data aside. `data.split` holds back a quarter of the circles as a **validation
# set**. `fit` trains on the rest and measures the validation loss after every epoch. This
# time the optimizer is Adam, with mini-batches of 16.

# %%
(X_train, y_train), (X_val, y_val), _ = data.split(X_circles, y_circles, val=0.25, seed=0)

model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=0)
history = nn.fit(
    model,
    X_train,
    y_train,
    loss="bce_with_logits",
    optimizer=nn.Adam(model, lr=0.05),
    epochs=100,
    batch_size=16,
    val=(X_val, y_val),
    engine="tape",
    progress=False,
)
print(model)
print(
    f"after {history.epochs} epochs: training accuracy {history.accuracy[-1]:.0%}, "
    f"validation accuracy {history.val_accuracy[-1]:.0%}"
)

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
plot.loss_curves(history, ax=left, log=True)
plot.decision_boundary(model, X_circles, y_circles, ax=right)
left.set_title("loss (log scale) and accuracy")
right.set_title("decision boundary, all 200 points")
plt.show()

# %% [markdown]
# The training and validation losses go down together, so the network has learned the ring
# and not the particular points. Two hidden layers of four tanh units are enough to bend the
# boundary into a closed curve.
#
# ## The network as a graph, one node per neuron
#
# The full graph for one sample is large. Every neuron is a multiplication for each input, a
# chain of additions, and an activation. We take the validation point the network is least
# sure about (its output closest to 0, the boundary), so that its gradients are not tiny.

# %%
i = int(np.argmin(np.abs(nn.predict(model, X_val))))
x = [Value(X_val[i, 0], label="x1"), Value(X_val[i, 1], label="x2")]
logit = model(x)
loss = F.bce_with_logits(logit, float(y_val[i]))
loss.backward()
print(f"point {X_val[i].round(3)}, class {y_val[i]}: output {logit.data:.3f}, loss {loss.data:.3f}")
print(f"{len(autograd.topological_order(loss))} nodes in the graph of its loss")

# %% [markdown]
# `collapse="neuron"` draws each neuron as a single node showing its activation, its output
# and its gradient. Passing `model=model` tells `draw` which leaves are parameters, so they
# are folded into their neurons. We draw up to the network's output and leave off the dozen
# operations of the loss itself. The gradients are still those of the loss, because
# `backward()` started there. What is left is the familiar picture of an MLP, layer by layer.

# %%
autograd.draw(logit, model=model, collapse="neuron", view="both")

# %% [markdown]
# Each gradient here is what backpropagation sends back to a neuron for this one sample. A
# weight inside a neuron gets its gradient from the neuron's gradient, times the derivative of
# the neuron's activation, times the input on that weight.
#
# ## Exercise
#
# 1. **Too large a learning rate.** Train the moons network with `nn.SGD(model, lr=5.0)` and
#    `batch_size=1`. What do the loss curves do? Is there a rate where `fit` stops with a
#    `DivergenceError`?
# 2. **Your own schedule.** Find $c_1$ and $c_2$ so that `optim.inverse_time(c1, c2)` trains
#    the moons with `batch_size=1` to 100% accuracy in fewer epochs than any constant rate you
#    try. Plot `history.lr` to see the schedule you used.
# 3. **Harder data.** Try `data.spirals(200, noise=0.1)`. How many hidden units and epochs
#    does it take? Draw the collapsed graph of your network.
