# %% [markdown]
# # 6. The worked example, one step at a time
#
# The backpropagation lecture trains a tiny network by hand: two inputs, two hidden units, one
# output, linear activations and no bias. This notebook redoes that calculation with chainrule.
#
# You will:
#
# 1. run the **forward pass** and get the slide's numbers: $h = [0.99, 0.95]$, $\hat y = 2.162$;
# 2. compute the **loss** $L = \tfrac12(\hat y - y)^2 = 0.675122$;
# 3. work out every gradient **by hand with the chain rule** and put it beside what `backward()`
#    found;
# 4. look at the **forward graph** and the **gradient graph** that `autograd.draw` makes of the
#    same calculation;
# 5. take one step of gradient descent and see what the learning rate does;
# 6. see why a network of **linear layers collapses** into a single linear map.
#
# The same numbers come out of the command `chainrule lecture`. Here we go through them one line
# at a time.
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - backpropagation, “Example: forward pass” → § Forward pass
# - backpropagation, “Example: calculate error and gradient; Recursively applying the chain rule” → § The chain rule by hand
# - backpropagation, “Example: forward pass (a linear activation function)” → § Linear layers collapse
#
# Previous: [5. Computation graphs](05-computation-graphs.ipynb). Next:
# [7. Backpropagation layer by layer](07-backprop-layer-by-layer.ipynb).

# %%
# %matplotlib inline
import numpy as np

import autograd
import nn
from autograd import Value, no_grad

# %% [markdown]
# ## The network and its numbers
#
# One sample, $\mathbf x = [2, 3]$, with target $y = 1$. The weights are
#
# $$
# \mathbf W^{(1)} = \begin{bmatrix} -0.78 & 0.13 \\ 0.85 & 0.23 \end{bmatrix}, \qquad
# \mathbf W^{(2)} = \begin{bmatrix} 1.8 \\ 0.40 \end{bmatrix},
# $$
#
# where $w^{(1)}_{ij}$ connects input $i$ to hidden unit $j$, and $w^{(2)}_j$ connects hidden
# unit $j$ to the output. Every number becomes a `Value`. A `Value` keeps its number in `.data`,
# and it also remembers which operation produced it. The labels are only there so the pictures
# can name each node. They are the names `chainrule lecture` prints and draws: `W1[i][j]` for
# $w^{(1)}_{ij}$, `W2[j]` for $w^{(2)}_j$, `x_i`, `h_j`, `ŷ` and `L`, with every index counted
# from 1 as on the slide.

# %%
x1, x2 = Value(2.0, label="x_1"), Value(3.0, label="x_2")
y = Value(1.0, label="y")

w1_11, w1_12 = Value(-0.78, label="W1[1][1]"), Value(0.13, label="W1[1][2]")
w1_21, w1_22 = Value(0.85, label="W1[2][1]"), Value(0.23, label="W1[2][2]")
w2_1, w2_2 = Value(1.8, label="W2[1]"), Value(0.40, label="W2[2]")
weights = [w1_11, w1_12, w1_21, w1_22, w2_1, w2_2]

# %% [markdown]
# ## Forward pass
#
# A linear unit just outputs its weighted sum:
#
# $$h_j = \sum_i x_i\, w^{(1)}_{ij}, \qquad \hat y = \sum_j w^{(2)}_j\, h_j .$$

# %%
h1 = x1 * w1_11 + x2 * w1_21
h2 = x1 * w1_12 + x2 * w1_22
h1.label, h2.label = "h_1", "h_2"

y_hat = w2_1 * h1 + w2_2 * h2
y_hat.label = "ŷ"

print(f"h_1 = 2 × (-0.78) + 3 × 0.85 = {h1.data:.4f}")
print(f"h_2 = 2 × 0.13   + 3 × 0.23 = {h2.data:.4f}")
print(f"ŷ   = 1.8 × h_1 + 0.40 × h_2 = {y_hat.data:.4f}")
assert [round(h1.data, 12), round(h2.data, 12), round(y_hat.data, 12)] == [0.99, 0.95, 2.162]

# %% [markdown]
# ## Loss
#
# The slide uses the squared error with a factor $\tfrac12$. The $\tfrac12$ is there so that the
# derivative comes out as $\hat y - y$ with no 2 in front.

# %%
error = y_hat - y
error.label = "ŷ - y"
L = 0.5 * error**2
L.label = "L"
print(f"L = 1/2 (ŷ - y)^2 = 1/2 × {error.data:.4f}^2 = {L.data:.6f}")
assert round(L.data, 6) == 0.675122

# %% [markdown]
# ## The chain rule by hand
#
# $L$ depends on a weight only through the nodes between them. The chain rule multiplies the
# derivatives along that path. Every path starts with $\partial L / \partial \hat y = \hat y - y$.
#
# **Output layer.** $\hat y$ depends on $w^{(2)}_j$ through the term $w^{(2)}_j h_j$, so
#
# $$\frac{\partial L}{\partial w^{(2)}_j}
#   = \frac{\partial L}{\partial \hat y}\,\frac{\partial \hat y}{\partial w^{(2)}_j}
#   = (\hat y - y)\, h_j
#   = (\hat y - y) \sum_i x_i\, w^{(1)}_{ij}.$$
#
# **Hidden layer.** $w^{(1)}_{ij}$ reaches $\hat y$ only through $h_j$:
#
# $$\frac{\partial L}{\partial w^{(1)}_{ij}}
#   = \frac{\partial L}{\partial \hat y}\,\frac{\partial \hat y}{\partial h_j}\,
#     \frac{\partial h_j}{\partial w^{(1)}_{ij}}
#   = (\hat y - y)\, w^{(2)}_j\, x_i .$$
#
# We evaluate these formulas with plain floats, so the engine plays no part in them.

# %%
e = y_hat.data - y.data  # dL/dŷ
x = [x1.data, x2.data]  # (Python lists count from 0: x[0] is x_1)
w2 = [w2_1.data, w2_2.data]
h = [h1.data, h2.data]

by_hand = {
    "W1[1][1]": e * w2[0] * x[0],
    "W1[1][2]": e * w2[1] * x[0],
    "W1[2][1]": e * w2[0] * x[1],
    "W1[2][2]": e * w2[1] * x[1],
    "W2[1]": e * h[0],
    "W2[2]": e * h[1],
}

# %% [markdown]
# ## ...and by `backward()`
#
# `L.backward()` walks the graph from $L$ back to the leaves. At each node it multiplies the
# gradient arriving from above by that node's local derivative. It stores $\partial L/\partial v$
# in `v.grad` for every node $v$.

# %%
L.backward()

print(f"{'weight':<9}{'backward()':>12}{'by hand':>12}{'difference':>13}")
for w in weights:
    print(f"{w.label:<9}{w.grad:>12.6f}{by_hand[w.label]:>12.6f}{w.grad - by_hand[w.label]:>13.1e}")
assert round(h1.grad, 3) == 2.092  # the gradient graph's "grad = 2.092 × 3" below

# %% [markdown]
# They agree exactly. `backward()` multiplies the same numbers the formulas do: the gradient
# arriving at a node times that node's local derivative. (In bigger graphs the sums can come out
# in a different order, and then the last digit, around $10^{-16}$, may differ.)
#
# A gradient also tells you what happens when you nudge a weight a little. Move $w^{(1)}_{21}$
# by $\varepsilon$ and $L$ should change by about $\varepsilon \cdot \partial L/\partial
# w^{(1)}_{21}$. We recompute the loss under `no_grad()`, which does the arithmetic without
# recording a graph.


# %%
def loss_now() -> float:
    """The forward pass again, with the weights as they are now."""
    with no_grad():
        hidden1 = x1 * w1_11 + x2 * w1_21
        hidden2 = x1 * w1_12 + x2 * w1_22
        return (0.5 * (w2_1 * hidden1 + w2_2 * hidden2 - y) ** 2).data


eps = 1e-6
before = loss_now()
w1_21.data += eps
after = loss_now()
w1_21.data -= eps
print(f"(L(w + eps) - L(w)) / eps = {(after - before) / eps:.5f}")
print(f"backward() said             {w1_21.grad:.5f}")

# %% [markdown]
# `autograd.gradcheck` runs this test on every input at once, using central differences.

# %%
autograd.gradcheck(
    lambda w11, w12, w21, w22, v1, v2: (
        0.5 * (v1 * (2 * w11 + 3 * w21) + v2 * (2 * w12 + 3 * w22) - 1) ** 2
    ),
    [w.data for w in weights],
)

# %% [markdown]
# ## The forward graph
#
# `autograd.draw` draws the graph that the forward pass recorded. Each box is a `Value`, with
# its label and data. Each ellipse is the operation that produced the box to its right. Inputs
# are green, parameters (the weights, passed as `params`) orange, constants dashed. The loss,
# where `backward()` started, has a thick purple border.

# %%
autograd.draw(L, view="forward", params=weights)

# %% [markdown]
# ## The gradient graph
#
# The same graph again, with gradients in place of data. Blue means a positive gradient and red
# a negative one, and a darker colour means a larger magnitude. Two options show where each
# number comes from:
#
# * `edge_derivatives=True` writes the **local derivative** on each edge (∂ output / ∂ this
#   input of the op);
# * `chain_rule=True` writes each node's gradient as **upstream gradient × local derivative**,
#   summed over every place the node is used.
#
# Look at `W1[2][1]`: its line reads `grad = 2.092 × 3`. Here 2.092 is the gradient of `h_1`, and
# it equals $(\hat y - y)\,w^{(2)}_1 = 1.162 \times 1.8$. The 3 is $x_2$. Together that is the
# hand formula $(\hat y - y)\,w^{(2)}_1\,x_2$. The inputs `x_1` and `x_2` are used twice each
# (once by each hidden unit), so their gradients are sums of two terms.

# %%
autograd.draw(L, view="gradient", params=weights, edge_derivatives=True, chain_rule=True)

# %% [markdown]
# ## The same network from `nn`
#
# `nn.MLP.from_weights` builds this network from the two matrices. It uses the slide's
# convention: `W[i][j]` is the weight from input $i$ to unit $j$. Its parameters end up with the
# same gradients. The helper `nn.functional.mse(..., half=True)` is the slide's
# $\tfrac12(\hat y - y)^2$.

# %%
model = nn.MLP.from_weights(
    [[[-0.78, 0.13], [0.85, 0.23]], [[1.8], [0.40]]],
    activation="linear",
    output_activation="linear",
)
loss = nn.functional.mse(model([2.0, 3.0]), 1.0, half=True)
loss.backward()

print(model)
print(f"loss = {loss.data:.6f}")
matrix_names = [name for name, _ in model.named_weights()]
for (name, p), matrix_name in zip(model.named_parameters(), matrix_names, strict=True):
    print(f"  {name:<24} {matrix_name:<9} grad {p.grad:9.6f}")

# %% [markdown]
# `named_parameters()` names each weight after the model's structure, counting from 0 as Python
# does: `layers.0.neurons.1.w.0` is weight 0 of neuron 1 in layer 0. `named_weights()` gives the
# same weights in the slide's matrix notation, counting from 1: that one is `W1[1][2]`, from
# input $x_1$ to hidden unit 2.
#
# ## The network as the slide draws it
#
# `nn.draw_network` draws the model the way the lecture draws networks: the inputs, the hidden
# units and the output as circles in columns, each weight in a box on its edge. Given the
# sample and its target, each unit shows its weighted sum $z$, its output, the gradient of its
# output and its $\delta = \partial L/\partial z$. Each edge shows $\partial L/\partial w$. Blue
# is positive, red negative, and stronger colours and wider edges mean larger numbers. These are
# the numbers of the table above: `W1[2][1]` has gradient 6.275, and $\delta$ of `h_1` is
# $(\hat y - y)\,w^{(2)}_1 = 2.092$.

# %%
nn.draw_network(model, x=[2.0, 3.0], y=1.0, loss=lambda p, t: nn.functional.mse(p, t, half=True))

# %% [markdown]
# ## One step of gradient descent
#
# Now each weight moves against its gradient: $w \leftarrow w - \alpha\, \partial L/\partial
# w$. How far it moves depends on the learning rate $\alpha$. We try a few rates, starting each
# time from the slide's weights.

# %%
start = {w: w.data for w in weights}

after_step = {}
for lr in (0.1, 0.05, 0.01):
    for w in weights:
        w.data = start[w] - lr * w.grad
    after_step[lr] = loss_now()
    print(f"lr = {lr:<5} L: {L.data:.6f} -> {after_step[lr]:.6f}")
# the next cell's numbers: 0.68 -> 7.3 at 0.1, gradients up to 6.3, about 0.2 at 0.01
assert round(L.data, 2) == 0.68 and round(after_step[0.1], 1) == 7.3
assert round(max(abs(w.grad) for w in weights), 1) == 6.3 and round(after_step[0.01], 1) == 0.2

for w in weights:  # back to the slide's weights
    w.data = start[w]

# %% [markdown]
# A step of 0.1 overshoots and the loss goes up, from 0.68 to 7.3. The gradients are large
# (up to 6.3), so 0.1 × 6.3 moves a weight much too far. A step of 0.01 cuts the loss to about
# 0.2. The gradient gives the direction of the update. How far to go along it is our choice.
# Notebook 4 is about learning rates and how to change them during training.
#
# ## Linear layers collapse
#
# Every unit here is linear, so the whole network is a linear function of $\mathbf x$:
# $\hat y = \mathbf x W^{(1)} W^{(2)}$, and the product $W^{(1)} W^{(2)}$ is a single $2 \times 1$
# matrix. One linear neuron with those two weights computes exactly the same $\hat y$, for every
# input. Here $W^{(1)} W^{(2)} = [-1.352,\ 1.622]^\top$, and $2 \times (-1.352) + 3 \times 1.622 =
# 2.162$ is the slide's $\hat y$. Stacking linear layers adds parameters but no power; the
# nonlinear activations are what make depth worth having.

# %%
W1 = np.array([[-0.78, 0.13], [0.85, 0.23]])
W2 = np.array([[1.8], [0.40]])
collapsed = W1 @ W2
print("W1 W2 =", collapsed.ravel().round(6).tolist())
single = nn.Neuron.from_weights(collapsed.ravel().tolist(), activation="linear")
print(f"one linear neuron on x = [2, 3]: y_hat = {single([2.0, 3.0]).data:.6f}")
print(f"the two-layer network:           y_hat = {model([2.0, 3.0]).data:.6f}")
assert collapsed.ravel().round(12).tolist() == [-1.352, 1.622]
for x_test in ([2.0, 3.0], [-1.0, 0.5], [4.0, -2.0]):
    assert abs(single(x_test).data - model(x_test).data) < 1e-12
assert round(single([2.0, 3.0]).data, 12) == 2.162

# %% [markdown]
# ## Exercise
#
# The slide's next step adds **bias terms**: one $b^{(1)}_j$ for each hidden unit, plus
# $b^{(2)}$ at the output.
#
# 1. Give them values (for example $b^{(1)} = [0.1, -0.2]$, $b^{(2)} = 0.05$) and redo the
#    forward pass with biases.
# 2. Before you run `backward()`, write down $\partial L/\partial b^{(2)}$ and
#    $\partial L/\partial b^{(1)}_j$ with the chain rule. Hint: $\partial h_j / \partial
#    b^{(1)}_j = 1$.
# 3. Check your formulas against `backward()` and against `chainrule lecture --bias`.
# 4. Try `chainrule lecture --activation sigmoid`. Where does $\sigma'(z_j)$ show up in the
#    hidden layer's formula?
