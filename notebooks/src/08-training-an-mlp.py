# %% [markdown]
# # 8. Training an MLP
#
# With backpropagation in hand (notebooks 5 to 7), this notebook trains networks the way the
# lectures' last slides describe: on a training set, watched on a validation set, with the
# usual additions to plain gradient descent.
#
# You will:
#
# 1. train an MLP on the circles with a validation set, and read its **loss curves** and
#    **decision boundary**;
# 2. draw the trained network's graph with every **neuron collapsed** into a single node;
# 3. classify **three classes** with a softmax output and cross-entropy, and draw the decision
#    regions;
# 4. let **early stopping** end a run that has started to overfit;
# 5. add **momentum** and **L2 regularisation** and see what each changes.
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - feedforward networks, “Choosing the network topology (training, validation and test data)” → § The circles, with a validation set
# - feedforward networks, “Computing loss (C = 3 classes, one-hot targets)” → § Three classes: softmax and cross-entropy
# - perceptrons and backprop, “Output layers (multi-class classification)” → § Three classes: softmax and cross-entropy
# - feedforward networks, “Stopping the training of the network” → § Early stopping
# - perceptrons and backprop, “Learning in multilayer networks (momentum, regularization, early stopping)” → § Momentum and L2 regularisation
#
# Previous: [7. Backpropagation layer by layer](07-backprop-layer-by-layer.ipynb). Next:
# [9. Errata](09-lecture-errata.ipynb).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import autograd
import nn
from autograd import Value
from nn import data, plot
from nn import functional as F

X_circles, y_circles = data.circles(200, noise=0.08, seed=0)


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
assert history.val_loss[-1] < history.val_loss[0] / 5 and history.val_accuracy[-1] >= 0.95

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
x = [Value(X_val[i, 0], label="x_1"), Value(X_val[i, 1], label="x_2")]
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
# `nn.draw_network` draws the same network and sample as the lectures draw networks: one
# circle per unit, the weights on the edges (named `W1[i][j]`, from input $i$ to unit $j$),
# each edge coloured by its $\partial L/\partial w$ and each unit by its
# $\delta = \partial L/\partial z$. With more than 20 edges (this network has 28) it draws thin
# unlabelled edges and puts the numbers in tooltips (hover over an edge or a unit);
# `labels=True` writes them all out.

# %%
assert sum(layer.nin * layer.nout for layer in model.layers) == 28  # the edges the text counts
nn.draw_network(model, x=X_val[i].tolist(), y=float(y_val[i]), loss="bce_with_logits")

# %% [markdown]
# ## Three classes: softmax and cross-entropy
#
# For $C$ classes the network gets $C$ outputs $z_1, \dots, z_C$, one score per class. Softmax
# turns them into probabilities, $p_c = e^{z_c} / \sum_k e^{z_k}$, and the loss is the
# cross-entropy $-\log p_y$ of the true class $y$: the one-hot target $(1, 0, 0)$ for class 1
# picks out one term, as in the feedforward lecture's example. Its gradient with respect to
# the scores is simply $p - \text{one-hot}(y)$. Here are three overlapping clusters of 50
# points and an MLP with 8 tanh hidden units and 3 outputs:

# %%
X3, y3 = data.blobs(150, centers=3, std=2.0, box=5, seed=1)
model3 = nn.MLP(2, [8, 3], activation="tanh", seed=0)
history3 = nn.fit(
    model3,
    X3,
    y3,
    loss="cross_entropy",
    optimizer=nn.Adam(model3, lr=0.05),
    epochs=100,
    engine="tape",
    progress=False,
)
print(f"after 100 epochs: loss {history3.loss[-1]:.3f}, accuracy {history3.accuracy[-1]:.0%}")

# one point's scores, probabilities and the gradient of its loss with respect to the scores
scores = model3(X3[0].tolist())
probs = F.softmax(scores)
loss = F.cross_entropy(scores, int(y3[0]))
dz = autograd.grad(loss, scores)
target = data.one_hot(y3[:1], 3)[0]
print("scores:", [round(s.data, 3) for s in scores], " class:", int(y3[0]))
print("softmax:", [round(p.data, 3) for p in probs], " sum:", round(sum(p.data for p in probs), 12))
print("dL/dz from the engine:", np.round(dz, 4).tolist())
print("p - one-hot(y):       ", np.round([p.data for p in probs] - target, 4).tolist())
assert history3.accuracy[-1] >= 0.85
assert np.allclose(dz, [p.data for p in probs] - target, atol=1e-12)

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plot.loss_curves(history3, ax=left)
plot.decision_boundary(model3, X3, y3, ax=right)
left.set_title("cross-entropy and accuracy, 3 classes")
right.set_title(f"decision regions (argmax): {history3.accuracy[-1]:.0%} of the points")
plt.show()

# %% [markdown]
# The regions meet along straight-ish lines, as they must where two scores are equal; the
# points that land on the wrong side sit where the clusters overlap. At least 85% of the
# points are classified correctly (the cell above checks it), which is about what these
# overlapping clusters allow.
#
# ## Early stopping
#
# A large network on a small, noisy data set learns the points, noise and all. The training
# loss keeps falling while the loss on held-out data turns back up. **Early stopping** watches
# the validation loss and stops when it has not improved for `patience` epochs, then puts
# back the weights of the best epoch. Here are 40 training and 40 validation points of very
# noisy moons, an MLP with two layers of 32 units, and Adam, once with early stopping
# (patience 40) and once for the full 800 epochs:

# %%
X_noisy, y_noisy = data.moons(80, noise=0.35, seed=3)
(X_tr, y_tr), (X_va, y_va), _ = data.split(X_noisy, y_noisy, val=0.5, seed=0)


def noisy_run(**options):
    model = nn.MLP(2, [32, 32, 1], activation="tanh", seed=0)
    history = nn.fit(
        model,
        X_tr,
        y_tr,
        loss="bce_with_logits",
        optimizer=nn.Adam(model, lr=0.002),
        epochs=800,
        val=(X_va, y_va),
        engine="tape",
        progress=False,
        **options,
    )
    return model, history


stopped_model, stopped = noisy_run(patience=40)
full_model, full = noisy_run()
print(
    f"early stopping: stopped after epoch {stopped.epochs} ({stopped.stop_reason}), best epoch "
    f"{stopped.best_epoch}, validation loss {min(stopped.val_loss):.3f}, "
    f"validation accuracy {stopped.val_accuracy[stopped.best_epoch - 1]:.0%}"
)
print(
    f"all 800 epochs: training loss {full.loss[-1]:.3f}, validation loss {full.val_loss[-1]:.3f}, "
    f"validation accuracy {full.val_accuracy[-1]:.0%}"
)
assert stopped.stopped_early and stopped.stop_reason == "patience"
assert stopped.epochs == stopped.best_epoch + 40 < 800
assert full.val_loss[-1] > 2 * min(stopped.val_loss) and full.loss[-1] < 0.05

# %%
# resolution=100: 10,000 grid points per picture instead of 40,000 (the 32 x 32 networks are
# the slowest part of this notebook to evaluate)
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), layout="constrained")
epochs = np.arange(1, full.epochs + 1)
axes[0].semilogy(epochs, full.loss, label="training loss")
axes[0].semilogy(epochs, full.val_loss, label="validation loss")
axes[0].axvline(stopped.best_epoch, color="k", ls=":", label=f"best epoch ({stopped.best_epoch})")
axes[0].axvline(stopped.epochs, color="tab:red", ls="--", label=f"stopped ({stopped.epochs})")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("loss (log scale)")
axes[0].legend(fontsize=8)
axes[0].set_title("800 epochs: the validation loss turns up")
plot.decision_boundary(stopped_model, X_noisy, y_noisy, resolution=100, ax=axes[1])
axes[1].set_title(f"early stopping (epoch {stopped.best_epoch})")
plot.decision_boundary(full_model, X_noisy, y_noisy, resolution=100, ax=axes[2])
axes[2].set_title("after 800 epochs")
plt.show()

# %% [markdown]
# The validation loss is lowest early on, and after that every epoch fits the training points
# better and the validation points worse: by epoch 800 the training loss is below 0.05 and the
# validation loss has more than doubled. The boundary on the right bends around single noisy
# points. Early stopping kept the smooth one.
#
# ## Momentum and L2 regularisation
#
# Two more additions from the perceptrons lecture's list. **Momentum** keeps a running sum of
# past gradients, $v \leftarrow \mu v + g$, and steps along it, $w \leftarrow w - \alpha v$: in a
# direction where the gradients agree the steps grow up to $1/(1-\mu)$ times, where they
# alternate they cancel. **L2 regularisation** adds $\lambda \sum w^2$ to the loss, so every
# gradient gets an extra $2\lambda w$ pulling the weights towards 0 and large weights must pay
# for themselves.

# %%
X_moons, y_moons = data.moons(100, noise=0.1, seed=1337)
with_momentum = {}
for mu in (0.0, 0.9):
    model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=0)
    with_momentum[mu] = nn.fit(
        model,
        X_moons,
        y_moons,
        loss="bce_with_logits",
        optimizer=nn.SGD(model, lr=0.05, momentum=mu),
        epochs=60,
        batch_size=10,
        engine="tape",
        progress=False,
    )
    h = with_momentum[mu]
    print(
        f"SGD, momentum {mu}: loss {h.loss[-1]:.4f}, accuracy {h.accuracy[-1]:.0%} after 60 epochs"
    )

regularised = {}
for lam in (0.0, 0.01):
    model = nn.MLP(2, [32, 32, 1], activation="tanh", seed=0)
    h = nn.fit(
        model,
        X_tr,
        y_tr,
        loss="bce_with_logits",
        optimizer=nn.Adam(model, lr=0.02),
        epochs=300,
        l2=lam,
        val=(X_va, y_va),
        engine="tape",
        progress=False,
    )
    size = sum(p.data**2 for p in model.parameters())
    regularised[lam] = (model, h, size)
    print(
        f"L2 lambda {lam}: sum of squared weights {size:.1f}, validation loss "
        f"{h.val_loss[-1]:.3f}, validation accuracy {h.val_accuracy[-1]:.0%}"
    )
assert with_momentum[0.9].loss[-1] < with_momentum[0.0].loss[-1] / 10
assert with_momentum[0.9].accuracy[-1] == 1.0 and with_momentum[0.0].accuracy[-1] < 1.0
(_, h0, size0), (_, h1, size1) = regularised[0.0], regularised[0.01]
assert size1 < size0 / 10 and h1.val_loss[-1] < h0.val_loss[-1] / 1.5
assert h1.val_accuracy[-1] > h0.val_accuracy[-1]

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), layout="constrained")
for mu, h in with_momentum.items():
    axes[0].semilogy(range(1, 61), h.loss, label=f"momentum {mu}")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("training loss (log scale)")
axes[0].set_title("SGD on the moons, lr 0.05, K = 10")
axes[0].legend()
for ax, (lam, (model, h, _)) in zip(axes[1:], regularised.items(), strict=True):
    plot.decision_boundary(model, X_noisy, y_noisy, resolution=100, ax=ax)
    ax.set_title(f"L2 lambda = {lam}: validation {h.val_accuracy[-1]:.0%}")
plt.show()

# %% [markdown]
# With the same rate and batches, momentum takes the moons' loss more than ten times lower in
# 60 epochs and classifies every point; without it SGD is still on its way. On the noisy
# moons, $\lambda = 0.01$ keeps the sum of squared weights more than ten times smaller, the
# boundary smooth, and the validation loss at less than two thirds of the unregularised one.
#
# ## Exercise
#
# 1. **Harder data.** Try `data.spirals(200, noise=0.1)`. How many hidden units and epochs
#    does it take? Draw the collapsed graph of your network.
# 2. **Three spirals.** `data.spirals(300, classes=3)` with `loss="cross_entropy"`: how do the
#    decision regions look when the network is just big enough?
# 3. **Patience.** Rerun the early-stopping example with patience 5 and 200. Which epoch does
#    each keep, and why can a patience that is too small stop at the wrong minimum?
