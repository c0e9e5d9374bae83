# %% [markdown]
# # 10. The same network in PyTorch
#
# chainrule computes with one number at a time, so that every step of backpropagation can be
# seen. Real networks are trained with a tensor engine such as PyTorch, which does the same
# mathematics on whole arrays at once. This notebook moves what we built here over to PyTorch,
# and checks that both engines get the same numbers.
#
# You will:
#
# 1. run one function written for `Value`s on PyTorch tensors as well, with
#    `autograd.compare_with_torch`, and read the two sets of gradients side by side;
# 2. export the lecture's worked example with `model.to_torch()` and get the slide's gradients
#    out of PyTorch;
# 3. export a trained moons classifier, and compare its outputs and every gradient;
# 4. train both copies for a few more steps with the same optimizer, and overlay the loss curves;
# 5. read a PyTorch network back into chainrule with `nn.MLP.from_torch`.
#
# PyTorch is an optional part of chainrule: `pip install "chainrule[torch]"` installs it
# (`python3 dev.py setup` does too). `import autograd` and `import nn` never load it.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch

import autograd
import nn
from nn import data, lecture
from nn import functional as F

# %% [markdown]
# ## One function, two engines
#
# A function written with `Value` operations (`+`, `*`, `**`, `.tanh()`, `.relu()`, ...) also
# runs on PyTorch tensors, because tensors have the same operators and methods.
# `compare_with_torch(fn, *inputs)` calls `fn` once with chainrule `Value`s and once with
# 64-bit PyTorch scalars. Each engine computes the output and its gradient with respect to
# every input, and the table puts them side by side.
#
# Here is the lecture's worked example as a plain function of its six weights. It has the
# slide's input $\mathbf x = [2, 3]$, target $y = 1$, linear units and no bias:


# %%
def L(w1_11, w1_12, w1_21, w1_22, w2_1, w2_2):
    x1, x2, y = 2.0, 3.0, 1.0
    h1 = x1 * w1_11 + x2 * w1_21
    h2 = x1 * w1_12 + x2 * w1_22
    y_hat = w2_1 * h1 + w2_2 * h2
    return 0.5 * (y_hat - y) ** 2


report = autograd.compare_with_torch(L, -0.78, 0.13, 0.85, 0.23, 1.8, 0.40)
print(report)

# %% [markdown]
# Both engines find $L = 0.675122$ and the slide's gradients, for example
# $\partial L/\partial w^{(1)}_{11} = 4.1832$ and $\partial L/\partial w^{(2)}_2 = 1.1039$. The
# last column is the relative difference $|a - b| / \max(|a|, |b|)$. Here it is 0 everywhere:
# both engines do the same float operations in the same order, so they round alike, down to
# the last bit. (The 0.6751219999999994 instead of 0.675122 is that rounding: 0.78, 0.13 and
# the other weights have no exact binary representation.)
#
# The report is also an object, so a test can check it:

# %%
print(report.ok, report.max_rel_diff)
assert report.ok and report.max_rel_diff == 0
assert round(report["L"].torch, 6) == 0.675122
assert report["L"].chainrule == report["L"].torch == 0.6751219999999994  # rounding, see above
assert round(report["dL/dw1_11"].torch, 4) == 4.1832
assert round(report["dL/dw2_2"].torch, 4) == 1.1039

# %% [markdown]
# If the two engines disagreed, the rows would be marked ✗ and `report.ok` would be False. A
# function that does something different on tensors than on `Value`s shows how that looks:


# %%
def odd(a):
    return a * 2 if isinstance(a, autograd.Value) else a * 2.5


autograd.compare_with_torch(odd, 3.0)

# %% [markdown]
# ## The worked example as a PyTorch network
#
# `model.to_torch()` turns a chainrule `Neuron`, `Layer` or `MLP` into a
# `torch.nn.Sequential`. Each layer becomes a `Linear` layer followed by its activation, and
# every weight is copied exactly. There is one thing to watch for. chainrule, like the lecture,
# writes $w_{ij}$ for the weight from input $i$ to unit $j$. PyTorch stores the transpose:
# `Linear.weight[j][i]`, one row per unit.

# %%
model = lecture.build_network()  # the slide's 2-2-1 network, linear, no bias
net = model.to_torch()
print(net)
print("W1 (lecture: rows = inputs):", lecture.W1)
print("net[0].weight (PyTorch: rows = units):", net[0].weight.tolist())

# %% [markdown]
# The forward pass and `backward()` are now PyTorch's. The gradients land in each parameter's
# `.grad`, and after transposing they are the slide's:

# %%
x = torch.tensor(lecture.X, dtype=torch.float64)
y_hat = net(x)
loss = 0.5 * (y_hat[0] - lecture.Y) ** 2
loss.backward()
print(f"y_hat = {y_hat.item():.4f}, L = {loss.item():.6f}")
print("dL/dW1 =", net[0].weight.grad.T.tolist())
print("dL/dW2 =", net[1].weight.grad.T.tolist())
assert round(y_hat.item(), 3) == 2.162 and round(loss.item(), 6) == 0.675122
np.testing.assert_allclose(net[0].weight.grad.T, [[4.1832, 0.9296], [6.2748, 1.3944]])
np.testing.assert_allclose(net[1].weight.grad.T, [[1.15038], [1.1039]])

# %% [markdown]
# `nn.pytorch.compare_parameters(model, net, grad=True)` lines up every parameter's gradient
# with its PyTorch counterpart by name. This saves us from transposing by hand:

# %%
model.zero_grad()
lecture.loss_of(model)[2].backward()
nn.pytorch.compare_parameters(model, net, grad=True)

# %% [markdown]
# ## A trained classifier
#
# Now a real network. We train a 2-8-8-1 tanh MLP on the moons, as in notebook 4, with the
# binary cross-entropy of the output logit.

# %%
X, y = data.moons(100, noise=0.1, seed=1337)
model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=0)
history = nn.fit(
    model,
    X,
    y,
    loss="bce_with_logits",
    optimizer=nn.SGD(model, lr=0.1),
    epochs=40,
    batch_size=10,
    engine="tape",
    progress=False,
)
print(model)
print(f"after 40 epochs: loss {history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.0%}")

# %% [markdown]
# We export it and run all 100 points through both copies. chainrule takes one sample at a
# time. PyTorch takes the whole batch as one $100 \times 2$ matrix.


# %%
def chainrule_loss(model, X, y):
    """The mean binary cross-entropy over the data set, one Value graph per sample."""
    logits = [model(list(xi)) for xi in X]
    losses = [F.bce_with_logits(z, float(t)) for z, t in zip(logits, y, strict=True)]
    return sum(losses) / len(losses), logits


def torch_loss(net, X, y):
    """The same loss in PyTorch, for the whole batch at once."""
    logits = net(torch.tensor(X)).squeeze(1)
    return torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.tensor(y, dtype=torch.float64)
    ), logits


net = model.to_torch()
ours, our_logits = chainrule_loss(model, X, y)
theirs, their_logits = torch_loss(net, X, y)
our_logits = np.array([z.data for z in our_logits])
logit_diff = np.max(np.abs(our_logits - their_logits.detach().numpy()) / np.abs(our_logits))
print(f"loss: chainrule {ours.data!r}, PyTorch {theirs.item()!r}")
print(f"largest relative difference of the 100 outputs: {logit_diff:.1e}")
assert logit_diff < 1e-13

# %% [markdown]
# Then one `backward()` in each engine, and all 105 gradients side by side (the table is long,
# so we print its first rows and its last line):

# %%
model.zero_grad()
ours.backward()
theirs.backward()
grads = nn.pytorch.compare_parameters(model, net, grad=True)
lines = str(grads).splitlines()
print("\n".join(lines[:7] + ["  ..."] + lines[-1:]))
assert len(grads) == model.num_parameters() == 105
assert grads.ok and grads.max_rel_diff < 1e-12

# %% [markdown]
# Every gradient agrees to at least 12 significant digits. They are no longer identical to the
# last bit, because the two engines add the same terms in a different order: chainrule adds up
# each neuron's products and then the 100 samples' losses one at a time, while PyTorch
# multiplies matrices. The last digits of a floating-point sum depend on that order.
#
# ## Training both, step by step
#
# Now we train both copies for 40 more steps, each step on all 100 points, with Adam and the
# same settings (learning rate 0.05 and the default $\beta_1 = 0.9$, $\beta_2 = 0.999$,
# $\varepsilon = 10^{-8}$). chainrule's `nn.Adam` and `torch.optim.Adam` implement the same
# formula, so the two copies should take the same path.

# %%
steps = 40
chainrule_opt = nn.Adam(model, lr=0.05)
torch_opt = torch.optim.Adam(net.parameters(), lr=0.05)
curves = {"chainrule": [], "PyTorch": []}
for _ in range(steps):
    loss, _ = chainrule_loss(model, X, y)
    chainrule_opt.zero_grad()
    loss.backward()
    chainrule_opt.step()
    curves["chainrule"].append(loss.data)

    t_loss, _ = torch_loss(net, X, y)
    torch_opt.zero_grad()
    t_loss.backward()
    torch_opt.step()
    curves["PyTorch"].append(t_loss.item())

a, b = np.array(curves["chainrule"]), np.array(curves["PyTorch"])
step_diff = np.abs(a - b) / np.abs(b)
eps = np.finfo(float).eps  # 2.2e-16, the spacing of float64 numbers near 1
assert f"{eps:.1e}" == "2.2e-16"
print(f"loss from {a[0]:.4f} to {a[-1]:.4f} in chainrule, {b[0]:.4f} to {b[-1]:.4f} in PyTorch")
print(f"largest relative difference of the losses over {steps} steps: {step_diff.max():.1e}")
assert a[-1] < a[0] / 2 and step_diff.max() < 1e-14

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
k = np.arange(1, steps + 1)
left.plot(k, a, "-", linewidth=4, alpha=0.35, label="chainrule")
left.plot(k, b, "k--", linewidth=1.2, label="PyTorch")
left.set_xlabel("Adam step")
left.set_ylabel("loss on all 100 points")
left.set_title("the two loss curves, overlaid")
left.legend()
equal = step_diff == 0  # log scale: steps where the two losses are identical go at the bottom
right.semilogy(k[~equal], step_diff[~equal], "o", markersize=4, label="relative difference")
right.semilogy(k[equal], np.full(equal.sum(), 2e-17), "v", color="C2", label="exactly equal")
right.axhline(eps, color="gray", linestyle=":", label="float64 epsilon")
right.set_ylim(1e-17, 1e-14)
right.set_xlabel("Adam step")
right.set_ylabel("|chainrule - PyTorch| / PyTorch")
right.set_title("how far apart the two losses are")
right.legend()
plt.show()

# %% [markdown]
# The curves lie on top of each other. On the right, the relative difference stays below
# $10^{-14}$, within a few dozen times the float64 epsilon ($2.2 \times 10^{-16}$); where the
# two losses are identical to the last bit, the point sits at the bottom. The rounding
# differences seen above do not grow into a different training run. After the 40 steps the
# weights themselves still agree to 12 digits:

# %%
weights = nn.pytorch.compare_parameters(model, net)
print(f"{len(weights)} weights, largest relative difference {weights.max_rel_diff:.1e}")
assert weights.ok and weights.max_rel_diff < 1e-12

# %% [markdown]
# ## From PyTorch back to chainrule
#
# `nn.MLP.from_torch` goes the other way. It reads a `torch.nn.Sequential` of `Linear` layers,
# each followed by at most one activation, and builds the chainrule MLP with exactly the same
# numbers. Here it reads back the network PyTorch just trained, and we draw its decision
# boundary with chainrule:

# %%
back = nn.MLP.from_torch(net)
print(back)
assert nn.pytorch.compare_parameters(back, net).max_rel_diff == 0  # exactly PyTorch's numbers
fig, ax = plt.subplots(figsize=(4.5, 3.6), layout="constrained")
nn.plot.decision_boundary(back, X, y, ax=ax)
accuracy = np.mean((nn.predict(back, X) > 0) == y)
ax.set_title(f"trained in PyTorch, drawn by chainrule: {accuracy:.0%}")
plt.show()

# %% [markdown]
# A layer chainrule does not have stops the import, with an error that names the layer and its
# index:

# %%
with_dropout = torch.nn.Sequential(
    torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Dropout(0.2), torch.nn.Linear(8, 1)
)
try:
    nn.MLP.from_torch(with_dropout)
except ValueError as error:
    print(error)

# %% [markdown]
# ## Exercise
#
# 1. **Your own function.** Write a function of two inputs that uses `.exp()`, `.log()`,
#    `.sigmoid()` and `**`, and check it with `autograd.compare_with_torch`. Then change one
#    operation on purpose (for example `.relu()` at a point where the input is exactly 0).
#    Does PyTorch use the same derivative at the kink?
# 2. **A different optimizer.** Repeat the side-by-side training with `nn.SGD(model, lr=0.5,
#    momentum=0.9)` and `torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)`. Do the curves
#    still overlap? What happens with `nesterov=True` in PyTorch, which chainrule does not have?
# 3. **Float32.** Export with `model.to_torch(dtype=torch.float32)` and train again. How large
#    does the difference between the two loss curves get after 40 steps, and why?
