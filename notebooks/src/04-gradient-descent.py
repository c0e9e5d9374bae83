# %% [markdown]
# # 4. Gradient descent
#
# A network learns by gradient descent: compute the loss, its gradient with respect to every
# weight, and step downhill. This notebook looks at the choices inside that loop, first on the
# lecture's line fit and then on a small network, and at a surface where downhill is not
# enough.
#
# You will:
#
# 1. meet two toy data sets that no straight line can separate: **moons** and **circles**;
# 2. write the training loop by hand for a line fit, and compare **learning-rate schedules**,
#    including the lecture's $\alpha_k = c_1/(k + c_2)$;
# 3. compare **batch**, **mini-batch** and **stochastic** gradient descent on the moons;
# 4. find a **saddle point**'s Hessian with the engine's second derivatives, and watch gradient
#    descent near it.
#
# Training uses `nn.fit(..., engine="tape")`. The tape engine records the per-sample graph
# once and then replays it over each batch with numpy. It gives the same numbers as the eager
# engine, only faster, so every run here takes about a second. How `backward()` finds the
# gradients is the subject of notebooks 5 to 7; here we use them.
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - feedforward networks, “Cost function; Gradient descent (Linear Regression); Tuning learning rate” → § Learning-rate schedules, on a line
# - feedforward networks, “Batch size” → § Batch, mini-batch and stochastic gradient descent
# - perceptrons and backprop, “Online vs. batch training” → § Batch, mini-batch and stochastic gradient descent
# - feedforward networks, “Challenges with gradient descent (saddle points)” → § A saddle point
#
# Previous: [3. Activations and losses](03-activations-and-losses.ipynb). Next:
# [5. Computation graphs](05-computation-graphs.ipynb).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd import Value, grad
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
# what the text below says: 1000 steps; 2/(k + 5) starts at 0.4 and ends on the minimum,
# the small constant rate is still further away, the large one in a cloud around it
assert all(len(path) == 1001 for path in paths.values()) and schedules["2 / (k + 5)"](0) == 0.4
assert np.abs(paths["2 / (k + 5)"][-1] - best_w).max() < 0.005
assert np.abs(paths["constant 0.005"][-1] - best_w).max() > 0.05
assert np.abs(paths["constant 0.2"][-1] - best_w).max() > 0.1

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
    assert len(history.step_loss) == 40 * (100 // (batch_size or 100))  # updates: 40, 400, 4000
    print(
        f"{name:<20} {len(history.step_loss):>5} updates, final loss {history.loss[-1]:.4f}, "
        f"accuracy {history.accuracy[-1]:.0%}"
    )
final = [h.loss[-1] for _, h in runs.values()]
assert final[0] > final[1] > final[2]  # per epoch, the smaller batches get further

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
# ## A saddle point
#
# On the line fit the loss is a bowl, and every way down leads to its one minimum. A network's
# loss is not so kind. The feedforward lecture's example is $f(x_1, x_2) = x_1^2 - x_2^2$: at
# $(0, 0)$ its gradient is zero, yet it is no minimum, since $f(0, \varepsilon) < 0$. The
# engine can tell what kind of point it is. Its gradient, computed with `create_graph=True`,
# is itself a graph, so differentiating it once more gives the second derivatives, the
# **Hessian** $H_{ij} = \partial^2 f/\partial x_i \partial x_j$:

# %%
x1, x2 = Value(0.0, label="x1"), Value(0.0, label="x2")
f = x1**2 - x2**2
g1, g2 = grad(f, [x1, x2], create_graph=True)  # the gradient, as Values with their own graph
# differentiate each gradient again; g1 = 2 x1 does not use x2, so allow_unused gives None there
hessian = [
    [0.0 if h is None else h for h in grad(g, [x1, x2], allow_unused=True)] for g in (g1, g2)
]
print(f"gradient at (0, 0): ({g1.data}, {g2.data})")
print("Hessian at (0, 0):", hessian, " eigenvalues:", np.linalg.eigvalsh(hessian).tolist())
assert (g1.data, g2.data) == (0.0, 0.0) and hessian == [[2.0, 0.0], [0.0, -2.0]]

# %% [markdown]
# $H = \mathrm{diag}(2, -2)$: the surface curves up along $x_1$ and down along $x_2$. One
# positive and one negative eigenvalue make a saddle. Plain gradient descent with rate
# $\alpha$ multiplies $x_1$ by $1 - 2\alpha$ and $x_2$ by $1 + 2\alpha$ at every step, so near
# the saddle it slides in along $x_1$ and, unless $x_2$ is exactly 0, leaves along $x_2$. With
# $\alpha = 0.1$ a start at $(1, 10^{-3})$ needs about 38 steps before $|x_2| > 1$; a start at
# $(1, 0)$ never leaves and ends on the saddle.


# %%
def descend(start, lr=0.1, steps=50):
    """Gradient descent on f = x1^2 - x2^2 from start; the point after every step."""
    p = [Value(start[0]), Value(start[1])]
    path = [list(start)]
    for _ in range(steps):
        loss = p[0] ** 2 - p[1] ** 2
        d1, d2 = grad(loss, p)
        p = [Value(p[0].data - lr * d1), Value(p[1].data - lr * d2)]
        path.append([p[0].data, p[1].data])
    return np.array(path)


near = descend((1.0, 1e-3))
on_axis = descend((1.0, 0.0))
escape = int(np.argmax(np.abs(near[:, 1]) > 1))
print(
    f"from (1, 0.001): |x2| passes 1 after {escape} steps; f = {near[-1, 0] ** 2 - near[-1, 1] ** 2:.1f} at the end"
)
print(f"from (1, 0):     ends at ({on_axis[-1, 0]:.2e}, {on_axis[-1, 1]}) (the saddle)")
assert escape == 38 and np.allclose(near[:, 1], 1e-3 * 1.2 ** np.arange(51))
assert on_axis[-1, 1] == 0.0 and abs(on_axis[-1, 0]) < 1e-4

G1, G2 = np.meshgrid(np.linspace(-1.2, 1.2, 100), np.linspace(-1.2, 1.2, 100))
fig, ax = plt.subplots(figsize=(5, 4.5), layout="constrained")
contours = ax.contour(G1, G2, G1**2 - G2**2, levels=np.linspace(-1.4, 1.4, 15), cmap="coolwarm")
ax.clabel(contours, fontsize=7)
shown = near[: escape + 2]
ax.plot(shown[:, 0], shown[:, 1], ".-", color="k", lw=0.8, label="from (1, 0.001)")
ax.plot(
    on_axis[:, 0],
    on_axis[:, 1] + 0.03,
    ".-",
    color="tab:green",
    lw=0.8,
    label="from (1, 0), drawn 0.03 higher",
)
ax.plot(0, 0, "r+", markersize=14, label="saddle (0, 0)")
ax.set_xlim(-1.2, 1.2)
ax.set_ylim(-1.2, 1.2)
ax.set_xlabel("x1")
ax.set_ylabel("x2")
ax.set_title("gradient descent on f = x1² - x2²")
ax.legend(fontsize=8, loc="lower left")
plt.show()

# %% [markdown]
# A tiny push in $x_2$ is all it takes to leave, but near the saddle the gradient is tiny too:
# for dozens of steps the path barely moves, which is how a saddle looks in a loss curve, a
# long plateau. In a network with many weights such points are far more common than poor
# local minima, and the noise of stochastic gradients is one of the things that pushes the
# weights off them.
#
# ## Exercise
#
# 1. **Too large a learning rate.** Train the moons network with `nn.SGD(model, lr=5.0)` and
#    `batch_size=1`. What do the loss curves do? Is there a rate where `fit` stops with a
#    `DivergenceError`?
# 2. **Your own schedule.** Find $c_1$ and $c_2$ so that `optim.inverse_time(c1, c2)` trains
#    the moons with `batch_size=1` to 100% accuracy in fewer epochs than any constant rate you
#    try. Plot `history.lr` to see the schedule you used.
# 3. **Another saddle.** Compute the Hessian of $f = x_1 x_2$ at $(0, 0)$ with the engine. Is it
#    a saddle? Along which directions does gradient descent leave it?
