# %% [markdown]
# # 01 · Tensors and autograd, by hand
#
# A GAN is two neural networks trained by gradient descent, so everything in minigan rests on one
# machine: **reverse-mode automatic differentiation**. Every operation on a tensor that requires a
# gradient is recorded; `backward()` walks that record from the output back to the inputs, applying
# the chain rule once per operation:
#
#     dL/dinput = dL/doutput · doutput/dinput
#
# In this tutorial we build tiny graphs, derive their gradients with pencil and paper, and check
# that minigan agrees. Run it as a script (`python tutorials/01_tensors_and_autograd.py`) or open
# it as a notebook (Jupytext / VS Code read the `# %%` cells).

# %%
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg

FAST = os.environ.get("MINIGAN_FAST") == "1"  # no training here; kept for symmetry with the others
HERE = pathlib.Path(__file__).parent if "__file__" in globals() else pathlib.Path.cwd()  # notebooks have no __file__
OUT = pathlib.Path(os.environ.get("MINIGAN_TUTORIAL_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)
mg.set_backend("numpy")
mg.manual_seed(0)

# %% [markdown]
# ## A tensor is an array plus a history
#
# `mg.tensor` copies data onto the current backend (NumPy here). Floating data becomes float32
# unless you ask otherwise; `requires_grad=True` asks minigan to record what happens to it.

# %%
x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
print("x         =", x)
print("dtype     =", x.dtype, " shape =", x.shape, " is_leaf =", x.is_leaf)
y = (x * x).sum()
print("y = sum(x*x) =", y.item(), " made by:", type(y._ctx).__name__)  # _ctx: the recorded Function

# %% [markdown]
# ## A tiny graph, differentiated by hand
#
# f(x, y) = log(x·y + x²) at x = 2, y = 3. With z = x·y + x² = 10:
#
#     ∂f/∂x = (y + 2x) / z = 7/10 = 0.7        ∂f/∂y = x / z = 2/10 = 0.2
#
# We use float64 so the comparison is exact to ~1e-16.

# %%
x = mg.tensor(2.0, requires_grad=True, dtype="float64")
y = mg.tensor(3.0, requires_grad=True, dtype="float64")
z = x * y + x ** 2
f = z.log()


def show_graph(t, name="f", depth=0):
    """Print the recorded graph under t: each node's Function and its inputs (leaves last)."""
    op = type(t._ctx).__name__ if t._ctx is not None else "leaf"
    print("  " * depth + f"{name}: {op}, value {t.item():g}")
    if t._ctx is not None:
        for i, parent in enumerate(t._ctx.inputs):
            show_graph(parent, f"input {i}", depth + 1)


show_graph(f)  # the graph is freed by backward(), so look at it first
f.backward()
print(f"f = {f.item():.6f}   (log 10 = {np.log(10):.6f})")
print(f"autograd: df/dx = {x.grad.item():.15f}   by hand: {(3 + 2 * 2) / 10:.15f}")
print(f"autograd: df/dy = {y.grad.item():.15f}   by hand: {2 / 10:.15f}")

# %% [markdown]
# ## The last layer of a discriminator
#
# D(x) = sigmoid(w·x + b) is the probability that x is real. For a real sample the loss is
# L = -log D(x). With p = D(x), the chain rule through sigmoid' = p(1 - p) gives
#
#     ∂L/∂w = -(1 - p)·x        ∂L/∂b = -(1 - p)
#
# so a confident, correct D (p → 1) gets almost no gradient, and a wrong one gets a big push.

# %%
rng = np.random.default_rng(0)
x_np, w_np = rng.standard_normal(4), rng.standard_normal(4)
x = mg.tensor(x_np, dtype="float64")  # data: no gradient wanted
w = mg.tensor(w_np, requires_grad=True, dtype="float64")
b = mg.tensor(0.5, requires_grad=True, dtype="float64")
p = ((w * x).sum() + b).sigmoid()
loss = -p.log()
loss.backward()

p_np = 1 / (1 + np.exp(-(w_np @ x_np + 0.5)))
print(f"D(x) = {p.item():.6f}, loss = {loss.item():.6f}")
print("autograd dL/dw:", np.round(w.grad.numpy(), 6))
print("by hand  dL/dw:", np.round(-(1 - p_np) * x_np, 6))
print(f"max |difference| = {np.abs(w.grad.numpy() - (-(1 - p_np) * x_np)).max():.1e}, "
      f"dL/db: {b.grad.item():.6f} vs {-(1 - p_np):.6f}")

# %% [markdown]
# ## Gradients accumulate
#
# Two facts that every training loop depends on:
#
# 1. If a tensor is used twice, the two contributions **add**: d(x·x)/dx = x + x = 2x.
# 2. `backward()` **adds** into `.grad`; it never overwrites it. That is why optimizers call
#    `zero_grad()` before each step — forget it and the gradients of the last step leak into this one.
#
# A graph is freed after `backward()` (its saved tensors take memory); pass `retain_graph=True` to
# walk it again.

# %%
x = mg.tensor(3.0, requires_grad=True, dtype="float64")
y = x * x
y.backward(retain_graph=True)
print("after one backward :  x.grad =", x.grad.item(), " (2x = 6)")
y.backward(retain_graph=True)
print("after two backwards:  x.grad =", x.grad.item(), " (accumulated: 6 + 6)")
x.zero_grad()
y.backward()
print("after zero_grad + backward: x.grad =", x.grad.item())
try:
    y.backward()  # the graph was freed by the call above
except RuntimeError as err:
    print("a third backward without retain_graph raises:", err)

# %% [markdown]
# ## Turning the recording off: `no_grad` and `detach`
#
# In a GAN's discriminator step the fake samples G(z) are *constants*: D is trained, G is not.
# `with mg.no_grad():` records nothing (cheaper), and `t.detach()` cuts a tensor from its history.

# %%
w = mg.tensor([1.0, -1.0], requires_grad=True)
with mg.no_grad():
    fake = w * 2.0
print("made under no_grad: requires_grad =", fake.requires_grad)
print("detached:           requires_grad =", (w * 2.0).detach().requires_grad)

# %% [markdown]
# ## Derivatives of derivatives: `create_graph=True`
#
# If backward itself is recorded, the gradient is an ordinary tensor with its own history, and we
# can differentiate it again. For f(x) = x³ at x = 3:
#
#     f'(x) = 3x² = 27        f''(x) = 6x = 18
#
# `mg.grad(outputs, inputs)` returns the gradients instead of accumulating into `.grad`.
# WGAN-GP (tutorial 07) needs exactly this: its penalty is a function of ∇ₓD(x), and training D
# differentiates that penalty once more.

# %%
x = mg.tensor(3.0, requires_grad=True, dtype="float64")
f = x ** 3
(df,) = mg.grad(f, [x], create_graph=True)
(d2f,) = mg.grad(df, [x])
print(f"f'(3)  = {df.item():g}  (3x² = 27),  is itself differentiable: {df.requires_grad}")
print(f"f''(3) = {d2f.item():g}  (6x = 18)")

# %% [markdown]
# ## The same on a whole grid, with a figure
#
# tanh' = 1 - tanh² and tanh'' = -2 tanh (1 - tanh²). Summing the outputs gives one scalar whose
# gradient holds each point's own derivative (the points do not interact).

# %%
grid = np.linspace(-4, 4, 401)
x = mg.tensor(grid, requires_grad=True, dtype="float64")
t = x.tanh()
(d1,) = mg.grad(t.sum(), [x], create_graph=True)
(d2,) = mg.grad(d1.sum(), [x])
tanh = np.tanh(grid)
err1 = np.abs(d1.numpy() - (1 - tanh ** 2)).max()
err2 = np.abs(d2.numpy() - (-2 * tanh * (1 - tanh ** 2))).max()
print(f"max error of tanh'  on 401 points: {err1:.1e}")
print(f"max error of tanh'' on 401 points: {err2:.1e}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(grid, t.numpy(), label="tanh(x)")
ax.plot(grid, d1.numpy(), label="tanh'(x) by autograd")
ax.plot(grid, d2.numpy(), label="tanh''(x) by autograd (create_graph=True)")
ax.plot(grid[::20], (1 - tanh ** 2)[::20], "k.", label="1 - tanh² (by hand)")
ax.plot(grid[::20], (-2 * tanh * (1 - tanh ** 2))[::20], "kx", ms=4, label="-2 tanh (1 - tanh²) (by hand)")
ax.set(xlabel="x", title="first and second derivatives from one engine")
ax.legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "01_tanh_derivatives.png")
print("saved", OUT / "01_tanh_derivatives.png")

# %% [markdown]
# **Next:** `02_gradient_checking.py` — how to know a backward is right without deriving it by
# hand: compare it with finite differences.
