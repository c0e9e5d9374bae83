# %% [markdown]
# # 1. Neurons and perceptrons
#
# The lectures start where neural networks started: a neuron as a logic gate, then a neuron that
# learns its weights.
#
# You will:
#
# 1. build **McCulloch–Pitts units** (1943) for AND, OR and NOT, with an inhibitory input, as
#    threshold operations of the engine;
# 2. train Rosenblatt's **perceptron** on the AND gate with the perceptron rule
#    $w \leftarrow w + \alpha (t - y) x$, and watch it converge;
# 3. train a **perceptron with two inputs and three outputs**, weights $w_{ij}$, with the same
#    rule applied to every output at once;
# 4. see the rule **fail on XOR**, because no straight line separates XOR's two classes.
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - feedforward networks, “McCulloch and Pitts network” → § McCulloch–Pitts units
# - backpropagation, “Model of a neuron” → § McCulloch–Pitts units
# - feedforward networks, “Perceptron (Frank Rosenblat (1958))” → § The perceptron rule, written out
# - perceptrons and backprop, “The perceptron training rule” → § The perceptron rule, written out
# - backpropagation, “Training a perceptron” → § The perceptron rule, written out
# - backpropagation, “A perceptron with two inputs and three outputs” → § A perceptron with three outputs
# - perceptrons and backprop, “Representational power of perceptrons; XOR is not linearly separable” → § XOR: no line will do
# - feedforward networks, “Minsky and Papert (1968)” → § XOR: no line will do
#
# Next: [2. XOR and multi-layer networks](02-xor-and-multilayer-networks.ipynb).

# %%
# %matplotlib inline
import warnings

import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd import Value
from nn import data, plot
from nn.classic import ConvergenceWarning

# %% [markdown]
# ## McCulloch–Pitts units
#
# McCulloch and Pitts modelled a neuron as a gate with binary inputs and a binary output. Its
# excitatory inputs are added up; the unit fires (outputs 1) when the sum reaches its threshold
# $\theta$. An active inhibitory input counts against the sum. Nothing is learned: the
# thresholds are chosen by hand. The lecture draws three of them:
#
# * AND: two excitatory inputs, $\theta = 2$;
# * OR: two excitatory inputs, $\theta = 1$;
# * NOT: one inhibitory input $b$, $\theta = 0$: it fires unless $b$ is on.
#
# With the engine, "reaches the threshold" is `step(sum - theta)` (`step(z)` is 1 for
# $z \ge 0$ and 0 otherwise):


# %%
def mcculloch_pitts(excitatory, inhibitory=(), theta=0.0):
    """1 when the excitatory inputs, minus the inhibitory ones, reach theta; else 0."""
    total = sum((Value(a) for a in excitatory), Value(0.0)) - sum(inhibitory, 0.0)
    return (total - theta).step()


pairs = [(0, 0), (0, 1), (1, 0), (1, 1)]
gates = {
    "AND (theta 2)": [mcculloch_pitts([a1, a2], theta=2).data for a1, a2 in pairs],
    "OR  (theta 1)": [mcculloch_pitts([a1, a2], theta=1).data for a1, a2 in pairs],
}
print("a1 a2:", pairs)
for name, outputs in gates.items():
    print(f"{name}: {outputs}")
not_b = [mcculloch_pitts([], inhibitory=[b], theta=0).data for b in (0, 1)]
print("NOT b (inhibitory b, theta 0), b = 0, 1:", not_b)

assert gates["AND (theta 2)"] == [0, 0, 0, 1] and gates["OR  (theta 1)"] == [0, 1, 1, 1]
assert not_b == [1, 0]

# %% [markdown]
# The same unit with a third, inhibitory input gives "$a_1$ and not $b$", and that is all XOR
# needs later: $A \oplus B = (A \wedge \neg B) \vee (\neg A \wedge B)$.

# %%
and_not = {(a, b): mcculloch_pitts([a], inhibitory=[b], theta=1).data for a, b in pairs}
print("a AND NOT b:", and_not)
assert [and_not[p] for p in pairs] == [0, 0, 1, 0]


# %% [markdown]
# ## The perceptron rule, written out
#
# A perceptron is one threshold unit: $y = \text{step}(w_1 x_1 + w_2 x_2 + b)$, which is 1 when
# the weighted sum is at least 0 and 0 otherwise. Rosenblatt's rule takes one sample at a time.
# If the output $y$ is wrong, it moves every weight by $\alpha (t - y) x_i$, where $t$ is the
# target. The bias counts as a weight on a constant input of 1. A correct output leaves the
# weights alone.
#
# Here is the AND gate, starting from all-zero weights with $\alpha = 1$:

# %%
X, t = data.truth_table("and")
print("inputs:", X.tolist(), " AND:", t.tolist())

w, b, lr = [0.0, 0.0], 0.0, 1.0
for epoch in range(1, 11):
    wrong = 0
    for x, target in zip(X.tolist(), t.tolist(), strict=True):
        y = 1.0 if w[0] * x[0] + w[1] * x[1] + b >= 0 else 0.0
        if y != target:
            wrong += 1
            w = [w[0] + lr * (target - y) * x[0], w[1] + lr * (target - y) * x[1]]
            b = b + lr * (target - y)
    print(f"epoch {epoch}: {wrong} wrong, then w = {w}, b = {b}")
    if wrong == 0:
        break
assert (epoch, w, b) == (6, [2.0, 1.0], -3.0)  # the next cell's "six passes" and the line below

# %% [markdown]
# After six passes over the four rows, every row is classified correctly, and the rule stops
# changing anything. `nn.Perceptron` runs the same rule on `Value` weights. Its output is a
# `Value`, made by the engine's `step` operation:

# %%
and_unit = nn.Perceptron(2, lr=1.0)  # no seed: start from zero weights
result = and_unit.fit(X, t)
print(result.message, "| wrong per epoch:", result.errors)
print("w =", [wi.data for wi in and_unit.w], " b =", and_unit.b.data)
print("outputs:", [and_unit(x).data for x in X.tolist()])
assert result.epochs == 6 and [wi.data for wi in and_unit.w] == [2.0, 1.0] and and_unit.b.data == -3
assert and_unit.w[0].data + and_unit.w[1].data + and_unit.b.data == 0  # (1, 1) is on the line

# %% [markdown]
# The unit outputs 1 where $2x_1 + x_2 - 3 \ge 0$. The line $2x_1 + x_2 = 3$ runs through
# $(1, 1)$ itself, which fires because `step(0) = 1`; the other three corners are strictly
# below it. The rule stopped at the first weights that got every corner right, not at a line
# down the middle of the gap. The perceptron convergence theorem guarantees that it stops:
# if *some* line separates the two classes, the rule finds one in a finite number of updates.


# %% [markdown]
# ## A perceptron with three outputs
#
# A layer of perceptrons shares its inputs: with two inputs and three outputs there are six
# weights $w_{ij}$ (input $i$ to output $j$) and three biases. The lecture's rule updates each of
# them from its own output's error, one sample at a time:
#
# $$w_{ij} \leftarrow w_{ij} + \eta\,(t_j - y_j)\,x_i .$$
#
# In matrix form that is $W \leftarrow W + \eta\, \mathbf x\, (\mathbf t - \mathbf y)^\top$. We
# train the three outputs to be AND, OR and NAND of the two inputs, all at once, starting from
# zero weights with $\eta = 1$. The weights are `Value`s and each output is the engine's `step`:

# %%
X, _ = data.truth_table("and")
T = np.column_stack([data.truth_table(g)[1] for g in ("and", "or", "nand")])  # 4 rows x 3 outputs
W = [[Value(0.0) for j in range(3)] for i in range(2)]  # W[i][j]: input i -> output j
b = [Value(0.0) for j in range(3)]
eta = 1.0


def outputs(x):
    """y_j = step(sum_i x_i w_ij + b_j) for the three outputs."""
    return [(sum(x[i] * W[i][j] for i in range(2)) + b[j]).step() for j in range(3)]


for epoch in range(1, 21):
    wrong = 0
    for x, targets in zip(X.tolist(), T.tolist(), strict=True):
        y = [yj.data for yj in outputs(x)]
        for j in range(3):
            error = targets[j] - y[j]
            wrong += error != 0
            for i in range(2):
                W[i][j].data += eta * error * x[i]
            b[j].data += eta * error
    if wrong == 0:
        converged_in = epoch
        break
print(f"converged in epoch {converged_in} (an epoch with no wrong output)")
print("W =", [[w.data for w in row] for row in W], " b =", [bj.data for bj in b])
learned = np.array([[yj.data for yj in outputs(x)] for x in X.tolist()])
print("outputs (columns AND, OR, NAND):", learned.tolist())
assert (learned == T).all()
assert [[w.data for w in row] for row in W] == [[2, 1, -2], [1, 1, -1]] and b[1].data == -1

# %% [markdown]
# Each output is its own perceptron on the shared inputs, so each gets its own line. Columns of
# $W$ never mix: output $j$'s error only moves column $j$. The rule stops as soon as every
# corner is right, not when the line is in the middle: the OR line $x_1 + x_2 = 1$ runs through
# $(0, 1)$ and $(1, 0)$ themselves, which count as firing only because `step(0) = 1`.

# %%
Wd = np.array([[w.data for w in row] for row in W])
bd = np.array([bj.data for bj in b])
g = np.linspace(-0.5, 1.5, 201)
G1, G2 = np.meshgrid(g, g)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5), layout="constrained")
for j, (ax, gate) in enumerate(zip(axes, ("AND", "OR", "NAND"), strict=True)):
    fires = (G1 * Wd[0, j] + G2 * Wd[1, j] + bd[j] >= 0).astype(int)
    ax.contourf(G1, G2, fires, levels=[-0.5, 0.5, 1.5], cmap="coolwarm", alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=T[:, j], cmap="coolwarm", vmin=0, vmax=1, edgecolors="k")
    ax.set_title(f"output {j}: {gate}, w = {Wd[:, j].tolist()}, b = {bd[j]:g}", fontsize=9)
plt.show()


# %% [markdown]
# ## XOR: no line will do
#
# XOR is 1 when exactly one input is 1. Its two classes sit on opposite corners of the square.
# A line that puts $(0, 1)$ and $(1, 0)$ on one side has at least one of $(0, 0)$ and $(1, 1)$
# on that side too. So the rule never settles: it keeps correcting one row and breaking
# another. `fit` notices this and gives up after its epochs, with a `ConvergenceWarning`. We
# catch that warning and print its message.

# %%
X, t_xor = data.truth_table("xor")
xor_unit = nn.Perceptron(2, lr=1.0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    result_xor = xor_unit.fit(X, t_xor, epochs=20)
print(result_xor.message)
print("wrong per epoch:", result_xor.errors)
right = [xor_unit(x).data == target for x, target in zip(X.tolist(), t_xor.tolist(), strict=True)]
print(f"with the weights it ends with: {sum(right)} of 4 rows right")
assert not result_xor.converged and result_xor.errors[-1] == 4 and sum(right) == 2

# %% [markdown]
# Here are the decision regions of the two perceptrons, the plane coloured by the unit's
# output. AND gets a clean line. For XOR, the weights it ends with classify two of the four
# corners correctly, no better than a coin toss. Any line gets at least one corner wrong.
# (The message's "4 of 4 still wrong" counts the mistakes made *during* the last epoch, while
# each wrong row moved the weights before the next row was tried; the final weights, tried on
# all four rows afterwards, get two right.)

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
plot.decision_boundary(and_unit, X, t, threshold=0.5, margin=0.5, ax=axes[0])
plot.decision_boundary(xor_unit, X, t_xor, threshold=0.5, margin=0.5, ax=axes[1])
axes[0].set_title("perceptron on AND: converged")
axes[1].set_title("perceptron on XOR: never converges")
plt.show()

# %% [markdown]
# Minsky and Papert made exactly this point in 1969: a single perceptron can only represent
# classes that a line, or in more dimensions a hyperplane, can separate. Interest in neural
# networks faded for years afterwards. The next notebook shows how
# a second layer of threshold units gets past that limit.
#
# ## Exercise
#
# 1. **Adaline.** `nn.Adaline` uses the same unit without the step, and trains it with the
#    Widrow–Hoff rule $w \leftarrow w + \alpha (t - y)x$ on the linear output. Show that this
#    update is a gradient-descent step on $\tfrac12 (t - y)^2$: build that loss for one row
#    with `Value`s, call `backward()`, and compare $-\alpha\,\partial L/\partial w$ with the
#    rule's update. Then train Adaline on AND and on XOR. What does it do on XOR?
# 2. **A McCulloch–Pitts majority gate.** Build a unit with three excitatory inputs that fires
#    when at least two are on. Which threshold? Can a single unit compute "exactly one of three"?
# 3. **Three outputs, one step at a time.** Print $W$ after every update of the three-output
#    perceptron. Does the NAND column ever change the AND column's weights? Why not?
