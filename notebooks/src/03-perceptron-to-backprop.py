# %% [markdown]
# # 3. From the perceptron to backpropagation
#
# This notebook follows the history the lectures tell, in code.
#
# You will:
#
# 1. train Rosenblatt's **perceptron** on the AND gate with the perceptron rule
#    $w \leftarrow w + \alpha (t - y) x$, and watch it converge;
# 2. see the same rule **fail on XOR**, because no straight line separates XOR's two classes;
# 3. build the lecture's **hand-wired XOR network**: two threshold units (OR and NAND) feeding a
#    third (AND). Then see why neither the perceptron rule nor gradients can find its weights;
# 4. let **backpropagation** learn XOR in a small MLP with smooth activations;
# 5. compare the **decision boundaries** of all of them.

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, without Jupyter widgets

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import autograd
import nn
from autograd import Value
from nn import data, plot
from nn.classic import ConvergenceWarning

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

# %% [markdown]
# The unit outputs 1 where $2x_1 + x_2 - 3 \ge 0$. That is a straight line with $(1, 1)$ on
# one side and the other three corners on the other. The perceptron convergence theorem
# guarantees this. If *some* line separates the two classes, the rule finds one in a finite
# number of updates.
#
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

# %% [markdown]
# Here are the decision regions of the two perceptrons, the plane coloured by the unit's
# output. AND gets a clean line. For XOR, the weights it ends with classify two of the four
# corners correctly, no better than a coin toss. Any line gets at least one corner wrong.

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
# networks faded for years afterwards.
#
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
# Hidden unit 0 is OR ($x_1 + x_2 \ge 1$), hidden unit 1 is NAND ($-x_1 - x_2 \ge -1$), and
# the output is their AND ($h_0 + h_1 \ge 2$). Its decision region is the band between two
# parallel lines, one line for each hidden unit. No single line could make that region.

# %%
fig = plot.decision_boundary(net, X, t_xor, threshold=0.5, margin=0.5)
fig.axes[0].set_title("hand-wired OR / NAND / AND network")
display(fig)

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
x = [Value(1.0, label="x1"), Value(0.0, label="x2")]
out = net(x)
out.backward()
print("dy/dw for every weight:", [p.grad for p in net.parameters()])
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
for hidden in (2, 4):
    solved = []
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
        solved.append(h.accuracy[-1] == 1.0)
    print(f"{hidden} hidden units: XOR solved from {sum(solved)} of 10 starting points")

# %% [markdown]
# With 2 hidden units, one starting point out of ten ends in a poor local minimum (seed 0,
# stuck at 50%). With 4 units there are more ways to solve the problem, and every start we
# tried finds one. The loss surface of a network is not a bowl, and extra units often make it
# easier to optimize.
#
# ## Exercise
#
# 1. **Adaline.** `nn.Adaline` uses the same unit without the step, and trains it with the
#    Widrow–Hoff rule $w \leftarrow w + \alpha (t - y)x$ on the linear output. Show that this
#    update is a gradient-descent step on $\tfrac12 (t - y)^2$: build that loss for one row
#    with `Value`s, call `backward()`, and compare $-\alpha\,\partial L/\partial w$ with the
#    rule's update. Then train Adaline on AND and on XOR. What does it do on XOR?
# 2. **What did the hidden units learn?** For a 2-hidden-unit MLP that solves XOR, print
#    `mlp.layers[0](x)` for the four rows. Do the hidden units look like OR and NAND, or
#    something else?
# 3. **Seed 0.** Train `nn.MLP(2, [2, 1], activation="tanh", seed=0)` and plot its decision
#    boundary. Which rows does it get wrong? Does a different learning rate or
#    `activation="sigmoid"` get it unstuck?
