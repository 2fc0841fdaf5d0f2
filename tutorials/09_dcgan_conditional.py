# %% [markdown]
# # 09 · Convolutions by hand, DCGAN, and a GAN that draws the digit you ask for
#
# Three steps. (1) A convolution is a matrix product in disguise: cut the image into patches
# ("im2col"), multiply by the flattened kernels, and its backward is two more matrix products —
# one of which is the *transposed* convolution that a DCGAN generator uses to grow images.
# (2) DCGAN (Radford et al. 2016) on the 8×8 digits: strided convolutions, BatchNorm, ReLU/LeakyReLU.
# (3) The conditional GAN (Mirza & Osindero 2014): G(z, y) and D(x, y) are both told the label y,
# so we can ask for a 7 and get one.

# %%
import os
import pathlib

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

import minigan as mg
import minigan.nn.functional as F
from minigan.data import DataLoader, load_dataset
from minigan.gan import GANTrainer
from minigan.gan.conditional import ConditionalDiscriminator, ConditionalGenerator
from minigan.gan.dcgan import dcgan_discriminator, dcgan_generator
from minigan.gradcheck import gradcheck
from minigan.metrics import class_balance, confident_share, load_classifier
from minigan.plot import save_image_grid

FAST = os.environ.get("MINIGAN_FAST") == "1"  # a few steps only: checks that the code runs
HERE = pathlib.Path(__file__).parent if "__file__" in globals() else pathlib.Path.cwd()  # notebooks have no __file__
OUT = pathlib.Path(os.environ.get("MINIGAN_TUTORIAL_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)
threadpool_limits(1, user_api="blas")  # 8x8 images: small products, one BLAS thread is fastest
mg.set_backend("numpy")
STEPS = 20 if FAST else 1500               # generator steps for each of the two GANs below

# %% [markdown]
# ## 1. A convolution is im2col + one matrix product
#
# For an image x of shape (C, H, W) and kernels w of shape (out, C, k, k), output pixel (o, i, j)
# is the dot product of kernel o with the k×k patch of x at (i, j) (PyTorch's convolution is
# really a cross-correlation: no kernel flip). `sliding_window_view` gives every patch as a
# *view* — no copy — and one reshape turns them into the rows of a matrix.

# %%
mg.set_default_dtype("float64")                  # float64 for exact comparisons (the GANs below use float32)
rng = np.random.default_rng(0)
x = rng.standard_normal((1, 2, 5, 5))            # (N, C, H, W)
w = rng.standard_normal((3, 2, 3, 3))            # (out, in, kh, kw): PyTorch's layout

patches = sliding_window_view(x, (3, 3), axis=(2, 3))        # (N, C, 3, 3, kh, kw): a view
cols = patches.transpose(0, 2, 3, 1, 4, 5).reshape(9, 2 * 3 * 3)   # one row per output pixel
by_hand = (cols @ w.reshape(3, -1).T).T.reshape(1, 3, 3, 3)
ours = F.conv2d(mg.tensor(x), mg.tensor(w)).numpy()
print("im2col by hand vs F.conv2d: max |difference| =", np.abs(by_hand - ours).max())

# %% [markdown]
# ## Its backward, by hand
#
# With y = cols · Wᵀ, the chain rule gives two products:
#
# * dL/dW = dyᵀ · cols  (the weight gradient: patches weighted by the output gradient);
# * dL/dcols = dy · W, and each patch's gradient is added back where the patch came from
#   ("col2im"). That sum-back is exactly a **transposed convolution** of dy with the same kernels.
#
# minigan writes conv2d's backward in those terms (conv_transpose2d and a weight-gradient
# Function whose backwards are each other), so the gradient is itself differentiable — a
# WGAN-GP critic with convolutions needs that. Here the hand-made gradients meet autograd's:

# %%
dy = rng.standard_normal((1, 3, 3, 3))
xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
(F.conv2d(xt, wt) * mg.tensor(dy)).sum().backward()

dcols = dy.reshape(3, 9).T @ w.reshape(3, -1)                        # (9 pixels, C*k*k)
dx_by_hand = np.zeros_like(x)
for p, (i, j) in enumerate(np.ndindex(3, 3)):                         # col2im: add each patch back
    dx_by_hand[0, :, i:i + 3, j:j + 3] += dcols[p].reshape(2, 3, 3)
dw_by_hand = (dy.reshape(3, 9) @ cols).reshape(w.shape)
print("dL/dx by hand vs autograd:", np.abs(dx_by_hand - xt.grad.numpy()).max())
print("dL/dW by hand vs autograd:", np.abs(dw_by_hand - wt.grad.numpy()).max())
print("the col2im sum is a transposed convolution:",
      np.abs(dx_by_hand - F.conv_transpose2d(mg.tensor(dy), mg.tensor(w)).numpy()).max())
print("gradcheck (float64, central differences) with stride 2, padding 1:",
      gradcheck(lambda a, b: F.conv2d(a, b, stride=2, padding=1),
                [mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)]))

# %% [markdown]
# ## 2. DCGAN on the digits
#
# The generator grows a 2×2 map of 64 channels into a 4×4 map of 32 and an 8×8 map of 16 with
# two transposed convolutions (kernel 4, stride 2, padding 1 doubles the size), and a 3×3
# convolution turns that map into the image (when a transposed convolution made the image
# directly, the 8×8 digits came out speckled like a checkerboard); the discriminator mirrors it
# with strided convolutions. BatchNorm everywhere except D's input and G's output,
# ReLU in G, LeakyReLU(0.2) in D, weights from N(0, 0.02), Adam 2e-4 (0.5, 0.999): Radford
# et al.'s recipe. The referee is minigan's digits classifier (trained on real digits on first use).

# %%
mg.set_default_dtype("float32")
data = load_dataset("digits")
referee = load_classifier("digits")
print(f"referee: {referee.accuracy:.1%} accurate on held-out real digits")

mg.manual_seed(0)
G, D = dcgan_generator(100, (8, 8)), dcgan_discriminator((8, 8))
loader = DataLoader(data.x, 64, drop_last=True, seed=0)
trainer = GANTrainer(G, D, loader.sample_batch, latent_dim=100, loss="nonsaturating")
for step in range(STEPS):
    trainer.step()
samples = trainer.generate(mg.randn(2000, 100)).numpy()
probs = referee.probs(samples)
print(f"DCGAN after {STEPS} steps: {confident_share(probs):.1%} of samples classified with confidence > 0.9; "
      f"class shares {np.round(class_balance(probs), 3)}")
print("saved", save_image_grid(OUT / "09_dcgan_digits.png", samples[:64].reshape(-1, 8, 8),
                               title=f"DCGAN, {STEPS} steps"))

# %% [markdown]
# ## 3. The conditional GAN: ask for a digit
#
# Both players get the label. G sees z beside a learned 10-number embedding of y; D sees the
# image with the label's embedding stacked on as 10 extra channels, so every convolution knows
# which digit the image claims to be. The fakes of each step are drawn for the labels of that
# step's real batch. After training we ask for ten of each digit — one row per class — and
# check how often the referee agrees with the label we asked for.

# %%
mg.manual_seed(0)
K = 10
cG = ConditionalGenerator(dcgan_generator(100 + K, (8, 8)), n_classes=K, embed_dim=K)
cD = ConditionalDiscriminator(dcgan_discriminator((8, 8), in_channels=1 + K, unflatten=False),
                              n_classes=K, embed_dim=K, image_shape=(8, 8))
labelled = DataLoader((data.x, data.y), 64, drop_last=True, seed=0)   # batches of (images, labels)
ctrainer = GANTrainer(cG, cD, labelled.sample_batch, latent_dim=100, loss="nonsaturating")
for step in range(STEPS):
    ctrainer.step()
asked = np.repeat(np.arange(K), 200)
samples = ctrainer.generate(mg.randn(len(asked), 100), mg.tensor(asked)).numpy()
agree = np.mean(referee.probs(samples).argmax(axis=1) == asked)
print(f"conditional DCGAN after {STEPS} steps: the referee agrees with the asked-for label on {agree:.1%} of samples")
rows = samples.reshape(K, 200, 64)[:, :10].reshape(-1, 8, 8)          # ten of each class, a row per class
print("saved", save_image_grid(OUT / "09_conditional_digits.png", rows, nrow=10, title="one row per asked-for digit"))

# %% [markdown]
# ## What to try
#
# * `python -m minigan.train --model dcgan` trains this DCGAN from the command line with twice the
#   channels (its recipe's `--width 2`) for 30,000 steps, and `--conditional` the conditional one;
#   `python -m minigan.sample --checkpoint ... --label 7` asks for sevens.
# * Replace the label embedding by a fixed one-hot code (Mirza & Osindero's original): does D
#   still learn the labels as fast?
# * Give the conditional D the label only at its input layer of a *vector* MLP (`--model small
#   --conditional`) and compare the agreement.
