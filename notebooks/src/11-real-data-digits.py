# %% [markdown]
# # 11. Real data: handwritten digits
#
# Every network so far learned a toy problem: a truth table, two moons, a spiral. This notebook
# trains one on real data: 1,797 handwritten digits, each an 8 x 8 grey image, the data set
# scikit-learn ships (chainrule bundles it as `nn.data.digits()`, so nothing is downloaded).
#
# You will:
#
# 1. look at the images and the numbers a network actually sees;
# 2. train an MLP with 64 inputs, 32 hidden units and 10 outputs (one per digit) with
#    softmax cross-entropy, on the tape (`engine="tape"`), which replays one traced graph over
#    the whole batch with numpy, each dense layer as one matrix product;
# 3. measure its accuracy on digits it never saw, and look at the ones it gets wrong.

# %%
# %matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np

import autograd
import nn
from nn import data

# %% [markdown]
# ## The data
#
# `X` has one row per image: its 64 pixels, row by row, scaled from 0..16 to 0..1. `y` is the
# digit. The ten classes are almost equally common.

# %%
X, y = data.digits()
print("X:", X.shape, " y:", y.shape)
print("images per digit:", np.bincount(y).tolist())
assert X.shape == (1797, 64) and np.bincount(y).min() >= 174

fig, axes = plt.subplots(2, 10, figsize=(10, 2.4))
examples = [int(np.flatnonzero(y == d)[i]) for i in (0, 1) for d in range(10)]  # two of each
for ax, k in zip(axes.flat, examples, strict=True):
    ax.imshow(X[k].reshape(8, 8), cmap="gray_r")
    ax.set_title(str(y[k]))
    ax.axis("off")
plt.show()

# %% [markdown]
# To the network an image is just these 64 numbers; that two neighbouring pixels are
# neighbours is something it has to learn from the data.

# %%
print(np.round(X[0].reshape(8, 8) * 16).astype(int))

# %% [markdown]
# ## Training on the tape
#
# We keep a fifth of the images aside as a test set, and train on the rest in mini-batches of
# 64 with Adam. With 10 outputs and `loss="cross_entropy"`, the outputs are logits: softmax
# turns them into class probabilities inside the loss.
#
# The eager engine would build about 4,800 new Values per image and step (each of the 42
# neurons multiplies and adds up its inputs one at a time), on top of the 2,410 parameters and
# 64 pixels; the tape traces that graph once and replays it on whole batches (the cell prints
# both numbers, and the time per epoch).

# %%
(X_train, y_train), _, (X_test, y_test) = data.split(X, y, val=0.0, test=0.2, seed=0)
model = nn.MLP(64, [32, 10], activation="relu", seed=0)
print(model)
one_image = nn.functional.cross_entropy(model(X_train[0].tolist()), int(y_train[0]))
made = sum(not v.is_leaf for v in autograd.topological_order(one_image))
print(f"one image's graph: {made} Values made by the forward pass and the loss")
assert round(made, -2) == 4800 and model.num_parameters() == 2410

epochs = 15
started = time.perf_counter()
history = nn.fit(
    model,
    X_train,
    y_train,
    loss="cross_entropy",
    optimizer=nn.Adam(model, lr=0.01),
    epochs=epochs,
    batch_size=64,
    engine="tape",
    progress=False,
)
elapsed = time.perf_counter() - started
print(history)
print(f"{elapsed / epochs:.2f} s per epoch ({len(X_train)} images, tracing included)")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
nn.plot.loss_curves(history, ax=ax, log=True)
ax.set_title("MLP 64-32-10 on the digits, Adam, batches of 64")
plt.show()

# %% [markdown]
# ## How well does it read digits it never saw?
#
# On the held-out fifth, the network reads over 95% of the digits correctly.

# %%
scores = nn.predict(model, X_test)
predicted = scores.argmax(axis=1)
test_accuracy = float(np.mean(predicted == y_test))
print(f"test accuracy: {test_accuracy:.1%} of {len(y_test)} images")
assert test_accuracy > 0.95

# %% [markdown]
# The confusion matrix counts, for each true digit (row), what the network said (column); the
# diagonal is what it got right.

# %%
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        if confusion[i, j]:
            colour = "white" if confusion[i, j] > confusion.max() / 2 else "black"
            ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=8, color=colour)
ax.set_xlabel("predicted")
ax.set_ylabel("true digit")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
plt.show()
assert confusion.trace() == int(np.sum(predicted == y_test))

# %% [markdown]
# Some of its mistakes, with what it said and how sure it was (the softmax probability):

# %%
wrong = np.flatnonzero(predicted != y_test)[:8]
probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
probabilities /= probabilities.sum(axis=1, keepdims=True)
fig, axes = plt.subplots(1, len(wrong), figsize=(1.3 * len(wrong), 1.8), squeeze=False)
for ax, k in zip(axes.flat, wrong, strict=True):
    ax.imshow(X_test[k].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{y_test[k]} → {predicted[k]}\n{probabilities[k, predicted[k]]:.0%}", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Exercise
#
# 1. **Width.** Train with 8 and with 128 hidden units instead of 32. How does the test
#    accuracy change, and the time per epoch?
# 2. **No hidden layer.** `nn.MLP(64, [10])` is a linear classifier (softmax regression). How
#    far does it get, and which digits does it confuse most?
# 3. **Eager against tape.** Train one epoch with `engine="eager"` and compare the time with the
#    tape's. The losses agree to many digits: why not to every digit?
