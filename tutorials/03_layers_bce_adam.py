# %% [markdown]
# # 03 · A layer, a loss and an optimizer, by hand
#
# A GAN discriminator is a classifier: Linear layers, a sigmoid, the binary cross-entropy, Adam.
# Here we write each of the three pieces in a few lines of tensor code, check it against
# minigan's `nn.Linear`, `F.binary_cross_entropy` and `optim.Adam`, and then train a tiny
# classifier — a discriminator in miniature.

# %%
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from threadpoolctl import threadpool_limits

import minigan as mg
import minigan.nn.functional as F
from minigan import nn, optim

FAST = os.environ.get("MINIGAN_FAST") == "1"  # shortens the training loop at the end
HERE = pathlib.Path(__file__).parent if "__file__" in globals() else pathlib.Path.cwd()  # notebooks have no __file__
OUT = pathlib.Path(os.environ.get("MINIGAN_TUTORIAL_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)
threadpool_limits(1, user_api="blas")  # tiny matrices: one BLAS thread is faster (far faster on a busy machine)
mg.set_backend("numpy")
mg.set_default_dtype("float64")  # exact comparisons; training works the same in float32
mg.manual_seed(0)

# %% [markdown]
# ## A Linear layer
#
# y = x Wᵀ + b with W of shape (out_features, in_features), PyTorch's layout. For a loss L with
# upstream gradient G = ∂L/∂y (shape N × out):
#
#     ∂L/∂W = Gᵀ x        ∂L/∂b = Σₙ Gₙ        ∂L/∂x = G W
#
# `nn.Linear` initializes W and b from U(-1/√in, 1/√in), like PyTorch.

# %%
layer = nn.Linear(3, 2)
W = mg.tensor(layer.weight.numpy(), requires_grad=True)  # the same numbers, as plain tensors
b = mg.tensor(layer.bias.numpy(), requires_grad=True)
x = mg.randn(5, 3, requires_grad=True)
G = mg.randn(5, 2)  # a random upstream gradient: L = Σ G ⊙ y

y_hand = x @ W.T + b
y_layer = layer(x)
print("forward  max |hand - nn.Linear|:", np.abs(y_hand.numpy() - y_layer.numpy()).max())

(y_hand * G).sum().backward()
gW, gb, gx_hand = W.grad.numpy(), b.grad.numpy(), x.grad.numpy()
x.zero_grad()
(y_layer * G).sum().backward()
g, xn, Wn = G.numpy(), x.numpy(), W.numpy()
print("dL/dW: autograd vs Gᵀx      :", np.abs(gW - g.T @ xn).max(),
      "| vs nn.Linear:", np.abs(gW - layer.weight.grad.numpy()).max())
print("dL/db: autograd vs Σ G      :", np.abs(gb - g.sum(axis=0)).max(),
      "| vs nn.Linear:", np.abs(gb - layer.bias.grad.numpy()).max())
print("dL/dx: autograd vs G W      :", np.abs(gx_hand - g @ Wn).max())
big = nn.Linear(256, 10)
print(f"init of Linear(256, 10): max |W| = {np.abs(big.weight.numpy()).max():.4f} <= 1/sqrt(256) = {1 / 16:.4f}")

# %% [markdown]
# ## Binary cross-entropy, and why the library clamps
#
# BCE(p, t) = -[t log p + (1 - t) log(1 - p)]. Written naively it returns inf at p = 0 with
# t = 1, and NaN (0·log 0) at p = 1 with t = 1. A discriminator *does* output exact 0s and 1s in
# float32, and a single inf poisons every weight. `F.binary_cross_entropy` clamps each log at
# -100, like PyTorch, so the loss is finite and so is its gradient (p - t) / (p (1 - p)), whose
# denominator is floored at 1e-12.

# %%
def bce_by_hand(p, t):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(t * np.log(p) + (1 - t) * np.log(1 - p))


ps = np.array([0.0, 1e-8, 0.1, 0.5, 0.9, 1.0])
print(f"{'p':>6} {'t':>3} {'by hand':>12} {'F.bce':>12} {'dF.bce/dp':>12}")
for t_value in (1.0, 0.0):
    p = mg.tensor(ps, requires_grad=True)
    t = mg.full(ps.shape, t_value)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    loss.sum().backward()
    hand = bce_by_hand(ps, t_value)
    for i in range(len(ps)):
        print(f"{ps[i]:6.0e} {t_value:3.0f} {hand[i]:12.6g} {loss.numpy()[i]:12.6g} {p.grad.numpy()[i]:12.4g}")
    ok = np.isfinite(hand)
    print(f"  where the hand formula is finite they agree to {np.abs(hand[ok] - loss.numpy()[ok]).max():.1e}")

# %% [markdown]
# ### Better still: give the loss the logit
#
# If D ends in a sigmoid, a confident logit a = 20 becomes p = 1.0 exactly in float32, and the
# loss of a fake (t = 0) hits the clamp: 100, although the truth is -log(1 - sigmoid(20)) =
# softplus(20) ≈ 20. `F.binary_cross_entropy_with_logits(a, t)` = t·softplus(-a) + (1-t)·softplus(a)
# never forms p, so it is exact for every logit.

# %%
a = mg.tensor([2.0, 20.0, 40.0], dtype="float32")
zeros = mg.zeros(3, dtype="float32")
print("logits                  :", a.numpy())
print("BCE(sigmoid(a), 0) fp32 :", F.binary_cross_entropy(a.sigmoid(), zeros, reduction="none").numpy())
print("BCE_with_logits(a, 0)   :", F.binary_cross_entropy_with_logits(a, zeros, reduction="none").numpy())
print("exact softplus(a)       :", np.logaddexp(0, a.numpy().astype(np.float64)))

# %% [markdown]
# ## Adam, by hand
#
# For each parameter, with gradient g at step t (counting from 1):
#
#     m ← β₁m + (1-β₁)g      v ← β₂v + (1-β₂)g²      p ← p - lr · m/(1-β₁ᵗ) / (√(v/(1-β₂ᵗ)) + ε)
#
# The bias corrections undo the zero start of m and v; as a result the very first step moves every
# coordinate by almost exactly lr·sign(g), whatever the gradient's scale. GANs commonly use
# lr = 2e-4 and β₁ = 0.5 (Radford et al., 2015); we use a larger lr so the steps are visible.

# %%
start = np.array([1.0, -2.0, 3.0])
scale = np.array([1.0, 10.0, 0.01])  # very different gradient scales per coordinate
lr, (b1, b2), eps = 0.1, (0.5, 0.999), 1e-8


def loss_fn(p):
    return (scale * p * p).sum() / 2  # gradient: scale * p


# by hand, on NumPy arrays
p_hand, m, v = start.copy(), np.zeros(3), np.zeros(3)
for step in range(1, 4):
    g = scale * p_hand
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    p_hand = p_hand - lr * (m / (1 - b1 ** step)) / (np.sqrt(v / (1 - b2 ** step)) + eps)
    if step == 1:
        print("first step moved each coordinate by:", np.round(start - p_hand, 6),
              " (lr·sign(g) =", lr * np.sign(g), ")")

# with minigan
param = mg.tensor(start, requires_grad=True)
opt = optim.Adam([param], lr=lr, betas=(b1, b2), eps=eps)
for step in range(3):
    opt.zero_grad()
    loss_fn(param).backward()
    opt.step()
print("after 3 steps, by hand :", p_hand)
print("after 3 steps, Adam    :", param.numpy())
print("max |difference|       :", np.abs(p_hand - param.numpy()).max())

# %% [markdown]
# ## A tiny classifier: a discriminator in miniature
#
# Two interleaved half-moons, one labelled 1 ("real") and one 0 ("fake"). D(x) is an MLP ending
# in a sigmoid, trained to minimize BCE — the discriminator's half of the GAN game, with both
# data sets held fixed.

# %%
mg.set_default_dtype("float32")  # training in float32, the default
mg.manual_seed(0)
points, labels = make_moons(512, noise=0.15, random_state=0)
X = mg.tensor(points)
T = mg.tensor(labels.reshape(-1, 1).astype(np.float32))
D = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                  nn.Linear(32, 1), nn.Sigmoid())
opt = optim.Adam(D.parameters(), lr=1e-2)
steps = 50 if FAST else 300
for step in range(1, steps + 1):
    out = D(X)
    loss = F.binary_cross_entropy(out, T)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % (steps // 6) == 0:
        accuracy = ((out.numpy() > 0.5) == (labels.reshape(-1, 1) == 1)).mean()
        print(f"step {step:4d}  BCE {loss.item():.4f}  accuracy {accuracy:.3f}")

# where does D say "real"? evaluate it on a grid
xs, ys = np.meshgrid(np.linspace(-1.5, 2.5, 200), np.linspace(-1, 1.5, 150))
with mg.no_grad():
    field = D(mg.tensor(np.stack([xs.ravel(), ys.ravel()], axis=1))).numpy().reshape(xs.shape)
fig, ax = plt.subplots(figsize=(6, 4))
contour = ax.contourf(xs, ys, field, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8)
ax.scatter(*points[labels == 1].T, s=6, c="k", label="t = 1 ('real')")
ax.scatter(*points[labels == 0].T, s=6, c="w", edgecolors="k", linewidths=0.3, label="t = 0 ('fake')")
fig.colorbar(contour, ax=ax, label="D(x)")
ax.set(title=f"a tiny discriminator after {steps} Adam steps", xlabel="x₁", ylabel="x₂")
ax.legend(loc="lower left", fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "03_tiny_classifier.png")
print("saved", OUT / "03_tiny_classifier.png")

# %% [markdown]
# **Next:** `04_minimax_1d.py` — let the "fake" points move: a generator learns to fool D.
