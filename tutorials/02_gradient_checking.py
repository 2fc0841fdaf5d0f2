# %% [markdown]
# # 02 · Gradient checking
#
# A wrong backward does not crash: the network trains a little worse, or not at all, and you will
# blame the learning rate. The cure is cheap: compare the analytic gradient with **central finite
# differences**,
#
#     f'(x) ≈ (f(x + ε) - f(x - ε)) / 2ε        error ≈ ε²·f'''/6 (truncation) + u·|f|/ε (rounding)
#
# where u is the machine epsilon (1.2e-7 in float32, 2.2e-16 in float64). Every op in minigan is
# checked this way, to first *and* second order, and `mg.gradcheck` / `mg.gradgradcheck` are public
# so you can check your own code with them.

# %%
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg
from minigan import nn
from minigan.gradcheck import GradcheckError
from minigan.tensor import Function

FAST = os.environ.get("MINIGAN_FAST") == "1"  # nothing to shorten here: everything takes milliseconds
HERE = pathlib.Path(__file__).parent if "__file__" in globals() else pathlib.Path.cwd()  # notebooks have no __file__
OUT = pathlib.Path(os.environ.get("MINIGAN_TUTORIAL_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)
mg.set_backend("numpy")
mg.manual_seed(0)

# %% [markdown]
# ## Why float64: the error of a finite difference against ε
#
# d tanh/dx at x = 0.5 is 1 - tanh²(0.5). Too large an ε and the truncation error wins; too small
# and the two nearly equal values f(x ± ε) cancel, leaving rounding noise divided by ε. The best ε
# is near u^(1/3): a few 1e-3 in float32, where the error is still ~1e-6 (and 1e-2 at ε = 1e-6),
# too coarse to catch subtle bugs; near 1e-6 in float64, with an error ~1e-12.

# %%
x0, exact = 0.5, 1 - np.tanh(0.5) ** 2
epsilons = np.logspace(-12, -1, 45)
errors = {}
for dtype in (np.float32, np.float64):
    x, eps = dtype(x0), epsilons.astype(dtype)
    fd = (np.tanh(x + eps) - np.tanh(x - eps)) / (2 * eps)
    errors[dtype.__name__] = np.abs(fd.astype(np.float64) - exact)
    best = np.nanargmin(np.where(errors[dtype.__name__] > 0, errors[dtype.__name__], np.nan))
    print(f"{dtype.__name__}: best eps = {epsilons[best]:.0e}, error there = {errors[dtype.__name__][best]:.1e};"
          f" at eps = 1e-6 the error is {np.interp(-6, np.log10(epsilons), errors[dtype.__name__]):.1e}")

fig, ax = plt.subplots(figsize=(6, 3.8))
for name, err in errors.items():
    ax.loglog(epsilons, np.maximum(err, 1e-17), "o-", ms=3, label=name)
ax.axvline(1e-6, color="0.5", ls=":", label="gradcheck's default eps = 1e-6")
ax.set(xlabel="ε", ylabel="|finite difference - exact|", title="central differences of tanh at x = 0.5")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "02_finite_difference_error.png")
print("saved", OUT / "02_finite_difference_error.png")

# %% [markdown]
# ## `mg.gradcheck` on a composite function
#
# `gradcheck(fn, inputs)` projects the output onto a random direction r, L = Σ r·fn(inputs), and
# compares ∂L/∂input from backward with central differences, element by element, for every input
# that requires grad. It returns True or raises `GradcheckError` naming the worst element.
# It refuses float32 inputs, for the reason in the figure above.

# %%
mg.set_default_dtype("float64")  # every new tensor and parameter is float64 from here on
x = mg.randn(5, 3, requires_grad=True)
w = mg.randn(2, 3, requires_grad=True)
b = mg.randn(2, requires_grad=True)
print("sigmoid(linear(x, w, b)):", mg.gradcheck(lambda x, w, b: mg.linear(x, w, b).sigmoid(), [x, w, b]))
print("log(1 + x²) * tanh(x)   :", mg.gradcheck(lambda x: (1 + x * x).log() * x.tanh(), [x]))

try:
    mg.gradcheck(lambda t: t.tanh(), [mg.randn(3, requires_grad=True, dtype="float32")])
except ValueError as err:
    print("float32 input refused:", err)

# %% [markdown]
# ## Writing your own operation, and catching a planted bug
#
# An op is a `Function` with two methods: `forward` on raw arrays and `backward`, which receives
# ∂L/∂output as a Tensor and returns ∂L/∂input for each input. For square(a) = a² the rule is
# ∂L/∂a = ∂L/∂out · 2a. `BuggySquare` forgets the 2 — a typical slip.

# %%
class Square(Function):
    def forward(self, a):
        return a * a

    def backward(self, grad):
        (a,) = self.inputs
        return (grad * 2.0 * a,)


class BuggySquare(Function):
    def forward(self, a):
        return a * a

    def backward(self, grad):
        (a,) = self.inputs
        return (grad * a,)  # BUG: the factor 2 is missing


x = mg.randn(4, requires_grad=True)
print("Square      passes:", mg.gradcheck(Square.apply, [x]))
try:
    mg.gradcheck(BuggySquare.apply, [x])
except GradcheckError as err:
    print("BuggySquare fails :", err)
    # the analytic value is exactly half the numerical one: the missing factor 2, found

# %% [markdown]
# ## Second derivatives: `mg.gradgradcheck`
#
# `gradgradcheck` runs the same test on the gradient itself (x ↦ Σ r₂·∂L/∂x, built with
# `create_graph=True`). It catches a subtler mistake: a backward computed on **raw arrays**. The
# numbers are right, so `gradcheck` passes, but the gradient is a constant with no history, so its
# own derivative — d/dx (3x²) = 6x for x³ — is silently zero. WGAN-GP's penalty (tutorial 07)
# would then train the critic on a wrong gradient. Writing backward with Tensor operations keeps
# it differentiable.

# %%
class CubeRawBackward(Function):
    def forward(self, a):
        return a ** 3

    def backward(self, grad):
        (a,) = self.inputs
        three_a2 = mg.Tensor(3.0 * a.data ** 2)  # raw arrays: right value, no history
        return (grad * three_a2,)


class Cube(Function):
    def forward(self, a):
        return a ** 3

    def backward(self, grad):
        (a,) = self.inputs
        return (grad * 3.0 * a * a,)  # Tensor ops: differentiable again


x = mg.randn(4, requires_grad=True)
print("Cube            gradcheck:", mg.gradcheck(Cube.apply, [x]), " gradgradcheck:", mg.gradgradcheck(Cube.apply, [x]))
print("CubeRawBackward gradcheck:", mg.gradcheck(CubeRawBackward.apply, [x]))
try:
    mg.gradgradcheck(CubeRawBackward.apply, [x])
except GradcheckError as err:
    print("CubeRawBackward gradgradcheck fails:", err)

# %% [markdown]
# ## Checking a whole layer
#
# Parameters are tensors too, so a network can be checked with respect to its weights. Here a
# Linear + LeakyReLU + Linear critic and its gradient *norm*, ‖∇ₓC(x)‖ — the quantity WGAN-GP
# penalizes — checked to second order with respect to the input.

# %%
critic = nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))  # float64 parameters
x = mg.randn(6, 3, requires_grad=True)


def grad_norm(x):
    (g,) = mg.grad(critic(x).sum(), [x], create_graph=True)
    return (g * g).sum(axis=1).sqrt()


print("critic, wrt its first weight:", mg.gradcheck(lambda w: critic(x.detach()), [critic[0].weight]))
print("‖∇x C(x)‖, wrt x            :", mg.gradcheck(grad_norm, [x]))
mg.set_default_dtype("float32")  # back to the training default

# %% [markdown]
# **Next:** `03_layers_bce_adam.py` — a Linear layer, the binary cross-entropy and Adam, each
# written by hand and compared with minigan's.
