# %% [markdown]
# # 07 · Mode collapse, and the Wasserstein GAN with gradient penalty
#
# A generator can fool the discriminator without learning the whole data distribution: it is
# enough to produce *some* convincing samples. When it concentrates on a few modes of the data
# and ignores the rest, that is **mode collapse** (tutorial 06 caught a glimpse of it: every sample
# an 8). Two standard 2-D test sets make it measurable:
#
# * the **ring**: 8 Gaussians (std 0.01) on the unit circle;
# * the **grid**: 25 Gaussians (std 0.05) at {-4, -2, 0, 2, 4}².
#
# and `mode_coverage` counts, as in VEEGAN and PacGAN: a sample is *high quality* if it lies
# within 3 std of its nearest mode; a mode is *covered* if at least one high-quality sample has it
# as its nearest mode.
#
# WGAN-GP (Gulrajani et al., 2017) changes the game. The discriminator becomes a **critic** C(x)
# with an unbounded output, trained to estimate the Wasserstein-1 distance
#
#     W(p_data, p_g) = max over 1-Lipschitz C of  E_data[C(x)] - E_g[C(x)]
#
# and the 1-Lipschitz constraint is encouraged by a penalty λ·E[(‖∇ₓC(x̂)‖ - 1)²] on random
# interpolates x̂ between real and fake samples — a gradient of a gradient (tutorial 01's
# `create_graph=True`). Unlike the JSD of tutorial 05, W keeps a useful gradient even when the
# generator's samples miss the data entirely.

# %%
import os
import pathlib
import time

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits

import minigan as mg
from minigan.data import DataLoader, load_dataset, mode_coverage
from minigan.gan import GANTrainer, discriminator_output, make_discriminator, make_generator
from minigan.gan.recipes import lr_factor, resolve
from minigan.plot import save_scatter_2d

FAST = os.environ.get("MINIGAN_FAST") == "1"  # a few steps only: checks that the code runs
HERE = pathlib.Path(__file__).parent if "__file__" in globals() else pathlib.Path.cwd()  # notebooks have no __file__
OUT = pathlib.Path(os.environ.get("MINIGAN_TUTORIAL_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)
threadpool_limits(1, user_api="blas")  # tiny matrices: one BLAS thread is faster (far faster on a busy machine)
mg.set_backend("numpy")

# generator steps per run: the recipes' own lengths are for the command line; these fit a minute
STEPS = {("ring", "nonsaturating"): 40 if FAST else 3000, ("grid", "nonsaturating"): 40 if FAST else 3000,
         ("ring", "wgan-gp"): 8 if FAST else 300}
EVAL_EVERY = 10 if FAST else 100

# %% [markdown]
# ## The metric on samples we make by hand
#
# Before training anything, check what `mode_coverage` says about three fakes we construct: real
# samples, a generator that collapsed onto one mode, and a blurry one that is near every mode but
# precisely at none.

# %%
ring, grid = load_dataset("ring"), load_dataset("grid")
rng = np.random.default_rng(0)
collapsed = ring.modes[0] + ring.std * rng.standard_normal((2500, 2))
blurry = ring.x[:2500] + 0.1 * rng.standard_normal((2500, 2))
checks = (("real ring samples", ring.x[:2500], ring), ("collapsed onto one mode", collapsed, ring),
          ("blurry ring (std 0.1)", blurry, ring), ("real grid samples", grid.x[:2500], grid))
for name, samples, data in checks:
    covered, quality = mode_coverage(samples, data.modes, data.std)
    print(f"{name:25s}: {covered:2d} of {len(data.modes)} modes covered, {100 * quality:5.1f}% high quality")

# %% [markdown]
# ## Training with the recipes, the coverage recorded as we go
#
# Every setting comes from minigan's recipe table (`minigan/gan/recipes.py`, what
# `python -m minigan.train --dataset ring --loss nonsaturating` uses): the "toy" preset (G is
# 16 → 128 → 128 → 128 → 2 with ReLU, D is 2 → 128 → 128 → 128 → 1 with LeakyReLU 0.2, ending
# in a sigmoid for the non-saturating GAN and in nothing at all for the WGAN critic), Adam, and
# for each loss its learning rates, schedule, k and penalty weight. Only the length is ours: the
# runs here are shorter than the recipes' so that the whole tutorial takes about a minute, and
# the learning-rate schedule is stretched over the shorter run. `resolve` prints where a row
# comes from; the table's docstrings hold what each full recipe measured over five seeds.
#
# Two recipe settings are worth a look. The learning rate decays (linearly, over the second
# half) to 1% of its start: the two players' oscillation settles and the samples sharpen. And
# the samples come from an exponential moving average of the generator's weights (`ema`), the
# centre of that oscillation: `trainer.generate(z)` uses it.

# %%
def train(data, loss, steps):
    r, source = resolve(data.name, loss, {"steps": steps})
    mg.manual_seed(0)
    loader = DataLoader(data.x, batch_size=r["batch_size"], drop_last=True, seed=0)
    G = make_generator(r["model"], r["latent_dim"], data.dim, image=False)
    D = make_discriminator(r["model"], data.dim, output=discriminator_output(loss))
    schedule = lr_factor(r["lr_schedule"], steps, r["lr_final"], r["lr_decay_start"])
    trainer = GANTrainer(G, D, loader.sample_batch, r["latent_dim"], loss=loss, d_steps=r["d_steps"],
                         lr_g=r["lr_g"], lr_d=r["lr_d"], betas=r["betas"], gp_weight=r["gp_weight"],
                         ema=r["ema"], lr_lambda=schedule)
    z_eval = mg.tensor(np.random.default_rng(1).standard_normal((2500, r["latent_dim"])))
    record, snapshots, start = [], {}, time.perf_counter()
    for step in range(1, steps + 1):
        trainer.step()
        if step % EVAL_EVERY == 0 or step == steps:
            samples = trainer.generate(z_eval).numpy()
            covered, quality = mode_coverage(samples, data.modes, data.std)
            record.append((step, covered, quality))
            snapshots[step] = samples
    seconds = time.perf_counter() - start
    print(f"{data.name} {loss:13s} ({source}):\n    {steps} steps in {seconds:4.1f} s -> {covered} of "
          f"{len(data.modes)} modes, {100 * quality:.1f}% high quality;  modes covered along the way: "
          f"{[r[1] for r in record]}")
    trainer.seconds_per_step = seconds / steps
    return trainer, np.array(record), snapshots


runs = {(name, loss): train(ring if name == "ring" else grid, loss, steps) for (name, loss), steps in STEPS.items()}

# %% [markdown]
# ## Looking at the samples
#
# Scatter plots of the final samples (green) over the true modes (black crosses), and the ring
# run of the non-saturating GAN at four moments. Things to look for:
#
# * how many crosses have green points *on* them (covered), and how much green lies between
#   crosses (low quality);
# * whether the non-saturating generator's set of covered modes grows steadily or jumps around —
#   a generator that moves from mode to mode, chased by the discriminator, is collapse in motion;
# * on the grid, which modes are missing.

# %%
for (name, loss), (trainer, record, snapshots) in runs.items():
    data = ring if name == "ring" else grid
    step, covered, quality = record[-1]
    path = save_scatter_2d(OUT / f"07_{name}_{loss}.png", snapshots[int(step)], modes=data.modes,
                           data_samples=data.x[:1000],
                           title=f"{name}, {loss}: step {int(step)}, {int(covered)}/{len(data.modes)} modes, "
                                 f"{100 * quality:.0f}% HQ")
    print("saved", path)

_, record, snapshots = runs[("ring", "nonsaturating")]
shown = [int(record[i, 0]) for i in np.linspace(0, len(record) - 1, 4).round().astype(int)]
fig, axes = plt.subplots(1, 4, figsize=(13, 3.8), sharex=True, sharey=True, layout="constrained")
for ax, step in zip(axes, shown):
    ax.scatter(*snapshots[step].T, s=2, color="tab:green", alpha=0.5)
    ax.scatter(*ring.modes.T, marker="x", color="k")
    covered, quality = mode_coverage(snapshots[step], ring.modes, ring.std)
    ax.set(title=f"step {step}: {covered}/8 modes, {100 * quality:.0f}% HQ", xlim=(-1.6, 1.6), ylim=(-1.6, 1.6),
           aspect="equal")
fig.suptitle("ring, non-saturating GAN, the same noise at four moments")
fig.savefig(OUT / "07_ring_nonsaturating_snapshots.png")
print("saved", OUT / "07_ring_nonsaturating_snapshots.png")

fig, ax = plt.subplots(figsize=(6, 3.5))
for (name, loss), (_, record, _) in runs.items():
    total = len(ring.modes if name == "ring" else grid.modes)
    ax.plot(record[:, 0], record[:, 1] / total, marker=".", label=f"{name}, {loss} (of {total})")
ax.set(xlabel="generator step", ylabel="fraction of modes covered", ylim=(0, 1.05),
       title="mode coverage during training")
ax.legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUT / "07_mode_coverage.png")
print("saved", OUT / "07_mode_coverage.png")

# %% [markdown]
# ## What the gradient penalty does, in numbers
#
# The penalty λ·E[(‖∇ₓC(x̂)‖ - 1)²] pulls the critic's gradient norm toward 1 on interpolates
# x̂ = εx + (1-ε)G(z). How hard it pulls is λ: the paper uses 10 for images, and its toy code 0.1
# ("smaller lambda seems to help for toy tasks specifically"), which is what the ring recipe
# uses. Below we measure the norm for the trained critic and for a freshly initialized one: how
# far has training moved it from where the initialization put it, and how close to 1 does a
# soft constraint with this λ hold it? (The critic's values themselves have no fixed scale: only
# differences C(x) - C(G(z)) matter.)

# %%
critic_trainer = runs[("ring", "wgan-gp")][0]


def gradient_norms(critic, generator, n=1000):
    real = mg.tensor(ring.x[:n])
    with mg.no_grad():
        fake = generator(mg.randn(n, critic_trainer.latent_dim))
    eps = mg.rand(n, 1)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = mg.grad(critic(x_hat).sum(), [x_hat])
    return np.sqrt((g.numpy() ** 2).sum(axis=1))


mg.manual_seed(1)
fresh_critic = make_discriminator("toy", 2, output="critic")
for name, critic in (("fresh critic", fresh_critic), ("trained critic", critic_trainer.D)):
    norms = gradient_norms(critic, critic_trainer.G)
    print(f"{name:15s}: ‖∇C(x̂)‖ mean {norms.mean():.3f}, std {norms.std():.3f}, "
          f"5-95% range [{np.percentile(norms, 5):.2f}, {np.percentile(norms, 95):.2f}]")

# the critic's landscape with the fakes on it: G's loss is -mean C(G(z)), so G moves its samples uphill
xs, ys = np.meshgrid(np.linspace(-2, 2, 121), np.linspace(-2, 2, 121))
with mg.no_grad():
    values = critic_trainer.D(mg.tensor(np.stack([xs.ravel(), ys.ravel()], axis=1))).numpy().reshape(xs.shape)
fake = runs[("ring", "wgan-gp")][2][int(runs[("ring", "wgan-gp")][1][-1, 0])]
fig, ax = plt.subplots(figsize=(5.5, 4.5))
contour = ax.contourf(xs, ys, values, levels=20, cmap="viridis")
fig.colorbar(contour, ax=ax, label="C(x)")
ax.scatter(*fake[:500].T, s=3, color="w", alpha=0.6, label="G(z)")
ax.scatter(*ring.modes.T, marker="x", color="r", label="true modes")
ax.set(title="the WGAN-GP critic on the ring", aspect="equal", xlim=(-2, 2), ylim=(-2, 2))
ax.legend(fontsize="small", loc="lower right")
fig.tight_layout()
fig.savefig(OUT / "07_wgan_gp_critic.png")
print("saved", OUT / "07_wgan_gp_critic.png")

# %% [markdown]
# ## Reading the results honestly
#
# The numbers below are this run's, one seed each: an anecdote, not a result. A result is a
# distribution over seeds, which is what the recipe table records for the full-length recipes
# (`python -m minigan.reproduce recipes --seeds 5` re-measures them, five seeds per row, through the
# command line exactly as a user runs it). Things to check in the printout:
#
# * what one WGAN-GP generator step costs: k = 5 critic steps first, each with a double backward
#   for the penalty;
# * how the two losses spend their budget: the non-saturating GAN gets ten times the generator
#   steps here, and typical of it, its coverage can jump around and it can lose modes it had
#   (the PacGAN paper reports 6.3 of 8 ring modes and 17.3 of 25 grid modes for a plain GAN after
#   long training).

# %%
ns, wgan = runs[("ring", "nonsaturating")][0], runs[("ring", "wgan-gp")][0]
print(f"one WGAN-GP generator step took {wgan.seconds_per_step / ns.seconds_per_step:.1f}x a non-saturating one")
for (name, loss), (_, record, _) in runs.items():
    step, covered, quality = record[-1]
    print(f"{name:4s} {loss:13s}: {int(step):5d} steps, {int(covered):2d} modes, {100 * quality:5.1f}% high quality")

# %% [markdown]
# **Try it:** the full recipes from the command line (each a few minutes at most on 2 cores);
# compare the `samples.png` and `progress.png` they write:
#
#     python -m minigan.train --dataset ring --loss nonsaturating
#     python -m minigan.train --dataset ring --loss nonsaturating --pack 2    # PacGAN2
#     python -m minigan.train --dataset ring --loss wgan-gp
#     python -m minigan.train --dataset grid --loss nonsaturating
#
# **Next:** `08_cupy_backend.py` — the same code on a GPU.
