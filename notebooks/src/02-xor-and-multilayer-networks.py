# %% [markdown]
# # 2. XOR and multi-layer networks
#
# One perceptron cannot compute XOR (notebook 1). Two layers of them can, and this notebook
# builds such networks by hand before letting backpropagation find one.
#
# You will:
#
# 1. build the lecture's **hand-wired XOR network**, OR and NAND feeding AND, and see what its
#    thresholds really do to the plane (and the 0.5/1.5 version that gives a band);
# 2. write XOR as **$(A \wedge \neg B) \vee (\neg A \wedge B)$** with step units;
# 3. compose **regions from half-planes**: a triangle, a union, two separate pieces;
# 4. see why neither the perceptron rule nor gradients can **learn** a step network's weights,
#    and let **backpropagation** learn XOR in a small MLP with smooth activations;
# 5. encode inputs the way the lectures do: **1-of-k** and **thermometer** codes.
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - feedforward networks, “Minsky and Papert (1968): the multi-layer perceptron for XOR” → § A hand-wired network for XOR
# - perceptrons and backprop, “a multilayer perceptron” → § A hand-wired network for XOR
# - backpropagation, “Multilayer perceptrons (MLPs); A solution to XOR” → § XOR as $(A \wedge \neg B) \vee (\neg A \wedge B)$
# - feedforward networks, “Decision surface of perceptron; Designing network for more complex decision boundaries” → § Regions built from half-planes
# - perceptrons and backprop, “Learning in multilayer networks” → § Why nobody could *learn* those weights
# - backpropagation, “Backpropagation; Training MLPs with backpropagation” → § Backpropagation learns XOR
# - perceptrons and backprop, “Input (feature) encoding for neural networks” → § Encoding the inputs
#
# Previous: [1. Neurons and perceptrons](01-neurons-and-perceptrons.ipynb). Next:
# [3. Activations and losses](03-activations-and-losses.ipynb).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import autograd
import nn
from autograd import Value
from nn import data, plot

X, t_xor = data.truth_table("xor")

# %% [markdown]
# ## A hand-wired network for XOR
#
# One unit is not enough, but two layers are. XOR is "OR, and also NAND": at least one input
# is on, and not both. Each of OR, NAND and AND is linearly separable, so each can be a
# threshold unit. The lecture's network wires them together. `nn.xor_network()` builds it with
# the lecture's weights and thresholds. Each unit fires when its weighted sum reaches its
# threshold $\theta$, so its bias is $-\theta$:

# %%
net = nn.xor_network()
print(net)
for name, p in net.named_parameters():
    print(f"  {name:<22} {p.data:+.0f}")
print("outputs on the truth table:", nn.predict(net, X).tolist(), " XOR:", t_xor.tolist())

# %% [markdown]
# `nn.draw_network` draws it as the lecture does, here for the input $(1, 0)$: each weight on
# its edge, each unit's bias, weighted sum $z$ and output.

# %%
nn.draw_network(net, x=[1, 0])

# %% [markdown]
# Hidden unit $h_1$ is OR ($x_1 + x_2 \ge 1$), hidden unit $h_2$ is NAND ($-x_1 - x_2 \ge -1$,
# that is $x_1 + x_2 \le 1$), and the output is their AND ($h_1 + h_2 \ge 2$). On the four
# corners this is XOR. But look at the whole plane: the output fires only where *both* $x_1 + x_2 \ge 1$ and
# $x_1 + x_2 \le 1$ hold, which is the line $x_1 + x_2 = 1$ itself. That line has no area, so
# the decision picture is a plain field; the two XOR corners $(0, 1)$ and $(1, 0)$ happen to lie
# exactly on it. It works only because `step(0) = 1`: a unit whose sum is exactly at its
# threshold fires. With `step(0) = 0` both hidden units would be silent on those corners.
#
# Moving the thresholds off the corners to 0.5 and 1.5 gives the picture the lecture means.
# OR fires for $x_1 + x_2 \ge 0.5$, NAND for $x_1 + x_2 \le 1.5$, and the output AND for
# $h_1 + h_2 \ge 1.5$: the output is 1 on the band $0.5 \le x_1 + x_2 \le 1.5$ between two
# parallel lines, one line per hidden unit. No single line could make that region.

# %%
banded = nn.MLP.from_weights(
    [[[1.0, -1.0], [1.0, -1.0]], [[1.0], [1.0]]],
    [[-0.5, 1.5], [-1.5]],
    activation="step",
    output_activation="step",
)
print("0.5 / 1.5 thresholds, outputs:", nn.predict(banded, X).tolist())
assert nn.predict(banded, X).tolist() == t_xor.tolist()

# Where in the plane does each network fire?  Test points on and off the line x1 + x2 = 1.
on_line = np.array([[0.25, 0.75], [0.5, 0.5], [0.75, 0.25]])
off_line = np.array([[0.3, 0.8], [0.4, 0.4], [0.9, 0.9]])  # sums 1.1, 0.8, 1.8
print(
    "lecture thresholds, on the line:",
    nn.predict(net, on_line).tolist(),
    " off it:",
    nn.predict(net, off_line).tolist(),
)
print(
    "0.5/1.5 thresholds, on the line:",
    nn.predict(banded, on_line).tolist(),
    " off it:",
    nn.predict(banded, off_line).tolist(),
)
assert nn.predict(net, on_line).tolist() == [1.0, 1.0, 1.0]
assert nn.predict(net, off_line).tolist() == [0.0, 0.0, 0.0]
assert nn.predict(banded, off_line).tolist() == [1.0, 1.0, 0.0]

# The firing fraction of a 200 x 200 grid over [-0.5, 1.5]^2: almost none for the lecture's net.
g = np.linspace(-0.5, 1.5, 200)
grid = np.column_stack([a.ravel() for a in np.meshgrid(g, g)])
fires = {
    name: nn.predict(model, grid).mean() for name, model in [("lecture", net), ("band", banded)]
}
print(
    f"share of the plane where the output fires: lecture {fires['lecture']:.1%}, "
    f"0.5/1.5 {fires['band']:.1%}"
)
assert fires["lecture"] < 0.01 and 0.3 < fires["band"] < 0.5

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
plot.decision_boundary(net, X, t_xor, threshold=0.5, margin=0.5, ax=axes[0])
plot.decision_boundary(banded, X, t_xor, threshold=0.5, margin=0.5, ax=axes[1])
s = np.linspace(-0.5, 1.5, 2)
for ax in axes:
    ax.plot(s, 1 - s, "k:", lw=1)  # the line x1 + x2 = 1
axes[0].set_title("lecture's thresholds: fires only on x1 + x2 = 1")
axes[1].set_title("thresholds 0.5 / 1.5: the band")
plt.show()


# %% [markdown]
# ## XOR as $(A \wedge \neg B) \vee (\neg A \wedge B)$
#
# The backpropagation lecture writes XOR another way: "A and not B, or not A and B". Each part
# is a threshold unit. The hidden unit for $A \wedge \neg B$ takes $A$ as excitatory and $B$ as
# inhibitory input, $x_1 - x_2 \ge \theta$; the one for $\neg A \wedge B$ is its mirror image;
# the output is their OR. With $\theta = 1$ for the hidden units (as a McCulloch–Pitts unit
# would have it) the corners $(1, 0)$ and $(0, 1)$ sit exactly on the two boundary lines again;
# with $\theta = 0.5$ and the OR's threshold 0.5 the regions have room around the corners.


# %%
def xor_from_and_not(theta_hidden, theta_out=0.5):
    """step units: h0 = A and not B, h1 = not A and B, y = h0 or h1."""
    return nn.MLP.from_weights(
        [[[1.0, -1.0], [-1.0, 1.0]], [[1.0], [1.0]]],
        [[-theta_hidden, -theta_hidden], [-theta_out]],
        activation="step",
        output_activation="step",
    )


and_not_net = {theta: xor_from_and_not(theta) for theta in (1.0, 0.5)}
for theta, model in and_not_net.items():
    outputs = nn.predict(model, X).tolist()
    print(f"hidden thresholds {theta}: outputs {outputs}")
    assert outputs == t_xor.tolist()
# the two hidden units on the four corners: A and not B, not A and B
hidden = [[h.data for h in and_not_net[0.5].layers[0](x)] for x in X.tolist()]
print("hidden units (A and not B, not A and B) per row:", hidden)
assert hidden == [[0, 0], [0, 1], [1, 0], [0, 0]]

# %% [markdown]
# This network fires *outside* a band: where $|x_1 - x_2| \ge 0.5$. The OR/NAND/AND network with
# thresholds 0.5 and 1.5 fires *inside* one, where $0.5 \le x_1 + x_2 \le 1.5$. Both put the
# four corners on the right side; they disagree everywhere else.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
plot.decision_boundary(and_not_net[0.5], X, t_xor, threshold=0.5, margin=0.5, ax=axes[0])
plot.decision_boundary(banded, X, t_xor, threshold=0.5, margin=0.5, ax=axes[1])
axes[0].set_title("(A and not B) or (not A and B), thresholds 0.5")
axes[1].set_title("OR / NAND / AND, thresholds 0.5 / 1.5")
plt.show()

# %% [markdown]
# ## Regions built from half-planes
#
# Each threshold unit in the first layer cuts the plane in two along a line. A unit in the next
# layer combines those half-planes: with threshold "all of them" it is an AND, and the region is
# their intersection; with threshold "any of them" it is an OR, the union. The feedforward
# lecture asks how a network can make an arbitrary region. Here is the start of the answer:
#
# * three half-planes ANDed together: a **triangle**;
# * two half-planes ORed together: a **union**, shaped like an L;
# * a third layer ORing two triangles: two separate regions. (One hidden layer can approximate
#   such regions too, given enough units; the extra layer makes it exact with six lines.)

# %%
# Half-planes a x1 + b x2 >= c, each a step unit with weights (a, b) and bias -c.
triangle = [(0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (-1.0, -1.0, -1.0)]  # x2 >= 0, x1 >= 0, x1+x2 <= 1
union = [(1.0, 0.0, 1.0), (0.0, 1.0, 1.0)]  # x1 >= 1 or x2 >= 1
triangle2 = [(0.0, -1.0, -2.0), (-1.0, 0.0, -2.0), (1.0, 1.0, 3.0)]  # x1, x2 <= 2, x1+x2 >= 3


def half_planes(lines, combine):
    """One hidden step unit per line, then an AND ("all") or OR ("any") output unit."""
    n = len(lines)
    W1 = [[a for a, _, _ in lines], [b for _, b, _ in lines]]
    theta = n - 0.5 if combine == "all" else 0.5
    return nn.MLP.from_weights(
        [W1, [[1.0]] * n],
        [[-c for _, _, c in lines], [-theta]],
        activation="step",
        output_activation="step",
    )


two_triangles = nn.MLP.from_weights(
    [
        [[a for a, _, _ in triangle + triangle2], [b for _, b, _ in triangle + triangle2]],
        [[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3,  # hidden unit k feeds triangle k // 3
        [[1.0], [1.0]],
    ],
    [[-c for _, _, c in triangle + triangle2], [-2.5, -2.5], [-0.5]],
    activation="step",
    output_activation="step",
)
regions = {
    "AND of 3 half-planes: a triangle": half_planes(triangle, "all"),
    "OR of 2 half-planes: a union": half_planes(union, "any"),
    "OR of 2 triangles (3 layers)": two_triangles,
}
probes = np.array([[0.2, 0.2], [0.9, 0.9], [1.5, 0.2], [1.8, 1.8], [-0.2, 1.5]])
for name, model in regions.items():
    print(f"{name:<34} at {probes.tolist()}: {nn.predict(model, probes).tolist()}")
assert nn.predict(regions["AND of 3 half-planes: a triangle"], probes).tolist() == [1, 0, 0, 0, 0]
assert nn.predict(regions["OR of 2 half-planes: a union"], probes).tolist() == [0, 0, 1, 1, 1]
assert nn.predict(two_triangles, probes).tolist() == [1, 0, 0, 1, 0]

fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
for ax, (name, model) in zip(axes, regions.items(), strict=True):
    plot.decision_boundary(
        model, probes, nn.predict(model, probes), threshold=0.5, margin=0.7, ax=ax
    )
    ax.set_title(name, fontsize=10)
plt.show()


# %% [markdown]
# ## Why nobody could *learn* those weights
#
# The perceptron rule needs the target of every unit it trains. A hidden unit has no target:
# the data says what XOR should output, not what OR or NAND should. How much is each hidden
# weight to blame for an error at the output?
#
# Gradients would answer that question, but only through a smooth network. The network above
# is built from `step`, and the derivative of `step` is 0. Here is its graph for the input
# $(1, 0)$ after `backward()`. The data shows both hidden units firing (OR and NAND are both
# true), so the output fires. Every gradient below the output is exactly 0 (grey), so no error
# signal reaches any weight.

# %%
x = [Value(1.0, label="x_1"), Value(0.0, label="x_2")]
out = net(x)
out.backward()
print("dy/dw for every weight:", [p.grad for p in net.parameters()])
assert all(p.grad == 0.0 for p in net.parameters())
autograd.draw(out, model=net, view="both")

# %% [markdown]
# ## Backpropagation learns XOR
#
# The fix, from Rumelhart, Hinton and Williams in 1986, is to replace each step by a smooth
# activation that has a useful derivative. Then the chain rule gives every weight its share of
# the output error, and gradient descent can train all the layers together.
#
# We use an MLP with 4 tanh hidden units and one linear output unit. The output is a score,
# and cross-entropy on its sigmoid (`bce_with_logits`) is the loss. The optimizer is Adam, and
# all four rows go into every step. `engine="tape"` runs it quickly.

# %%
mlp = nn.MLP(2, [4, 1], activation="tanh", seed=0)
history = nn.fit(
    mlp,
    X,
    t_xor,
    loss="bce_with_logits",
    optimizer=nn.Adam(mlp, lr=0.1),
    epochs=200,
    engine="tape",
    progress=False,
)
scores = nn.predict(mlp, X)
print(f"final loss {history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.0%}")
print("P(XOR = 1) per row:", (1 / (1 + np.exp(-scores))).round(3).tolist())

# %%
fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), layout="constrained")
plot.loss_curves(history, ax=axes[0], log=True)
plot.decision_boundary(mlp, X, t_xor, margin=0.5, ax=axes[1])
axes[0].set_title("training an MLP on XOR")
axes[1].set_title("what it learned")
plt.show()

# %% [markdown]
# The learned boundary is curved, not the band of two straight lines. Backpropagation finds
# *a* solution, not the one a person would wire by hand. Does it always find one? With only 2
# hidden units, the smallest network that can represent XOR, the starting weights matter:

# %%
final = {}  # (hidden units, seed) -> accuracy after training
for hidden in (2, 4):
    for seed in range(10):
        model = nn.MLP(2, [hidden, 1], activation="tanh", seed=seed)
        h = nn.fit(
            model,
            X,
            t_xor,
            loss="bce_with_logits",
            optimizer=nn.Adam(model, lr=0.1),
            epochs=200,
            engine="tape",
            progress=False,
        )
        final[hidden, seed] = h.accuracy[-1]
    solved = sum(final[hidden, seed] == 1.0 for seed in range(10))
    stuck = {seed: f"{final[hidden, seed]:.0%}" for seed in range(10) if final[hidden, seed] < 1}
    print(f"{hidden} hidden units: XOR solved from {solved} of 10 starting points; stuck: {stuck}")

# What the next cell says, checked:
assert [seed for seed in range(10) if final[2, seed] < 1] == [0, 9]
assert (final[2, 0], final[2, 9]) == (0.75, 0.5)
assert all(final[4, seed] == 1.0 for seed in range(10))

# %% [markdown]
# With 2 hidden units, two starting points out of ten end without solving XOR: seed 0 stops at
# 75% (three rows right) and seed 9 at 50%. With 4 units there are more ways to solve the
# problem, and every start we tried finds one. The loss surface of a network is not a bowl, and
# extra units often make it easier to optimize.
#
# ## Encoding the inputs
#
# A network's inputs are numbers. The perceptrons lecture lists how to turn other features into
# input units:
#
# * a **nominal** feature (no order, like the DNA bases A, C, G, T) gets a **1-of-k** code: one
#   unit per value, exactly one of them on;
# * an **ordinal** feature (ordered, like small < medium < large) gets a **thermometer** code:
#   value number $k$ turns on the first $k$ units;
# * a real-valued feature goes in as it is, perhaps scaled first.

# %%
bases = ["A", "C", "G", "T"]
one_of_k = data.one_hot(np.arange(len(bases)))
sizes = ["small", "medium", "large"]
thermometer = data.thermometer(np.arange(len(sizes)))  # level k: the first k + 1 units on
for base, code in zip(bases, one_of_k.tolist(), strict=True):
    print(f"{base}: {code}")
for size, code in zip(sizes, thermometer.tolist(), strict=True):
    print(f"{size:<6}: {code}")


def distances(codes):
    """Euclidean distance between every pair of codes, rounded."""
    return np.round(np.linalg.norm(codes[:, None] - codes[None, :], axis=2), 3)


print("distances between the 1-of-k codes:\n", distances(one_of_k))
print("distances between the thermometer codes:\n", distances(thermometer))
assert one_of_k.tolist() == np.eye(4).tolist()
assert thermometer.tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
off_diagonal = distances(one_of_k)[~np.eye(4, dtype=bool)]
assert np.allclose(off_diagonal, np.sqrt(2), atol=1e-3)
assert distances(thermometer)[0].tolist() == [0.0, 1.0, 1.414]

# %% [markdown]
# Every two bases are the same distance apart, $\sqrt 2 \approx 1.414$: the code adds no order
# the data does not have. The thermometer codes keep the order: small is 1 from medium and
# $\sqrt 2$ from large. A weight on the second unit of a thermometer code is "how much more
# than small", which one number per size could only say if sizes were evenly spaced.
#
#
# ## Exercise
#
# 1. **What did the hidden units learn?** For a 2-hidden-unit MLP that solves XOR, print
#    `mlp.layers[0](x)` for the four rows. Do the hidden units look like OR and NAND, or
#    something else?
# 2. **Seeds 0 and 9.** Train `nn.MLP(2, [2, 1], activation="tanh", seed=0)` (and seed 9) and
#    plot its decision boundary. Which rows does it get wrong? Does a different learning rate or
#    `activation="sigmoid"` get it unstuck?
