# %% [markdown]
# # 05 · The optimal discriminator and the Jensen–Shannon divergence
#
# Section 4 of Goodfellow et al. (2014) answers two questions about the game of tutorial 04.
#
# **Proposition 1.** For a *fixed* generator with density p_g, the discriminator that maximizes
# V(D, G) = ∫ p_data log D + p_g log(1 - D) dx is, point by point,
#
#     D*(x) = p_data(x) / (p_data(x) + p_g(x))
#
# (maximize a log y + b log(1 - y) over y: the derivative a/y - b/(1-y) vanishes at y = a/(a+b)).
#
# **Theorem 1.** Plugging D* back in gives the generator's real objective,
#
#     C(G) = max_D V(D, G) = -log 4 + 2·JSD(p_data ‖ p_g)
#
# so training G against an optimal D minimizes the Jensen–Shannon divergence, and the global
# minimum -log 4 is reached exactly when p_g = p_data (where D* = ½ everywhere).
#
# We check both numerically. The densities, integrals and divergences come from
# `minigan.theory` (SciPy's `quad` and `simpson` underneath); the discriminator is trained by us.

# %%
import math
import os
import pathlib

import numpy as np
from scipy import integrate, stats
from threadpoolctl import threadpool_limits

import minigan as mg
from minigan import nn, optim, theory
from minigan.gan import d_minimax_loss
from minigan.plot import save_discriminator_figure, save_discriminator_panels

FAST = os.environ.get("MINIGAN_FAST") == "1"  # a few steps only: checks that the code runs
HERE = pathlib.Path(__file__).parent if "__file__" in globals() else pathlib.Path.cwd()  # notebooks have no __file__
OUT = pathlib.Path(os.environ.get("MINIGAN_TUTORIAL_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)
threadpool_limits(1, user_api="blas")  # tiny matrices: one BLAS thread is faster (far faster on a busy machine)
mg.set_backend("numpy")

D_STEPS = 50 if FAST else 2000        # discriminator steps with G frozen
STAGE_STEPS = 30 if FAST else 500     # per stage of the Figure-1 panels
MU_DATA, S_DATA = 4.0, 0.5            # the data of tutorial 04
MU_G, S_G = 3.0, 1.0                  # a frozen generator x = 3 + 1·z, so p_g = N(3, 1²)
p_data, p_g = stats.norm(MU_DATA, S_DATA), stats.norm(MU_G, S_G)  # for their CDFs


def normal_pdf(mu, s):
    """The N(mu, s²) density: the numbers of scipy.stats.norm(mu, s).pdf, but far cheaper per call,
    which matters when quad calls it thousands of times."""
    return lambda x: np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))


pdf_data, pdf_g = normal_pdf(MU_DATA, S_DATA), normal_pdf(MU_G, S_G)

# %% [markdown]
# ## D* for two Gaussians
#
# `theory.optimal_discriminator(p_data, p_g)` takes two density functions (or two arrays of
# density values) and returns D*. Where the densities cross, D* = ½; where only the data have
# mass, D* → 1; where only the generator has, D* → 0.

# %%
d_star = theory.optimal_discriminator(pdf_data, pdf_g)
for x in (1.0, 3.0, 4.0, 5.0):
    print(f"x = {x}: p_data = {pdf_data(x):.4f}, p_g = {pdf_g(x):.4f}, D*(x) = {d_star(np.array(x)):.4f}")

# %% [markdown]
# ## Train D with G frozen, and compare it with D*
#
# This is the inner loop of Algorithm 1 run to convergence: fresh real samples x ~ p_data and
# fresh fakes G(z) = 3 + z each step, ascending V by descending the minimax D loss
# -[mean log D(x) + mean log(1 - D(G(z)))]. Three details make D land close to D*:
#
# * float64 and a large batch (512 + 512), so the loss is a low-noise estimate of V;
# * inputs standardized (D sees (x - 3.5) / 1 instead of x): values of order 1 suit the initial
#   weights;
# * Adam's learning rate decays from 1e-2 to 1e-5 on a cosine, so the last steps do not leave the
#   noise of a large step size in D.

# %%
mg.set_default_dtype("float64")
mg.manual_seed(0)
rng = np.random.default_rng(0)
SHIFT, SCALE = 3.5, 1.0
D = nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                  nn.Linear(32, 1), nn.Sigmoid())
opt = optim.Adam(D.parameters(), lr=1e-2)
estimates = []
for step in range(D_STEPS):
    opt.param_groups[0]["lr"] = 1e-5 + (1e-2 - 1e-5) * 0.5 * (1 + math.cos(math.pi * step / D_STEPS))  # cosine decay
    real = MU_DATA + S_DATA * rng.standard_normal((512, 1))
    fake = MU_G + S_G * rng.standard_normal((512, 1))  # G(z) = 3 + z, frozen: plain numbers
    loss = d_minimax_loss(D(mg.tensor((real - SHIFT) / SCALE)), D(mg.tensor((fake - SHIFT) / SCALE)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    estimates.append(-loss.item())  # a minibatch estimate of V(D, G)
    if (step + 1) % max(1, D_STEPS // 4) == 0:
        print(f"step {step + 1:5d}: V(D, G) ≈ -(D loss), mean of the last {D_STEPS // 4} minibatches: "
              f"{np.mean(estimates[-(D_STEPS // 4):]):.4f}")


def D_of(x):
    """The trained D on host numbers."""
    with mg.no_grad():
        return D(mg.tensor((np.reshape(x, (-1, 1)) - SHIFT) / SCALE)).numpy().reshape(np.shape(x))


lo, hi = theory.mixture_region(p_data.cdf, p_g.cdf)  # the interval holding 99% of p_data + p_g
grid = np.linspace(lo, hi, 1001)
error = np.abs(D_of(grid) - d_star(grid))
print(f"max |D(x) - D*(x)| on [{lo:.2f}, {hi:.2f}] (99% of the mass): {error.max():.4f} "
      f"at x = {grid[error.argmax()]:.2f}")

# V(D, G) with the trained D against C(G) = V(D*, G): the trained D is (nearly) the maximizer
wide = np.linspace(-10, 15, 20_001)
value = theory.value_function(D_of, pdf_data(wide), pdf_g(wide), x=wide)
criterion = theory.virtual_training_criterion(pdf_data, pdf_g)
print(f"V(D, G) = {value:.5f}   C(G) = V(D*, G) = {criterion:.5f}   |V - C| = {abs(value - criterion):.1e}"
      "  (V <= C: no D beats D*)")

path = save_discriminator_figure(OUT / "05_trained_d_vs_d_star.png", grid, pdf_data(grid), pdf_g(grid),
                                 D_of(grid), d_star(grid), title=f"D after {D_STEPS} steps vs D*")
print("saved", path)

# %% [markdown]
# ## Theorem 1, numerically
#
# JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m) with m = (p + q)/2, in nats, between 0 and log 2.
# First by hand with `scipy.integrate.quad`, to see the formula at work, then the table with
# `theory.check_theorem_1`, which computes C(G) = V(D*, G) and the JSD *separately* and compares.

# %%
def jsd_by_hand(p, q, peaks):
    def integrand(x):
        a, b = p(x), q(x)
        m = (a + b) / 2
        return 0.5 * (a * np.log(a / m) if a > 0 else 0.0) + 0.5 * (b * np.log(b / m) if b > 0 else 0.0)
    return integrate.quad(integrand, -30, 30, limit=200, points=peaks)[0]  # tell quad where the mass is


print(f"JSD(N(4, 0.5²) ‖ N(3, 1²)): by hand {jsd_by_hand(pdf_data, pdf_g, [MU_G, MU_DATA]):.10f}, "
      f"theory.jsd {theory.jsd(pdf_data, pdf_g):.10f}")

print(f"\n{'p_g':>14} {'C(G) = V(D*,G)':>15} {'JSD':>10} {'-log4 + 2 JSD':>14} {'|difference|':>13}")
for mu, s in ((0.0, 1.0), (3.0, 1.0), (3.5, 0.7), (4.0, 1.0), (4.0, 0.5)):
    check = theory.check_theorem_1(pdf_data, normal_pdf(mu, s))
    print(f"  N({mu:.1f}, {s:.1f}²) {check.criterion:15.10f} {check.jsd:10.7f} {check.predicted:14.10f} "
          f"{check.error:13.1e}")
print(f"-log 4 = {-math.log(4):.10f}: reached at p_g = p_data = N(4, 0.5²), the last row; above it everywhere else")

# %% [markdown]
# ## Figure 1 of the paper, with trained discriminators
#
# Four frozen generators moving toward the data; for each, a discriminator trained from scratch
# (`theory.figure_1_stages` runs the loop above). As p_g approaches p_data, D* flattens toward ½,
# and the trained D follows it: at the end the discriminator cannot tell the two apart.

# %%
stages = ((1.0, 1.2), (2.5, 0.9), (3.5, 0.6), (MU_DATA, S_DATA))
results, panels = theory.figure_1_stages(stages, theory.TrainConfig(steps=STAGE_STEPS), mu_data=MU_DATA, s_data=S_DATA)
for (mu, s), r in zip(stages, results):
    print(f"p_g = N({mu}, {s}²): max |D - D*| = {r.max_error:.4f}, C(G) = {r.criterion:.4f}")
print("saved", save_discriminator_panels(OUT / "05_figure_1_stages.png", panels))
mg.set_default_dtype("float32")

# %% [markdown]
# **What this does and does not say.** The theorem assumes D is *optimal* at every step and G
# moves in function space. Real training takes a few D steps per G step with finite networks, so
# D is only near D* — which is why tutorial 04 needed the non-saturating loss, and why the
# Wasserstein loss of tutorial 07 replaces the JSD with a distance that still has useful gradients
# when p_g and p_data do not overlap (JSD is then stuck at log 2).
#
# `python -m minigan.theory` runs the full lab (a tighter D, a KDE when p_g is unknown, and the
# saturation table). **Next:** `06_digits.py`.
