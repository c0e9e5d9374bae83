# %% [markdown]
# # 9. Errata: the lectures' own mistakes, checked
#
# The lecture slides are good, but a careful student will trip over a few formulas that are
# wrong as printed. Each one below gives where it is, what the slide says, what is right, and
# a computation with the engine that settles it (each cell asserts its result, so the notebook
# cannot silently disagree with itself). The softmax example's numbers, also off, are worked
# through in [notebook 3](03-activations-and-losses.ipynb#Softmax).
#
# | # | lecture | slide | as printed | correct |
# |---|---|---|---|---|
# | 1 | feedforward networks | tanh activation | output in $[0, 1]$ | output in $(-1, 1)$ |
# | 2 | feedforward networks | leaky ReLU | $-a x$ for $x < 0$, slope $-a$ | $a x$, slope $a$ |
# | 3 | feedforward networks | threshold activation | $U(x) = 0$ for $x > 0$ | $U(x) = 1$ for $x > 0$ |
# | 4 | feedforward networks | sigmoid neuron, classification | $\nabla J = \sum_i t^i x^i (h(x^i) - t^i)$ | $\sum_i x^i (h(x^i) - t^i)$ |
# | 5 | perceptrons and backprop | gradient descent with backpropagation | $\delta^{(L)}_j = 2(y_j - a_j)\,a_j(1 - a_j)$ | $2(a_j - y_j)\,a_j(1 - a_j)$ |
# | 6 | backpropagation | bias terms | one scalar $b^{(1)}$ in the sum, $\partial L/\partial b^{(1)} = (\hat y - y)\sum_i w^{(2)}_{ij}$ | a bias per hidden unit, $\partial L/\partial b^{(1)}_j = (\hat y - y)\, w^{(2)}_j$ |
# | 7 | backpropagation | summary in matrix form | $\partial L/\partial \mathbf W^{(1)} = (\hat y - y)\mathbf W^{(2)}\mathbf X$ | $(\hat y - y)\,\mathbf X^\top \mathbf W^{(2)\top}$ (the printed one is its transpose) |
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - feedforward networks, “Tanh activation function” → § 1. The range of tanh
# - feedforward networks, “Leaky ReLU” → § 2. The sign in leaky ReLU
# - feedforward networks, “Threshold activation function” → § 3. The threshold function
# - feedforward networks, “Training neuron with sigmoid activation (classification)” → § 4. The cross-entropy gradient of a sigmoid neuron
# - perceptrons and backprop, “Gradient descent with Backpropagation” → § 5. The sign of $\delta$ at the output layer
# - backpropagation, “Bias terms; Gradient with respect to the bias terms” → § 6. One bias, or one bias per unit?
# - backpropagation, “Summary in matrix form” → § 7. The matrix summary's $\partial L/\partial \mathbf W^{(1)}$
#
# Previous: [8. Training an MLP](08-training-an-mlp.ipynb).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd import Value, grad
from nn import functional as F

# %% [markdown]
# ## 1. The range of tanh
#
# The slide lists "output in $[0, 1]$" among tanh's advantages, the same words as on the
# sigmoid slide before it, and in the same list calls the output zero-centred, which $[0, 1]$
# could not be.
# Since $\tanh x = 2\sigma(2x) - 1$ and $\sigma$ runs over $(0, 1)$, tanh runs over $(-1, 1)$:

# %%
xs = np.linspace(-10, 10, 2001)
values = np.array([Value(x).tanh().data for x in xs])
print(f"tanh on [-10, 10]: min {values.min():.6f}, max {values.max():.6f}")
print(
    "tanh(-1) =",
    round(Value(-1.0).tanh().data, 4),
    " 2 σ(-2) - 1 =",
    round(2 * Value(-2.0).sigmoid().data - 1, 4),
)
assert values.min() < -0.999 and values.max() > 0.999 and np.abs(values).max() < 1
assert np.allclose(values, [2 * Value(2 * x).sigmoid().data - 1 for x in xs], atol=1e-12)

# %% [markdown]
# ## 2. The sign in leaky ReLU
#
# The slide writes $\text{LReLU}(x) = -a x$ for $x < 0$, with derivative $-a$. For a small
# positive $a$ that makes negative inputs come out *positive*: a V shape, like a lopsided
# $|x|$, not a ReLU with a small leak. The perceptrons lecture has it right:
# $\max(z, 0) + \alpha \min(z, 0)$, which is $\alpha z$ for $z < 0$.

# %%
a = 0.01
slide = {x: (x if x > 0 else -a * x) for x in (-2.0, -1.0, 1.0)}
engine = {}
for x0 in (-2.0, -1.0, 1.0):
    x = Value(x0)
    out = F.leaky_relu(x, a)
    out.backward()
    engine[x0] = (out.data, x.grad)
print("slide's formula: ", slide)
print("leaky_relu (value, slope):", engine)
assert slide[-2.0] == 0.02 and engine[-2.0] == (-0.02, 0.01)
assert engine[-2.0][0] == max(-2.0, 0) + a * min(-2.0, 0)  # the perceptrons lecture's form

# %% [markdown]
# ## 3. The threshold function
#
# The threshold slide defines $U(x) = 0$ for $x > 0$ and $0$ for $x < 0$: a function that is
# always 0. The unit step is 1 for $x > 0$. The engine's `step`, the perceptron's threshold, takes $U(0) = 1$ as well, the convention the
# perceptrons lecture uses ($\mathbb I[z \ge 0]$):

# %%
steps = {x: Value(x).step().data for x in (-1.0, 0.0, 1.0)}
print("step:", steps)
assert steps == {-1.0: 0.0, 0.0: 1.0, 1.0: 1.0}

# %% [markdown]
# The three activations as printed (dashed) beside the engine's (solid):

# %%
grid = np.linspace(-4, 4, 401)
printed = {
    "tanh: range [0, 1] as printed": (
        [np.nan] * len(grid),
        [Value(x).tanh().data for x in grid],
    ),
    "leaky ReLU, a = 0.3": (
        [x if x > 0 else -0.3 * x for x in grid],
        [F.leaky_relu(Value(x), 0.3).data for x in grid],
    ),
    "threshold U(x)": ([0.0 for x in grid], [Value(x).step().data for x in grid]),
}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained")
for ax, (title, (slide_curve, engine_curve)) in zip(axes, printed.items(), strict=True):
    ax.plot(grid, engine_curve, label="engine")
    ax.plot(grid, slide_curve, "--", label="as printed")
    ax.axhline(0, color="gray", lw=0.5)
    ax.set_title(title, fontsize=10)
axes[0].axhspan(0, 1, color="tab:orange", alpha=0.15, label="the printed range [0, 1]")
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 4. The cross-entropy gradient of a sigmoid neuron
#
# For a sigmoid neuron $h(\mathbf x) = \sigma(\mathbf w \cdot \mathbf x)$ trained on
# $J = \sum_i -t^i \ln h(\mathbf x^i) - (1 - t^i)\ln(1 - h(\mathbf x^i))$, the slide gives
# $\nabla J = \sum_i t^i\,\mathbf x^i\,(h(\mathbf x^i) - t^i)$. The factor $t^i$ does not belong:
# the derivative of the cross-entropy with respect to $z$ is $h - t$ (the $\sigma'$ cancels), so
# $\nabla J = \sum_i \mathbf x^i (h(\mathbf x^i) - t^i)$. With the extra factor, every sample
# with $t^i = 0$ would contribute nothing, and the neuron would never learn to say 0.

# %%
X = np.array([[1.0, 0.5, -1.2], [1.0, -0.3, 0.8], [1.0, 1.5, 0.2]])  # first column: the bias input
t = np.array([1.0, 0.0, 0.0])
w = [Value(v) for v in (0.1, -0.4, 0.3)]
J = sum(
    (
        F.bce((sum(wi * xi for wi, xi in zip(w, x, strict=True))).sigmoid(), ti)
        for x, ti in zip(X, t, strict=True)
    ),
    start=Value(0.0),
)
engine_grad = np.array(grad(J, w))
h = np.array([1 / (1 + np.exp(-(x @ [0.1, -0.4, 0.3]))) for x in X])
correct = X.T @ (h - t)
slide = X.T @ (t * (h - t))
print("backward():       ", engine_grad.round(6).tolist())
print("sum x (h - t):    ", correct.round(6).tolist())
print("slide, sum t x (h - t):", slide.round(6).tolist())
assert np.allclose(engine_grad, correct, atol=1e-9) and not np.allclose(
    engine_grad, slide, atol=0.1
)

# %% [markdown]
# ## 5. The sign of $\delta$ at the output layer
#
# The perceptrons-and-backprop lecture defines $\delta^{(l)}_j = \partial E/\partial z^{(l)}_j$
# and derives $\delta^{(4)}_1 = 2(a_1 - y_1)\,g'(z^{(4)}_1)$ for $E = \lVert \mathbf y - \mathbf a
# \rVert^2$. Its summary slide then writes $\delta^{(L)}_j = 2(y_j - a_j)\,a_j(1 - a_j)$ and
# updates $w \leftarrow w - \eta\,\partial E/\partial w$. The sign is flipped: with that
# $\delta$ the update climbs the error. (Earlier in the same lecture,
# $\delta_j = -\partial E/\partial\,\text{net}_j = o_j(1 - o_j)(y_j - o_j)$ goes with
# $w \leftarrow w + \eta\,\delta_j o_i$: that pair is consistent. Mixing the two conventions is
# the mistake.) One output unit, one step:

# %%
x_in, y_out = [0.5, -1.0], 0.2
w_out = [Value(0.8), Value(0.3)]


def error():
    a = sum((wi * xi for wi, xi in zip(w_out, x_in, strict=True)), start=Value(0.0)).sigmoid()
    return (y_out - a) ** 2


E = error()
a_out = 1 / (1 + np.exp(-(0.8 * 0.5 + 0.3 * -1.0)))
delta_right = 2 * (a_out - y_out) * a_out * (1 - a_out)
delta_slide = 2 * (y_out - a_out) * a_out * (1 - a_out)
print(f"dE/dz from the engine: {grad(E, w_out)[0] / x_in[0]:.6f}")
print(f"2(a - y) a(1 - a) = {delta_right:.6f}, the slide's 2(y - a) a(1 - a) = {delta_slide:.6f}")
assert np.isclose(grad(E, w_out)[0], delta_right * x_in[0])
start = [wi.data for wi in w_out]
losses = {}
for name, delta in (("right", delta_right), ("slide", delta_slide)):
    for wi, w0, xi in zip(w_out, start, x_in, strict=True):
        wi.data = w0 - 1.0 * delta * xi  # w <- w - eta dE/dw with dE/dw = delta x
    losses[name] = error().data
for wi, w0 in zip(w_out, start, strict=True):
    wi.data = w0
print(
    f"E = {E.data:.6f}; after a step with the right delta {losses['right']:.6f}, with the slide's {losses['slide']:.6f}"
)
assert losses["right"] < E.data < losses["slide"]

# %% [markdown]
# ## 6. One bias, or one bias per unit?
#
# The backpropagation lecture adds biases in the summation form
# $\hat y = \sum_j w^{(2)}_j \bigl(\sum_i x_i w^{(1)}_{ij} + b^{(1)}\bigr) + b^{(2)}$: a single
# scalar $b^{(1)}$ shared by both hidden units. Its gradient is then a single number,
# $(\hat y - y)\sum_j w^{(2)}_j$ (the slide writes the sum over $i$ of $w^{(2)}_{ij}$, an index
# slip). The matrix form on the same slide, $\mathbf X \mathbf W^{(1)} + \mathbf b^{(1)}$, has a
# vector $\mathbf b^{(1)}$, one bias per hidden unit, and the summary's
# $\partial L/\partial \mathbf b^{(1)} = (\hat y - y)\mathbf W^{(2)}$ is a vector. These are two
# different networks. At $b = 0$ on the worked example:

# %%
x_ex, y_ex = [2.0, 3.0], 1.0
W1 = [[-0.78, 0.13], [0.85, 0.23]]
W2 = [1.8, 0.40]

# the summation form: one Value b1 used by both hidden units
b1, b2 = Value(0.0, label="b1"), Value(0.0, label="b2")
hidden = [sum(x_ex[i] * W1[i][j] for i in range(2)) + b1 for j in range(2)]
y_hat = sum(W2[j] * hidden[j] for j in range(2)) + b2
L = 0.5 * (y_hat - y_ex) ** 2
L.backward()
print(f"scalar b1: dL/db1 = {b1.grad:.4f}  = (y_hat - y)(w2_1 + w2_2) = 1.162 × 2.2")

# the matrix form: a bias per hidden unit (nn's layers)
model = nn.MLP.from_weights([W1, [[w] for w in W2]], [[0.0, 0.0], [0.0]], activation="linear")
loss = F.mse(model(x_ex), y_ex, half=True)
loss.backward()
per_unit = [n.b.grad for n in model.layers[0].neurons]
print(
    f"vector b1: dL/db1 = {np.round(per_unit, 4).tolist()}  = (y_hat - y) W2; their sum {sum(per_unit):.4f}"
)
assert round(b1.grad, 4) == 2.5564 and np.allclose(per_unit, [2.0916, 0.4648])
assert np.isclose(sum(per_unit), b1.grad)

# %% [markdown]
# The shared bias's gradient is the sum of the per-unit ones, as it must be: nudging the one
# $b^{(1)}$ nudges every hidden unit's bias at once. Networks, `nn` included, use a bias per
# unit; with the scalar form both hidden units would always be shifted together.
#
# ## 7. The matrix summary's $\partial L/\partial \mathbf W^{(1)}$
#
# The summary table gives $\partial L/\partial \mathbf W^{(1)} = (\hat y - y)\,\mathbf W^{(2)}
# \mathbf X$. With $\mathbf X$ a $1 \times 2$ row and $\mathbf W^{(2)}$ a $2 \times 1$ column that
# is a $2 \times 2$ matrix, but entry $(j, i)$ of it is $w^{(2)}_j x_i$, while
# $\mathbf W^{(1)}$'s entry $(i, j)$ connects input $i$ to hidden unit $j$. The product is the
# transpose of the gradient; the right order is $(\hat y - y)\,\mathbf X^\top \mathbf W^{(2)\top}$.
# (In the same table $(\hat y - y)(\mathbf X\mathbf W^{(1)} + \mathbf b^{(1)})$ is a row, the
# transpose of the column $\mathbf W^{(2)}$ it is the gradient of.)

# %%
Xrow, W2col, err = np.array([[2.0, 3.0]]), np.array([[1.8], [0.40]]), 1.162
printed = err * W2col @ Xrow
right = err * Xrow.T @ W2col.T
engine = np.array([[n.w[i].grad for n in model.layers[0].neurons] for i in range(2)])
print("backward()'s dL/dW1[i][j]:", engine.round(4).tolist())
print("(y_hat - y) X^T W2^T:     ", right.round(4).tolist())
print("(y_hat - y) W2 X, printed:", printed.round(4).tolist())
assert (
    np.allclose(engine, right)
    and np.allclose(engine, printed.T)
    and not np.allclose(engine, printed)
)

# %% [markdown]
# ## Exercise
#
# 1. **Adaline's target.** The feedforward lecture says Adaline converges to the least-squares
#    solution. Train `nn.Adaline` on AND and compare its weights with `np.linalg.lstsq` on the
#    truth table (with a column of ones). How close do they get, and with which learning rate?
# 2. **Find another one.** In the feedforward lecture's backward pass,
#    $\partial o^L_c/\partial a^{L-1}_j$ is written $w^L_{jk}$ and
#    $\partial a^{L-1}_j/\partial o^{L-1}_j$ uses $o^{L-1}_c$. Which indices should they carry?
#    Check your answer with `grad` on a 2-2-2 sigmoid network.
