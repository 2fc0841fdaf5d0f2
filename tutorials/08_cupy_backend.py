# %% [markdown]
# # 08 · Backends: NumPy, CuPy, and a GPU stand-in for catching GPU bugs on a laptop
#
# Everything so far ran on NumPy. CuPy is a NumPy look-alike whose arrays live on an NVIDIA GPU,
# so the same minigan code runs there after one call, `mg.set_backend("cupy")`. This tutorial
# explains how that works, shows the one kind of bug it brings — mixing host (NumPy) arrays into
# device code — and how minigan's **strict** backend catches that bug on a machine without a GPU.
# Without CuPy or a GPU, the GPU part explains itself and is skipped; everything else still runs.
#
# (No figures in this one: it prints what it shows.)

# %%
import os
import time

import numpy as np

import minigan as mg
from minigan.data import DataLoader, load_dataset
from minigan.gan import GANTrainer, make_discriminator, make_generator
from minigan.strict import MixedArrayError
from minigan.tensor import Function

FAST = os.environ.get("MINIGAN_FAST") == "1"  # fewer timed steps
TIMED_STEPS = 3 if FAST else 30

# %% [markdown]
# ## What a backend is
#
# A backend bundles what differs between devices: the array namespace `xp` (`numpy` or `cupy`,
# both speak the NumPy API), a seeded random generator, and the only two doors between host and
# device — `backend.asarray` (host → device; `mg.tensor(...)` uses it) and `backend.to_numpy`
# (device → host; `tensor.numpy()` uses it). Every op is written once, against `xp`, so it runs
# on either device. Each tensor remembers its backend.

# %%
be = mg.set_backend("numpy")
x = mg.tensor([1.0, 2.0, 3.0])
print("current backend:", mg.get_backend(), "| x.backend:", x.backend, "| x.data is a", type(x.data).__name__)
print("the op code sees xp =", x.backend.xp.__name__, "; x.numpy() ->", type(x.numpy()).__name__)

# %% [markdown]
# ## The classic GPU bug
#
# On a GPU, `cupy_array + numpy_array` raises `TypeError`, and so does `np.asarray(cupy_array)`:
# CuPy refuses to move data between host and device behind your back. On the NumPy backend the
# same code is fine, because there *is* no difference — so the bug hides until the first GPU run.
#
# Here is a typical one: "instance noise" (adding a little noise to D's inputs, a GAN
# stabilization trick) written as a custom op that draws the noise with NumPy.

# %%
class InstanceNoise(Function):
    """x + sigma * eps with eps ~ N(0, 1); the gradient passes straight through."""

    def forward(self, x, sigma):
        return x + sigma * np.random.default_rng(0).standard_normal(x.shape)  # BUG: a host array

    def backward(self, grad):
        return (grad,)


class InstanceNoiseFixed(Function):
    def forward(self, x, sigma):
        return x + sigma * self.backend.randn(x.shape, x.dtype)  # drawn on the tensor's own device

    def backward(self, grad):
        return (grad,)


mg.set_backend("numpy")
x = mg.randn(4, 2)
print("numpy backend, buggy op :", InstanceNoise.apply(x, sigma=0.1).shape, "(works: the bug is invisible here)")

# %% [markdown]
# ## The strict backend: a GPU stand-in
#
# `mg.set_backend("strict")` wraps NumPy arrays in a `StrictArray` that behaves like a CuPy array:
# it refuses to meet a NumPy array and refuses implicit conversion to one. It needs no GPU, so the
# test suite runs every op on it; a bug like the one above fails on a laptop, with a message that
# says what to do.

# %%
mg.set_backend("strict")
mg.manual_seed(0)
x = mg.randn(4, 2)
print("strict backend: x.data is a", type(x.data).__name__)
try:
    InstanceNoise.apply(x, sigma=0.1)
except MixedArrayError as err:
    print("buggy op  ->", type(err).__name__ + ":", err)
print("fixed op  -> shape", InstanceNoiseFixed.apply(x, sigma=0.1).shape)

# the same refusals at the tensor level, and the right doors
try:
    x + np.ones((4, 2))
except TypeError as err:
    print("x + numpy array ->", err)
print("x + mg.tensor(numpy array) works:", (x + mg.tensor(np.ones((4, 2)))).shape)
try:
    np.asarray(x.data)
except MixedArrayError as err:
    print("np.asarray(x.data) ->", err)
print("x.numpy() is the door to the host:", type(x.numpy()).__name__)

# tensors of different backends never meet silently either
on_numpy = mg.tensor([1.0, 2.0, 3.0]).to("numpy")
try:
    mg.tensor([1.0, 2.0, 3.0]) + on_numpy
except RuntimeError as err:
    print("strict + numpy tensors ->", err)

# %% [markdown]
# The library itself is clean: a whole GAN training step runs on the strict backend.

# %%
data = load_dataset("digits")
loader = DataLoader(data.x, batch_size=64, drop_last=True)  # built while "strict" is current
G = make_generator("small", latent_dim=100, data_dim=data.dim)
D = make_discriminator("small", data.dim)
trainer = GANTrainer(G, D, loader.sample_batch, latent_dim=100)
metrics = trainer.step()
print(f"one GAN step on the strict backend: d_loss {metrics['d_loss']:.4f}, g_loss {metrics['g_loss']:.4f}")

# %% [markdown]
# ## The real thing: CuPy on a GPU
#
# Install with `pip install -e ".[cuda12]"` on a machine with an NVIDIA GPU. `set_backend("cupy")`
# raises a `RuntimeError` that says what is missing (CuPy, or a usable GPU); we catch it and skip.
# When it works we time the MNIST-sized "mlp" preset (3 M parameters) on both devices. GPU work is
# asynchronous, so timings call `backend.synchronize()` before reading the clock.

# %%
def ms_per_step(backend_name, steps):
    """Time GAN steps of the "mlp" preset (784-dim data) on one backend, after a warm-up step."""
    backend = mg.set_backend(backend_name)
    backend.manual_seed(0)
    x = np.random.default_rng(0).uniform(-1, 1, (1024, 784)).astype(np.float32)  # stand-in data
    loader = DataLoader(x, batch_size=128, drop_last=True)
    trainer = GANTrainer(make_generator("mlp", 100, 784), make_discriminator("mlp", 784), loader.sample_batch, 100)
    trainer.step()  # warm-up: allocations, kernel compilation on a GPU
    backend.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.step()
    backend.synchronize()
    return 1000 * (time.perf_counter() - start) / steps


try:
    mg.set_backend("cupy")
except RuntimeError as err:
    print("CuPy backend not available, GPU part skipped:\n ", err)
    print("Everything above ran without a GPU; the strict backend is how minigan's tests stand in for one.")
else:
    y = mg.randn(3)
    print("on the GPU: y.data is a", type(y.data).__module__ + "." + type(y.data).__name__, "| y.numpy():", y.numpy())
    gpu = ms_per_step("cupy", TIMED_STEPS)
    cpu = ms_per_step("numpy", TIMED_STEPS)
    print(f"mlp preset, batch 128: numpy {cpu:.1f} ms/step, cupy {gpu:.1f} ms/step ({cpu / gpu:.1f}x)")
    print("command line: python -m minigan.train --dataset mnist --backend cupy")
finally:
    mg.set_backend("numpy")

# %% [markdown]
# **Rules of thumb for code that runs on both backends** — ask the tensor for its namespace
# (`t.backend.xp`) instead of importing numpy in device code; draw random numbers from the backend
# (`mg.randn`, `backend.randn`); cross between host and device only through `mg.tensor(...)` and
# `.numpy()`; and run your tests on `"strict"` too.
#
# That is the end of the sequence. Where to go from here: the assignments in `minigan/assignments`
# (graded by `python -m minigan.grade`), and `python -m minigan.train --help`.
