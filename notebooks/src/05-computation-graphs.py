# %% [markdown]
# # 5. Computation graphs
#
# A computation graph breaks a long formula into a chain of small assignments. Each assignment
# is one operation whose derivative we know. Backpropagation is then the chain rule, applied one
# assignment at a time, from the output back to the inputs.
#
# You will:
#
# 1. build the smallest graph there is, $z = x + y$ followed by $q = 2z$, and read its
#    gradients;
# 2. build the lecture's **linear-regression graph**
#    $u = w_1 x,\ \hat y = w_0 + u,\ z = \hat y - y,\ L = z^2$ and see its three kinds of node:
#    inputs, parameters and compute nodes;
# 3. label every edge with its **local derivative**;
# 4. **step through `backward()`** one node at a time, frame by frame;
# 5. differentiate a gradient to get a **second derivative**, and draw the graph that the
#    gradient itself was computed on.
#
# **Where this is in the lectures** (the whole map is in the README):
#
# - backpropagation article, “computational graph (z = x + y, then q = 2z)” → § The smallest graph: $z = x + y$, then $q = 2z$
# - feedforward networks, “Computation graphs (linear regression)” → § The linear-regression graph
#
# Previous: [4. Gradient descent](04-gradient-descent.ipynb). Next:
# [6. The worked example](06-worked-example.ipynb).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import autograd
from autograd import Value, grad
from autograd.viz import backward_steps

# %% [markdown]
# ## The smallest graph: $z = x + y$, then $q = 2z$
#
# Every arithmetic operation on a `Value` records a node. A plain number in the formula, like
# the 2 here, becomes a *constant* leaf.

# %%
x = Value(2.0, label="x")
y = Value(5.0, label="y")
z = x + y
z.label = "z"
q = 2 * z
q.label = "q"

autograd.draw(q, view="forward")

# %% [markdown]
# Now the chain rule. $\partial q/\partial z = 2$ and $\partial z/\partial x = \partial
# z/\partial y = 1$, so
#
# $$\frac{\partial q}{\partial x} = \frac{\partial q}{\partial z}\,
#   \frac{\partial z}{\partial x} = 2 \cdot 1 = 2,$$
#
# and $\partial q/\partial y = 2$ by the same argument. `backward()` gives the same answer:

# %%
q.backward()
print(f"dq/dz = {z.grad}, dq/dx = {x.grad}, dq/dy = {y.grad}")
assert (z.grad, x.grad, y.grad) == (2.0, 2.0, 2.0)

# %% [markdown]
# A `+` node passes the gradient that reaches it on to both inputs unchanged. A node that
# multiplies by a constant scales the gradient by that constant. In the picture below, each
# edge carries its local derivative (`∂ 2`, `∂ 1`). Each node shows its gradient as the
# gradient above it times that local derivative.

# %%
autograd.draw(q, view="both", edge_derivatives=True, chain_rule=True)

# %% [markdown]
# ## The linear-regression graph
#
# The lecture fits a line $\hat y = w_0 + w_1 x$ by minimizing $L = (\hat y - y)^2$. Written
# as a computation graph, that is four assignments:
#
# $$u = w_1 x, \qquad \hat y = w_0 + u, \qquad z = \hat y - y, \qquad L = z^2 .$$
#
# The graph has three kinds of node. **Inputs** ($x$, $y$) come from the data.
# **Parameters** ($w_0$, $w_1$) are what training changes. **Compute nodes** ($u$, $\hat y$,
# $z$, $L$) are the results of operations. We pick numbers that keep the arithmetic easy.

# %%
x = Value(1.5, label="x")
y = Value(2.0, label="y")
w0 = Value(0.25, label="w0")
w1 = Value(0.5, label="w1")

u = w1 * x
u.label = "u"
y_hat = w0 + u
y_hat.label = "y_hat"
z = y_hat - y
z.label = "z"
L = z**2
L.label = "L"

print(f"u = {u.data}, y_hat = {y_hat.data}, z = {z.data}, L = {L.data}")
# the numbers in the table below: 2z = -2, x = 1.5, w1 = 0.5, dL/dw1 = -2 * 1.5 = -3
assert (z.data, x.data, w1.data) == (-1.0, 1.5, 0.5)
assert grad(L, [w1]) == (-3.0,)
autograd.draw(L, view="forward", params=[w0, w1])

# %% [markdown]
# ## Edge derivatives
#
# Each operation only has to know its own derivative with respect to its inputs. That is the
# local derivative, and here it is written on every edge:
#
# | node | local derivatives |
# |---|---|
# | $L = z^2$ | $\partial L/\partial z = 2z = -2$ |
# | $z = \hat y - y$ | $\partial z/\partial \hat y = 1$, $\partial z/\partial y = -1$ |
# | $\hat y = w_0 + u$ | $\partial \hat y/\partial w_0 = 1$, $\partial \hat y/\partial u = 1$ |
# | $u = w_1 x$ | $\partial u/\partial w_1 = x = 1.5$, $\partial u/\partial x = w_1 = 0.5$ |
#
# A gradient is the product of the local derivatives along the path from $L$ down to the node.
# For example, $\partial L/\partial w_1 = 2z \cdot 1 \cdot 1 \cdot x = -2 \times 1.5 = -3$.
# `grads="compute"` runs a backward pass just to make the picture and leaves every `.grad`
# alone.

# %%
autograd.draw(L, view="both", params=[w0, w1], edge_derivatives=True, grads="compute")

# %% [markdown]
# ## Stepping through `backward()`
#
# `backward()` visits the nodes in **reverse topological order**. A node is visited only after
# every node that uses it, so by then its gradient is complete. `backward_steps` replays that
# walk one node at a time. At each step it gives the node, its gradient, and the chain-rule
# terms the gradient was summed from. These are the engine's own numbers, and no `.grad` is
# changed.

# %%
steps = list(backward_steps(L))
for step in steps:
    print(f"step {step.index}: {step.explain()}")
# the order described below: L, then z, then z's inputs y and y_hat, ... , the leaves last
order = [step.node.label for step in steps]
assert order[:2] == ["L", "z"] and set(order[2:4]) == {"y", "y_hat"}
assert set(order[-2:]) <= {"x", "w0", "w1"}

# %% [markdown]
# Here are the same steps as pictures. A node's gradient stays *not computed* until its step
# comes. At each step the current node and the edges its terms came along are highlighted. The
# colour scale is the same in every frame, so equal colours always mean equal gradients.

# %%
scale = max(abs(step.grad) for step in steps)
known = {}
for step in steps:
    known[step.node] = step.grad
    frame = autograd.draw(
        L,
        view="gradient",
        params=[w0, w1],
        grads=dict(known),
        highlight=step,
        title=f"step {step.index}: {step.explain()}",
        grad_scale=scale,
        legend=False,
    )
    display(frame)

# %% [markdown]
# The walk fills in $L$, then $z$, then both of $z$'s inputs ($y$ and $\hat y$), and ends at
# the leaves. The order matters. If $x$ were used twice, its gradient would be the sum of two
# terms, and both of those terms must be known before $x$ is done. Reverse topological order
# guarantees exactly that.
#
# To save the frames as files (for slides, say), use
# `autograd.viz.render_steps(L, "frames/", fmt="png")`. From a shell, this writes the same kind
# of frames:
#
# ```
# chainrule draw "(w0 + w1*x - y)**2" x=1.5 y=2 w0=0.25 w1=0.5 -o graph.svg --steps frames/
# ```
#
# ## Second derivatives
#
# Normally `backward()` computes gradients as plain floats. With `create_graph=True`, it does
# the backward pass's own arithmetic on `Value`s, so that arithmetic is recorded as a graph too.
# The result is a gradient you can differentiate again.
#
# Take $f(x) = x^3$ at $x = 1.5$. Then $f'(x) = 3x^2 = 6.75$ and $f''(x) = 6x = 9$.

# %%
x = Value(1.5, label="x")
f = x**3
(df,) = grad(f, x, create_graph=True)
df.label = "df/dx"
(d2f,) = grad(df, x)
print(f"f = {f.data}, f' = {df.data}, f'' = {d2f}")
assert (df.data, d2f) == (6.75, 9.0)

# %% [markdown]
# `df` is an ordinary `Value`, and here is the graph it was computed on. Reading from the left:
# $x$ is squared ($x^{3-1}$), multiplied by the exponent 3, and then multiplied by the seed
# gradient 1. That is $1 \cdot 3x^2$, the power rule, written out as a graph.

# %%
autograd.draw(df, view="forward")

# %% [markdown]
# The same works for the regression loss. Differentiating $\partial L/\partial w_0$ and
# $\partial L/\partial w_1$ once more gives the matrix of second derivatives (the Hessian):
#
# $$\begin{bmatrix} \partial^2 L/\partial w_0^2 & \partial^2 L/\partial w_0 \partial w_1 \\
#   \partial^2 L/\partial w_1 \partial w_0 & \partial^2 L/\partial w_1^2 \end{bmatrix}
#   = \begin{bmatrix} 2 & 2x \\ 2x & 2x^2 \end{bmatrix}
#   = \begin{bmatrix} 2 & 3 \\ 3 & 4.5 \end{bmatrix}.$$

# %%
g0, g1 = grad(L, [w0, w1], create_graph=True)
g1.label = "dL/dw1"
print(f"gradient: dL/dw0 = {g0.data}, dL/dw1 = {g1.data}")
print("Hessian:", [list(grad(g, [w0, w1])) for g in (g0, g1)])
assert [list(grad(g, [w0, w1])) for g in (g0, g1)] == [[2.0, 3.0], [3.0, 4.5]]

# %% [markdown]
# The graph of $\partial L/\partial w_1$ contains the whole forward pass (it needs $z$) and then
# the backward pass's arithmetic: $2 \cdot z$ from the square, the seed 1, and finally the
# multiplication by $x$ that $u = w_1 x$ contributes.

# %%
autograd.draw(g1, view="forward", params=[w0, w1])

# %% [markdown]
# With second derivatives we can plot a function together with its first two derivatives, all
# computed by the engine. Here is $\tanh$. Its slope peaks at 0, where its curvature changes
# sign.

# %%
xs = np.linspace(-3, 3, 121)
rows = []
for x0 in xs:
    x = Value(x0)
    t = x.tanh()
    (d1,) = grad(t, x, create_graph=True)
    (d2,) = grad(d1, x)
    rows.append((t.data, d1.data, d2))
values = np.array(rows)

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs, values[:, 0], label="tanh(x)")
ax.plot(xs, values[:, 1], label="first derivative")
ax.plot(xs, values[:, 2], label="second derivative")
ax.axhline(0, color="gray", linewidth=0.5)
ax.set_xlabel("x")
ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))  # beside the plot: no corner is free
plt.show()

# %% [markdown]
# ## Exercise
#
# Logistic regression on one sample puts a sigmoid between the line and the loss:
#
# $$a = w_0 + w_1 x, \qquad p = \sigma(a), \qquad
#   L = -\bigl(t \log p + (1 - t)\log(1 - p)\bigr).$$
#
# 1. Build this graph with `Value`s for $x = 1.5$, $t = 1$, $w_0 = 0.25$, $w_1 = 0.5$, and draw
#    it with `edge_derivatives=True`.
# 2. Before running `backward()`, predict the local derivative on every edge. (The sigmoid's is
#    $\sigma(a)(1 - \sigma(a))$.)
# 3. Step through the backward pass with `backward_steps`. Then check that
#    $\partial L/\partial a = p - t$: the sigmoid's derivative cancels against the log's.
# 4. Use `grad(..., create_graph=True)` to find $\partial^2 L/\partial w_1^2$. Is it ever
#    negative?
