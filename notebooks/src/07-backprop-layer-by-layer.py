# %% [markdown]
# # 7. Backpropagation layer by layer
#
# Notebook 6 found every gradient of the worked example with the chain rule, one weight at a
# time. The lectures then derive the algorithm that does it for any network, layer by layer,
# with one number per neuron: its **error** $\delta = \partial L/\partial z$, the derivative of
# the loss with respect to the neuron's weighted sum $z$.
#
# You will:
#
# 1. write the **$\delta$ recursion** with numpy, one layer at a time, and check it against
#    `backward()` on the worked example;
# 2. write it again in **matrix form** for a whole batch;
# 3. run both on the **4-layer sigmoid network** of the perceptrons-and-backprop lecture and
#    check them against `backward()`;
# 4. see why an **all-zero initialisation** keeps the hidden units identical, and break the
#    symmetry.
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - perceptrons and backprop, “Backpropagation; Backpropagation illustrated” → § The recursion
# - feedforward networks, “Backward pass” → § The recursion
# - backpropagation, “Summary in matrix form” → § The matrix form, for a batch
# - perceptrons and backprop, “Gradient (on one data point); Backpropagation of δ; Gradient descent with Backpropagation” → § The 4-layer sigmoid network
# - backpropagation article, “all weights starting at zero (symmetry)” → § Symmetry: why weights do not start at zero
#
# Previous: [6. The worked example](06-worked-example.ipynb). Next:
# [8. Training an MLP](08-training-an-mlp.ipynb).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd import Value
from nn import data, plot
from nn import functional as F

# %% [markdown]
# ## The recursion
#
# Number the layers $l = 1, \dots, L$, with $a^{(0)} = \mathbf x$. Layer $l$ computes
# $z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$ and $a^{(l)} = f_l(z^{(l)})$, where $W^{(l)}_{jk}$ is
# the weight *from* unit $k$ of layer $l - 1$ *to* unit $j$ of layer $l$ (the lecture's
# convention; `nn.MLP.from_weights` takes the transpose, `W[i][j]` from input $i$ to unit $j$).
# With $\delta^{(l)} = \partial L/\partial z^{(l)}$ the chain rule gives four lines:
#
# $$\delta^{(L)} = \frac{\partial L}{\partial a^{(L)}} \odot f_L'(z^{(L)}), \qquad
#   \delta^{(l)} = \bigl(W^{(l+1)\top} \delta^{(l+1)}\bigr) \odot f_l'(z^{(l)}),$$
#
# $$\frac{\partial L}{\partial W^{(l)}_{jk}} = \delta^{(l)}_j\, a^{(l-1)}_k, \qquad
#   \frac{\partial L}{\partial b^{(l)}_j} = \delta^{(l)}_j .$$
#
# The backward pass is one sweep from the output layer to the first: each layer's $\delta$
# comes from the next layer's, and every gradient is an activation times a $\delta$. Here it
# is in numpy for one sample. `derivative` gives $f'$ in terms of $z$ and $a = f(z)$.

# %%
ACT = {
    "linear": (lambda z: z, lambda z, a: np.ones_like(z)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a)),
}


def forward(x, Ws, bs, acts):
    """Every layer's z and a for one sample; Ws[l] has one row per unit of layer l."""
    a, zs, activations = np.asarray(x, float), [], [np.asarray(x, float)]
    for W, b, act in zip(Ws, bs, acts, strict=True):
        z = W @ a + b
        a = ACT[act][0](z)
        zs.append(z)
        activations.append(a)
    return zs, activations


def backprop(x, dL_da, Ws, bs, acts):
    """The deltas and the gradients of every W and b, by the recursion (one sample)."""
    zs, a = forward(x, Ws, bs, acts)
    deltas = [None] * len(Ws)
    deltas[-1] = dL_da(a[-1]) * ACT[acts[-1]][1](zs[-1], a[-1])  # output layer
    for k in range(len(Ws) - 2, -1, -1):  # hidden layers, from the top down
        deltas[k] = (Ws[k + 1].T @ deltas[k + 1]) * ACT[acts[k]][1](zs[k], a[k + 1])
    dWs = [np.outer(d, a_prev) for d, a_prev in zip(deltas, a[:-1], strict=True)]
    return deltas, dWs, deltas  # dL/db = delta


# %% [markdown]
# ## On the worked example
#
# The slide's network has linear units, no biases (we give it zero biases, which changes
# nothing), and $L = \tfrac12(\hat y - y)^2$, so $\partial L/\partial \hat y = \hat y - y$.

# %%
x, y = np.array([2.0, 3.0]), 1.0
W1 = np.array([[-0.78, 0.13], [0.85, 0.23]])  # the slide's W1[i][j]: input i -> hidden j
W2 = np.array([[1.8], [0.40]])
Ws = [W1.T, W2.T]  # the recursion's convention: one row per unit
bs = [np.zeros(2), np.zeros(1)]
deltas, dWs, dbs = backprop(x, lambda a: a - y, Ws, bs, ["linear", "linear"])
print("delta output:", deltas[1].round(6).tolist(), "  delta hidden:", deltas[0].round(6).tolist())
print("dL/dW1 (x_i delta_j):", dWs[0].T.round(6).tolist())
print("dL/dW2 (h_j delta):  ", dWs[1].T.round(6).tolist())

# the same network in nn, and backward()
model = nn.MLP.from_weights([W1.tolist(), W2.tolist()], [[0.0, 0.0], [0.0]], activation="linear")
loss = F.mse(model(x.tolist()), y, half=True)
loss.backward()
hidden, output = model.layers
engine_W1 = np.array([[n.w[i].grad for n in hidden.neurons] for i in range(2)])
engine_W2 = np.array([[n.w[j].grad for n in output.neurons] for j in range(2)])
engine_b1 = np.array([n.b.grad for n in hidden.neurons])
print("backward()'s dL/dW1: ", engine_W1.round(6).tolist())
assert np.allclose(dWs[0].T, engine_W1, atol=1e-12) and np.allclose(dWs[1].T, engine_W2, atol=1e-12)
assert np.allclose(dbs[0], engine_b1, atol=1e-12) and np.isclose(
    dbs[1][0], output.neurons[0].b.grad
)
assert np.allclose(deltas[1], [1.162]) and np.allclose(deltas[0], [2.0916, 0.4648])

# %% [markdown]
# $\delta_{\text{out}} = \hat y - y = 1.162$, and each hidden $\delta_j = W^{(2)}_j \cdot 1.162$
# $= [2.0916, 0.4648]$ because a linear unit has $f' = 1$. Then every weight's gradient is its
# input times the $\delta$ of the unit it feeds: $\partial L/\partial W^{(1)}_{ij} = x_i\,
# \delta_j$, exactly the slide's $(\hat y - y)\,W^{(2)}_j\,x_i$, with the common factors computed
# once per unit instead of once per weight. `chainrule lecture --json` prints the same deltas.
#
# ## The matrix form, for a batch
#
# For $m$ samples at once, put them in the rows of $A^{(0)} = X$. Each layer is then one matrix
# product, $Z^{(l)} = A^{(l-1)} W^{(l)\top} + b^{(l)}$, and the recursion runs on matrices with
# one row per sample:
#
# $$\Delta^{(l)} = \bigl(\Delta^{(l+1)} W^{(l+1)}\bigr) \odot f'(Z^{(l)}), \qquad
#   \frac{\partial L}{\partial W^{(l)}} = \Delta^{(l)\top} A^{(l-1)}, \qquad
#   \frac{\partial L}{\partial b^{(l)}} = \textstyle\sum_{\text{rows}} \Delta^{(l)},$$
#
# where the sums over the batch happen inside the matrix product.


# %%
def backprop_batch(X, dL_dA, Ws, bs, acts):
    """The recursion for a whole batch (rows = samples); gradients of the summed loss."""
    A, Zs, As = np.asarray(X, float), [], [np.asarray(X, float)]
    for W, b, act in zip(Ws, bs, acts, strict=True):
        Z = A @ W.T + b
        A = ACT[act][0](Z)
        Zs.append(Z)
        As.append(A)
    Deltas = [None] * len(Ws)
    Deltas[-1] = dL_dA(As[-1]) * ACT[acts[-1]][1](Zs[-1], As[-1])
    for k in range(len(Ws) - 2, -1, -1):
        Deltas[k] = (Deltas[k + 1] @ Ws[k + 1]) * ACT[acts[k]][1](Zs[k], As[k + 1])
    dWs = [D.T @ A_prev for D, A_prev in zip(Deltas, As[:-1], strict=True)]
    dbs = [D.sum(axis=0) for D in Deltas]
    return Deltas, dWs, dbs


# %% [markdown]
# ## The 4-layer sigmoid network
#
# The perceptrons-and-backprop lecture derives the recursion on a network with two inputs, two
# hidden layers of two sigmoid units, and two sigmoid outputs, with the error
# $E = \lVert \mathbf y - \mathbf a \rVert^2$ (no $\tfrac12$), so
# $\delta^{(4)}_j = 2(a_j - y_j)\,a_j(1 - a_j)$. The slides give no numbers, so we pick weights
# with a seeded generator, and a batch of five samples with two targets each.

# %%
rng = np.random.default_rng(4)
sizes = [2, 2, 2, 2]  # layer 1 is the input: layers 2, 3 and 4 compute
Ws4 = [rng.normal(size=(n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:], strict=False)]
bs4 = [rng.normal(size=n_out) for n_out in sizes[1:]]
acts4 = ["sigmoid"] * 3
X4 = rng.uniform(-1, 1, size=(5, 2))
Y4 = rng.uniform(0, 1, size=(5, 2))

# per sample, layer by layer, then summed over the batch
per_sample = [
    backprop(x, lambda a, y=y: 2 * (a - y), Ws4, bs4, acts4) for x, y in zip(X4, Y4, strict=True)
]
dW_per_sample = [sum(r[1][k] for r in per_sample) for k in range(3)]
db_per_sample = [sum(r[2][k] for r in per_sample) for k in range(3)]
# the whole batch in matrix form
_, dW_matrix, db_matrix = backprop_batch(X4, lambda A: 2 * (A - Y4), Ws4, bs4, acts4)

# the engine: the same network in nn (weights transposed to W[i][j]), E summed over the batch
net4 = nn.MLP.from_weights(
    [W.T.tolist() for W in Ws4], [b.tolist() for b in bs4], "sigmoid", "sigmoid"
)
E = sum(
    (
        sum((a - t) ** 2 for a, t in zip(net4(x.tolist()), y, strict=True))
        for x, y in zip(X4, Y4, strict=True)
    ),
    start=Value(0.0),
)
E.backward()
dW_engine = [
    np.array([[n.w[k].grad for k in range(len(n.w))] for n in layer.neurons])
    for layer in net4.layers
]
db_engine = [np.array([n.b.grad for n in layer.neurons]) for layer in net4.layers]
for k in range(3):
    print(f"layer {k + 2}: dE/dW by the recursion\n{dW_matrix[k].round(6)}")
gaps = [
    max(abs(a - b).max() for a, b in zip(dW_engine, dW_per_sample, strict=True)),
    max(abs(a - b).max() for a, b in zip(dW_engine, dW_matrix, strict=True)),
    max(abs(a - b).max() for a, b in zip(db_engine, db_matrix, strict=True)),
]
print(
    "largest difference from backward(): per layer {:.1e}, matrix {:.1e}, biases {:.1e}".format(
        *gaps
    )
)
assert max(gaps) < 1e-12

# %% [markdown]
# The per-sample recursion, the matrix form and `backward()` agree to the last bits. The engine
# never wrote down a $\delta$: it applied each operation's local derivative in reverse order, and
# the $\delta$s are the gradients it left on the nodes where each $z$ was computed. The
# recursion is that same computation, grouped by layer.
#
# ## Symmetry: why weights do not start at zero
#
# If every weight starts at the same value, every hidden unit computes the same thing, gets the
# same $\delta$ and the same update, and so stays a copy of the others for ever: the layer
# behaves like a single unit. Here are the moons, an MLP with 4 sigmoid hidden units and a
# linear output trained on the squared error with Adam, once with every weight and bias
# starting at 0 (`init="zeros"`) and once from a random (Xavier) start:

# %%
X, t = data.moons(100, noise=0.1, seed=1337)


def train(init, seed=None):
    """300 epochs of Adam; the model, its accuracy, and each hidden unit's (w1, w2, b)."""
    model = nn.MLP(2, [4, 1], activation="sigmoid", init=init, seed=seed)
    nn.fit(
        model,
        X,
        t,
        loss="mse",
        optimizer=nn.Adam(model, lr=0.05),
        epochs=300,
        engine="tape",
        progress=False,
    )
    accuracy = float(((nn.predict(model, X) > 0.5) == t).mean())
    rows = np.array([[p.data for p in [*n.w, n.b]] for n in model.layers[0].neurons])
    return model, accuracy, rows


zero_model, zero_accuracy, zero_rows = train("zeros")
random_model, random_accuracy, random_rows = train("xavier", seed=0)
print("hidden units' (w1, w2, b) after 300 epochs from all zeros:")
print(zero_rows.round(4))
print("output weights:", [round(w.data, 4) for w in zero_model.layers[1].neurons[0].w])
print("from a random start:")
print(random_rows.round(3))
print(f"accuracy: all zeros {zero_accuracy:.0%}, random start {random_accuracy:.0%}")
assert np.ptp(zero_rows, axis=0).max() == 0.0 and np.abs(zero_rows).max() > 0.1
assert np.ptp(random_rows, axis=0).min() > 0.1
assert zero_accuracy <= 0.9 and random_accuracy >= 0.98

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
plot.decision_boundary(zero_model, X, t, threshold=0.5, ax=axes[0])
plot.decision_boundary(random_model, X, t, threshold=0.5, ax=axes[1])
axes[0].set_title(f"all zeros: 4 identical units, {zero_accuracy:.0%}")
axes[1].set_title(f"random (Xavier) start: {random_accuracy:.0%}")
plt.show()

# %% [markdown]
# From zeros, the four hidden units moved (their weights are far from 0), but in lockstep: all
# four rows are the same, and so are the four output weights. Four copies of one sigmoid unit
# can only draw one straight boundary, which gets at most 90% of the moons here. From a random
# start each unit begins somewhere else, gets its own $\delta$, and the layer bends the boundary
# around the moons (98% or more). Any random start breaks the symmetry; the scale of the
# random numbers (Xavier, He) is chosen so that signals and gradients keep a useful size.
#
# ## Exercise
#
# 1. **ReLU.** Add `"relu"` to `ACT` (its derivative in terms of $z$) and check `backprop`
#    against `backward()` on a 2-3-3-1 ReLU network with random weights.
# 2. **Cross-entropy at the output.** For a sigmoid output with $L = -t\log a - (1-t)\log(1-a)$,
#    show that $\delta^{(L)} = a - t$: the $a(1-a)$ cancels. Check it with `backprop` and with
#    `F.bce`.
# 3. **Equal, not zero.** Start all weights at 0.5 instead of 0 (set them through
#    `model.parameters()`). Do the hidden units still stay identical?
