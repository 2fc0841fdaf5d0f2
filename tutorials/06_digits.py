# %% [markdown]
# # 06 · A GAN that draws digits
#
# The same game as in tutorial 04, on images: x is an 8×8 handwritten digit flattened to 64
# numbers in [-1, 1], G maps 100-dimensional noise to 64 numbers through a Tanh, and D is an MLP
# ending in a sigmoid. We train with the non-saturating loss, Adam (lr 2e-4, β₁ = 0.5, as in
# DCGAN) and one D step per G step, look at samples as training goes, and ask a classifier to
# referee: do the fakes look like digits, and like *all ten* digits?

# %%
import os
import pathlib

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

import minigan as mg
from minigan.data import DataLoader, load_dataset
from minigan.gan import GANTrainer, make_discriminator, make_generator
from minigan.plot import image_grid, save_image_grid, save_loss_curves

FAST = os.environ.get("MINIGAN_FAST") == "1"  # a few steps only: checks that the code runs
HERE = pathlib.Path(__file__).parent if "__file__" in globals() else pathlib.Path.cwd()  # notebooks have no __file__
OUT = pathlib.Path(os.environ.get("MINIGAN_TUTORIAL_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)
threadpool_limits(1, user_api="blas")  # tiny matrices: one BLAS thread is faster (far faster on a busy machine)
mg.set_backend("numpy")
mg.manual_seed(0)

STEPS = 30 if FAST else 3000                      # generator steps (about 107 epochs of 28 batches)
SNAPSHOTS = (0, 10, 30) if FAST else (0, 250, 1000, STEPS)
LATENT = 100

# %% [markdown]
# ## The data
#
# scikit-learn ships 1,797 digits of 8×8 pixels, each pixel a count 0..16; `load_dataset`
# scales them to [-1, 1], the range of a Tanh generator. No download needed. Here are 64 of them.

# %%
data = load_dataset("digits")
print(f"digits: x {data.x.shape} in [{data.x.min():.0f}, {data.x.max():.0f}], labels {np.bincount(data.y)}")
path = save_image_grid(OUT / "06_real_digits.png", data.x[:64].reshape(-1, 8, 8), title="real digits")
print("saved", path)

# %% [markdown]
# ## The referee
#
# A logistic-regression classifier trained on real digits. On generated samples it tells us
# (1) how confident it is — real digits get high confidence, smudges do not — and (2) which
# classes G produces. A generator that draws only 1s and 7s has **collapsed** onto a few
# modes of the data, however good each sample looks.

# %%
rng = np.random.default_rng(0)
order = rng.permutation(len(data.x))
train_rows, test_rows = order[:1400], order[1400:]
referee = LogisticRegression(max_iter=5000).fit(data.x[train_rows], data.y[train_rows])
real_conf = referee.predict_proba(data.x[test_rows]).max(axis=1)
print(f"referee: accuracy on held-out real digits {referee.score(data.x[test_rows], data.y[test_rows]):.3f}, "
      f"mean confidence {real_conf.mean():.3f}")


def referee_report(samples):
    probs = referee.predict_proba(samples)
    counts = np.bincount(probs.argmax(axis=1), minlength=10)
    return probs.max(axis=1).mean(), counts

# %% [markdown]
# ## The models and the trainer
#
# The "small" preset: G = 100 → 128 → 256 → 64 with LeakyReLU(0.2) and a Tanh output,
# D = 64 → 256 → 128 → 1 with LeakyReLU(0.2) and a Sigmoid. `GANTrainer.step()` does one round of
# Algorithm 1 and returns the numbers worth watching:
#
# * `d_real`, `d_fake`: the mean of D(x) on real and fake batches. At the game's equilibrium both
#   would be ½. In practice D stays ahead (here about 0.75 and 0.25); if d_fake sinks to ~0 and
#   stays there, G has lost the game and stops learning (tutorial 04).
# * `d_loss`, `g_loss`: the two losses. They do **not** go to zero in a healthy GAN; at the
#   equilibrium they would be d_loss = 2 log 2 ≈ 1.386 and g_loss = log 2 ≈ 0.693.

# %%
G = make_generator("small", latent_dim=LATENT, data_dim=data.dim)   # Tanh output: images in [-1, 1]
D = make_discriminator("small", data.dim)                           # Sigmoid output: P(real)
print(G)
loader = DataLoader(data.x, batch_size=64, drop_last=True)          # uploaded to the backend once
trainer = GANTrainer(G, D, loader.sample_batch, latent_dim=LATENT, loss="nonsaturating")
z_fixed = mg.tensor(np.random.default_rng(1).standard_normal((64, LATENT)))  # same noise for every snapshot

# %% [markdown]
# ## Training

# %%
snapshots, history = {}, {k: [] for k in ("step", "d_loss", "g_loss", "d_real", "d_fake")}
for step in range(STEPS + 1):
    if step in SNAPSHOTS:
        with mg.no_grad():  # (a model with BatchNorm or Dropout would also want G.eval() here)
            snapshots[step] = G(z_fixed).numpy()
        confidence, counts = referee_report(snapshots[step])
        print(f"step {step:5d}: referee confidence {confidence:.3f}, classes drawn {counts}")
    if step == STEPS:
        break
    metrics = trainer.step()
    for key in history:
        history[key].append(metrics[key])
    if (step + 1) % max(1, STEPS // 6) == 0:
        recent = {k: np.mean(v[-100:]) for k, v in history.items() if k != "step"}
        print(f"step {step + 1:5d}: d_loss {recent['d_loss']:.3f}  g_loss {recent['g_loss']:.3f}  "
              f"D(x) {recent['d_real']:.3f}  D(G(z)) {recent['d_fake']:.3f}  (means of the last 100 steps)")

# %% [markdown]
# ## What came out
#
# The same 64 noise vectors at each snapshot. Step 0 is noise around 0 (gray). Look for a snapshot
# where all 64 samples are the *same* digit: when we ran it, at step 250 every sample was an 8 —
# **mode collapse**: G found one image that fooled D and sent all of z there. D then learns to
# reject that image, G moves on, and by the last snapshot the samples differ again. The referee's
# class counts tell the same story in numbers, and still show a bias toward a few classes at the
# end: mode coverage is a question to ask of every GAN (tutorial 07 measures it).
#
# The loss curves do not decrease to zero; they level off. A GAN's losses tell you whether the game
# is balanced, not how good the samples are — for that, look at samples and referees.

# %%
fig, axes = plt.subplots(1, len(snapshots), figsize=(3 * len(snapshots), 3.3))
for ax, (step, samples) in zip(axes, snapshots.items()):
    ax.imshow(image_grid(samples.reshape(-1, 8, 8), pad=1, pad_value=0.0), cmap="gray", vmin=-1, vmax=1)
    ax.set_title(f"step {step}")
    ax.set_axis_off()
fig.suptitle("the same 64 noise vectors through G during training")
fig.tight_layout()
fig.savefig(OUT / "06_samples_during_training.png")
print("saved", OUT / "06_samples_during_training.png")

final = snapshots[STEPS]
print("saved", save_image_grid(OUT / "06_final_samples.png", final.reshape(-1, 8, 8),
                               title=f"generated digits after {STEPS} steps"))
print("saved", save_loss_curves(OUT / "06_losses.png", history, title="digits, non-saturating loss"))

with mg.no_grad():
    many = G(mg.randn(1000, LATENT)).numpy()
confidence, counts = referee_report(many)
print(f"1000 fresh samples: referee confidence {confidence:.3f} (real digits: {real_conf.mean():.3f}), "
      f"classes {counts}, {np.count_nonzero(counts >= 20)} of 10 classes with >= 2% of the samples")

# %% [markdown]
# ## MNIST
#
# The same code trains on MNIST's 28×28 digits; only the data and the model size change. The
# command-line trainer downloads the IDX files on first use (or reads them from `--data-dir`) and
# writes sample grids, loss curves, metrics and checkpoints:
#
#     python -m minigan.train --dataset mnist --epochs 30                 # the "mlp" preset
#     python -m minigan.train --dataset mnist --backend cupy --epochs 30  # on a GPU, see tutorial 08
#
# **Next:** `07_wgan_gp_mode_collapse.py` — when the generator drops modes, and what the
# Wasserstein loss with a gradient penalty changes.
