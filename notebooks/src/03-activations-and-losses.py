# %% [markdown]
# # 3. Activations and losses
#
# Backpropagation needs a derivative for every piece of the network. The two pieces we choose
# for ourselves are the **activation function** of each neuron and the **loss** at the end.
# This notebook plots both, and it takes the derivatives from the engine itself: every curve of
# $f'$ below is what `backward()` computes, not a formula typed in by hand.
#
# You will:
#
# 1. plot eight activations and their derivatives: linear, step, sigmoid, tanh, ReLU, leaky
#    ReLU, parametric ReLU (PReLU) and the absolute value;
# 2. see **saturation**, where a squashing function is flat and its gradient close to 0, and
#    how that makes gradients **vanish** in a deep network;
# 3. work through the lecture's **softmax** example, and check the slide's numbers;
# 4. compare the **losses** for regression and classification, and the gradients they send
#    back.
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - feedforward networks, “Activation function (linear, threshold, sigmoid, tanh, ReLU, leaky ReLU)” → § Eight activations and their derivatives
# - backpropagation, “Activation functions; Activation functions in hidden layers” → § Eight activations and their derivatives
# - perceptrons and backprop, “Hidden layers (saturation, ReLU and its generalisations)” → § Saturation and the vanishing gradient
# - feedforward networks, “Softmax” → § Softmax
# - backpropagation, “Loss functions; Activation functions in the output layer” → § Losses
# - perceptrons and backprop, “Output layers” → § Losses
#
# Previous: [2. XOR and multi-layer networks](02-xor-and-multilayer-networks.ipynb). Next:
# [4. Gradient descent](04-gradient-descent.ipynb).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd import Value, grad
from nn import data
from nn import functional as F


# %%
def curve(f, xs):
    """f(x) and df/dx at every x, both from the engine: one small graph and backward() per x."""
    ys, slopes = [], []
    for x0 in xs:
        x = Value(x0)
        out = f(x)
        out.backward()
        ys.append(out.data)
        slopes.append(x.grad)
    return np.array(ys), np.array(slopes)


# %% [markdown]
# ## Eight activations and their derivatives
#
# | activation | $f(x)$ | $f'(x)$ |
# |---|---|---|
# | linear | $x$ | $1$ |
# | step | $1$ if $x \ge 0$, else $0$ | $0$ (undefined at 0) |
# | sigmoid | $\sigma(x) = 1/(1 + e^{-x})$ | $\sigma(x)(1 - \sigma(x))$ |
# | tanh | $\tanh x = 2\sigma(2x) - 1$ | $1 - \tanh^2 x$ |
# | ReLU | $\max(0, x)$ | $1$ if $x > 0$, else $0$ |
# | leaky ReLU | $x$ if $x > 0$, else $\alpha x$ | $1$ if $x > 0$, else $\alpha$ |
# | PReLU | $x$ if $x > 0$, else $\alpha x$, $\alpha$ learned | $1$ if $x > 0$, else $\alpha$ |
# | abs | $\lvert x \rvert$ | $-1$ if $x < 0$, $1$ if $x > 0$ |
#
# We draw leaky ReLU with $\alpha = 0.1$ so its slope on the left is visible. The usual
# default is 0.01. PReLU is leaky ReLU whose $\alpha$ is a parameter trained with the
# weights; we draw it at $\alpha = 0.25$ (PyTorch's starting value). `F.prelu(x, alpha)` takes
# $\alpha$ as a `Value`, so `backward()` gives its gradient too.

# %%
activations = {
    "linear": F.linear,
    "step": F.step,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "ReLU": F.relu,
    "leaky ReLU (α = 0.1)": lambda x: F.leaky_relu(x, 0.1),
    "PReLU (α = 0.25)": lambda x: F.prelu(x, Value(0.25)),
    "abs": F.absolute,
}
xs = np.linspace(-6, 6, 241)

fig, axes = plt.subplots(2, 4, figsize=(13, 5.5), sharex=True)
for ax, (name, f) in zip(axes.flat, activations.items(), strict=True):
    ys, slopes = curve(f, xs)
    ax.plot(xs, ys, label="f(x)")
    ax.plot(xs, slopes, "--", label="f'(x) from backward()")
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.axvline(0, color="gray", linewidth=0.5)
    ax.set_title(name)
axes[0, 0].legend(loc="upper left", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The engine's derivatives match the table. Each one is a single rule in the engine's
# primitive table, so we can check them against the closed forms:

# %%
ys, slopes = curve(F.sigmoid, xs)
print("sigmoid: max |backward() - σ(1 - σ)|  =", np.abs(slopes - ys * (1 - ys)).max())
ys, slopes = curve(F.tanh, xs)
print("tanh:    max |backward() - (1 - tanh²)| =", np.abs(slopes - (1 - ys**2)).max())
print(
    "ReLU'(0) =", curve(F.relu, [0.0])[1][0], "  (at the kink the engine takes 0, as PyTorch does)"
)
print(
    "step'(x) =",
    {float(s) for s in curve(F.step, xs)[1]},
    "  (zero everywhere: no error signal gets through)",
)
print("abs'(x) for x = -2, 0, 2:", curve(F.absolute, [-2.0, 0.0, 2.0])[1].tolist())

# PReLU's alpha gets a gradient of its own: dPReLU/dalpha = min(x, 0).
for x0 in (-2.0, 3.0):
    x, alpha = Value(x0), Value(0.25)
    F.prelu(x, alpha).backward()
    print(f"PReLU at x = {x0:+}: dPReLU/dx = {x.grad}, dPReLU/dalpha = {alpha.grad}")
    assert (x.grad, alpha.grad) == ((0.25, -2.0) if x0 < 0 else (1.0, 0.0))
assert curve(F.absolute, [-2.0, 0.0, 2.0])[1].tolist() == [-1.0, 0.0, 1.0]

# %% [markdown]
# The step function is why the perceptron could not be trained by backpropagation. Its
# derivative is 0 wherever it exists, so no gradient passes through it and the weights before
# it never change. Backpropagation needed a smooth replacement, and sigmoid and tanh were the
# first ones used.
#
# ## Saturation and the vanishing gradient
#
# Sigmoid and tanh squash their input. Far from 0 they are almost flat, so they **saturate**.
# The largest value $\sigma'$ ever reaches is $0.25$, at $x = 0$. Already at $x = 5$ it is
# below $0.01$:

# %%
slope = {}
for x0 in (0, 2, 5, 10):
    x = Value(float(x0))
    x.sigmoid().backward()
    slope[x0] = x.grad
    print(f"σ'({x0:>2}) = {x.grad:.2e}")
assert slope[0] == 0.25 and slope[5] < 0.01
assert curve(F.sigmoid, xs)[1].max() == 0.25
print(f"0.25^10 = {0.25**10:.1e}")
assert 0.5e-6 < 0.25**10 < 2e-6

# %% [markdown]
# The chain rule multiplies one such factor per layer. If each factor is at most $0.25$, then
# after ten layers the gradient has shrunk by about $0.25^{10} \approx 10^{-6}$. The layers
# close to the input then barely learn. This is the **vanishing gradient** problem.
#
# To see it, we build a deep MLP with 8 hidden layers of 16 units, once with each activation.
# We run one backward pass over 32 points of the moons data and measure the average gradient
# size of each layer's weights. All three networks start from the same Xavier initialisation
# with the same seed, so the activation is the only thing that differs.

# %%
X, y = data.moons(32, noise=0.1, seed=0)
ratio = {}  # last layer's mean |dL/dw| over the first layer's

fig, ax = plt.subplots(figsize=(6, 3.5))
for activation in ("sigmoid", "tanh", "relu"):
    model = nn.MLP(2, [16] * 8 + [1], activation=activation, init="xavier", seed=0)
    losses = [F.mse(model(list(x)), float(t)) for x, t in zip(X, y, strict=True)]
    loss = sum(losses) * (1 / len(losses))
    loss.backward()
    sizes = [np.mean([abs(w.grad) for n in layer.neurons for w in n.w]) for layer in model.layers]
    ratio[activation] = sizes[-1] / sizes[0]
    ax.semilogy(range(1, len(sizes) + 1), sizes, "o-", label=activation)
ax.set_xlabel("layer (1 = next to the input)")
ax.set_ylabel("mean |dL/dw|")
ax.set_title("gradient size per layer, 8 hidden layers")
ax.legend()
plt.show()
print({name: f"last layer / first layer = {r:.3g}" for name, r in ratio.items()})
assert ratio["sigmoid"] > 1e5 and 0.1 < ratio["tanh"] < 10

# %% [markdown]
# With sigmoid, the first layer's gradients are over 100,000 times smaller than the last
# layer's, so gradient descent hardly moves the first layers. Tanh keeps the gradient roughly
# the same size through the layers: its slope at 0 is 1, and its output is centred on 0. ReLU
# has slope exactly 1 wherever a unit is active. That is a main reason ReLU became the default
# choice for hidden layers.
#
# ## Softmax
#
# For a multi-class output, softmax turns one score per class into probabilities:
#
# $$a_i = \frac{e^{z_i}}{\sum_k e^{z_k}} .$$
#
# The lecture's example is $\mathbf z = [1.60,\ 0.55,\ 0.98]$, and the slide gives the result
# $[0.51,\ 0.18,\ 0.31]$. Let us check that.

# %%
rounded = {}
for scores in ([1.60, 0.55, 0.98], [1.60, 0.55, 1.10]):
    probs = F.softmax([Value(s) for s in scores])
    shown = ", ".join(f"{p.data:.4f}" for p in probs)
    rounded[scores[2]] = [round(p.data, 2) for p in probs]
    print(f"softmax({scores}) = [{shown}]  ≈ {rounded[scores[2]]}")
assert rounded == {0.98: [0.53, 0.19, 0.28], 1.10: [0.51, 0.18, 0.31]}

# %% [markdown]
# The slide's inputs do not give the slide's outputs. Softmax of $[1.60, 0.55, 0.98]$ is
# $[0.53, 0.19, 0.28]$. The printed $[0.51, 0.18, 0.31]$ is softmax of $[1.60, 0.55, 1.10]$,
# so one of the slide's numbers may be a typo. There is a second candidate: the same
# $[0.51, 0.18, 0.31]$ is what you get by dividing each score by their sum, without the
# exponentials.

# %%
scores = np.array([1.60, 0.55, 0.98])
print("z / sum(z) =", (scores / scores.sum()).round(2))
assert (scores / scores.sum()).round(2).tolist() == [0.51, 0.18, 0.31]

# %% [markdown]
# Either way, the numbers that softmax really gives are the engine's $[0.53, 0.19, 0.28]$.
# Compared with plain division, the exponential gives the largest score a bigger share
# (0.53 against 0.51), and it would still give positive probabilities if some scores were
# negative.
#
# Softmax connects every output to every input. Its derivative is a full matrix,
# $\partial a_i/\partial z_j = a_i(\delta_{ij} - a_j)$. Taking one `grad` per output gives us
# that matrix from the engine:

# %%
z = [Value(s) for s in (1.60, 0.55, 0.98)]
a = F.softmax(z)
jacobian = np.array([grad(ai, z) for ai in a])
p = np.array([ai.data for ai in a])
print("from the engine:\n", jacobian.round(4))
print("a_i (δ_ij - a_j):\n", (np.diag(p) - np.outer(p, p)).round(4))
assert np.allclose(jacobian, np.diag(p) - np.outer(p, p), atol=1e-12)

# %% [markdown]
# ## Losses
#
# The loss turns the network's output and the target into one number. Its derivative is the
# first gradient that backpropagation sends back.
#
# * **Regression.** The squared error $(\hat y - y)^2$ (MSE) sends back $2(\hat y - y)$, which
#   is large for large errors. The absolute error $|\hat y - y|$ (MAE) always sends back
#   $\pm 1$, whatever the size of the error, so it is less sensitive to outliers.
# * **Binary classification.** The network outputs a score $z$. Cross-entropy on
#   $p = \sigma(z)$ (here `bce_with_logits`, which computes it from $z$ without overflow) has
#   the gradient $\sigma(z) - t$. The **hinge** loss $\max(0, 1 - yz)$, with labels $\pm 1$,
#   stops pushing once the margin $yz$ reaches 1.

# %%
errors = np.linspace(-3, 3, 121)
scores = np.linspace(-4, 4, 160)
panels = [
    ("regression, target 0", "prediction ŷ", errors, {"MSE": F.mse, "MAE": F.mae}),
    (
        "classification, target 1 (+1 for hinge)",
        "score z",
        scores,
        {"cross-entropy (bce_with_logits)": F.bce_with_logits, "hinge": F.hinge},
    ),
]
targets = {"MSE": 0.0, "MAE": 0.0, "cross-entropy (bce_with_logits)": 1.0, "hinge": 1.0}

fig, axes = plt.subplots(2, 2, figsize=(10, 5.5), sharex="col")
for column, (title, xlabel, grid, losses) in enumerate(panels):
    for name, loss in losses.items():
        values, slopes = curve(lambda p, loss=loss, name=name: loss(p, targets[name]), grid)
        axes[0, column].plot(grid, values, label=name)
        axes[1, column].plot(grid, slopes, label=name)
    axes[0, column].set_title(title)
    axes[0, column].legend(fontsize=8)
    axes[1, column].set_xlabel(xlabel)
    for ax in axes[:, column]:
        ax.axhline(0, color="gray", linewidth=0.5)
axes[0, 0].set_ylabel("loss")
axes[1, 0].set_ylabel("d loss / d prediction")
fig.tight_layout()
plt.show()

# %% [markdown]
# For several classes, **cross-entropy** is $-\log a_{\text{target}}$, with $a$ the softmax of
# the scores. Its gradient with respect to the scores is just $a - \text{one-hot}(\text{target})$.
# The probabilities are pushed down, except for the correct class, which is pushed up by
# $1 - a_{\text{target}}$. Here it is on the softmax example, with class 0 as the target:

# %%
z = [Value(s) for s in (1.60, 0.55, 0.98)]
loss = F.cross_entropy(z, 0)
loss.backward()
print(f"loss = -log a_0 = {loss.data:.4f}")
print("dL/dz     =", np.round([zi.grad for zi in z], 4))
print("a - [1,0,0] =", np.round(p - np.array([1, 0, 0]), 4))
assert np.allclose([zi.grad for zi in z], p - np.array([1, 0, 0]), atol=1e-12)

# %% [markdown]
# ## Exercise
#
# 1. **Softplus.** Write $\text{softplus}(x) = \log(1 + e^x)$ with `Value` operations
#    (`x.exp()`, `.log()`). Plot it and its derivative with `curve`. Which activation in this
#    notebook is its derivative?
# 2. **Dead units.** Re-run the deep-network experiment with `"relu"` and the default
#    `init="micrograd"` (uniform in $[-1, 1]$). How many hidden units get a gradient of
#    exactly 0 on all their weights, because they are inactive for every sample? What changes
#    with `"leaky_relu"`?
# 3. **The slide's softmax.** Which third score gives exactly the slide's $[0.51, 0.18, 0.31]$
#    to two decimals? Find the range of scores that do.
