"""Time one DCGAN training iteration on MNIST shapes: minigan against PyTorch CPU eager.

One iteration = one D step on a real and a fake batch and one G step with the non-saturating loss,
D frozen; the models are minigan's ``dcgan`` preset (minigan/gan/dcgan.py) for 28x28 images and the
same layers written in torch.nn, BCE, Adam(2e-4, betas (0.5, 0.999)), float32, batch 64.

    python benchmarks/bench_dcgan.py                 # 2 threads, batch 64
    python benchmarks/bench_dcgan.py --threads 1 --repeats 5
    python benchmarks/bench_dcgan.py --breakdown     # also: how much of each is matrix products

Both run from identical weights on identical inputs; before timing, a few iterations must end
with the same G output (float32 tolerance). The two run interleaved (A, B, A, B, ...) in one
process and the median of the per-pair ratios is printed: absolute times drift on busy machines.
Needs torch (pip install torch); minigan's own tests never import it.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
import minigan as mg  # noqa: E402
from minigan import optim  # noqa: E402
from minigan.gan import d_minimax_loss, g_nonsaturating_loss  # noqa: E402
from minigan.gan.dcgan import dcgan_discriminator, dcgan_generator  # noqa: E402

LATENT, SHAPE, LR, BETAS = 100, (28, 28), 2e-4, (0.5, 0.999)


class MiniganDCGAN:
    name = "minigan"

    def __init__(self, seed):
        mg.manual_seed(seed)
        self.G, self.D = dcgan_generator(LATENT, SHAPE), dcgan_discriminator(SHAPE)
        self.opt_g = optim.Adam(self.G.parameters(), lr=LR, betas=BETAS)
        self.opt_d = optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)

    def step(self, real, z):
        real, z = mg.tensor(real), mg.tensor(z)
        with mg.no_grad():
            fake = self.G(z)
        # D has BatchNorm: real and fake batches go through it separately, as in the trainer
        d_loss = d_minimax_loss(self.D(real), self.D(fake))
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        g_loss = g_nonsaturating_loss(self.D(self.G(z)))
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)

    def output(self, z):
        with mg.no_grad():
            return self.G(mg.tensor(z)).numpy()


class TorchDCGAN:
    name = "torch"

    def __init__(self, minigan_model):
        import torch
        from torch import nn
        self.torch = torch
        side, start, (c0, c1) = 28, 7, (128, 64)
        self.G = nn.Sequential(
            nn.Linear(LATENT, c0 * start * start, bias=False), nn.BatchNorm1d(c0 * start * start), nn.ReLU(),
            nn.Unflatten(1, (c0, start, start)),
            nn.ConvTranspose2d(c0, c1, 4, 2, 1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, 2, 1), nn.Tanh(), nn.Flatten())
        self.D = nn.Sequential(
            nn.Unflatten(1, (1, side, side)), nn.Conv2d(1, c1, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c1, c0, 4, 2, 1, bias=False), nn.BatchNorm2d(c0), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(c0 * start * start, 1), nn.Sigmoid())
        for mine, theirs in ((minigan_model.G, self.G), (minigan_model.D, self.D)):   # identical weights
            theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in mine.state_dict().items()})
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS)
        self.bce = nn.BCELoss()

    def step(self, real, z):
        torch = self.torch
        real, z = torch.from_numpy(real), torch.from_numpy(z)
        with torch.no_grad():
            fake = self.G(z)
        p_real, p_fake = self.D(real), self.D(fake)
        d_loss = self.bce(p_real, torch.ones_like(p_real)) + self.bce(p_fake, torch.zeros_like(p_fake))
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        p_gen = self.D(self.G(z))
        g_loss = self.bce(p_gen, torch.ones_like(p_gen))
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)

    def output(self, z):
        with self.torch.no_grad():
            return self.G(self.torch.from_numpy(z)).numpy()


def make_inputs(batch, count, seed):
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, (batch, SHAPE[0] * SHAPE[1])).astype(np.float32),
             rng.standard_normal((batch, LATENT), dtype=np.float32)) for _ in range(count)]


def cross_check(batch=16, seed=0):
    """From the same weights on the same batch, one iteration gives both the same G(z) and the same
    gradients of every parameter (relative to the largest entry). Compared after one step only:
    Adam's first updates are about lr * sign(g), so float32 noise on tiny gradients flips signs
    and trajectories drift apart by ~lr per step without anything being wrong."""
    mine = MiniganDCGAN(seed)
    theirs = TorchDCGAN(mine)
    (real, z), = make_inputs(batch, 1, seed + 1)
    out_diff = float(np.max(np.abs(mine.output(z) - theirs.output(z))))
    mine.step(real, z)
    theirs.step(real, z)
    worst = 0.0
    for a, b in ((mine.G, theirs.G), (mine.D, theirs.D)):
        for (name, p), q in zip(a.named_parameters(), b.parameters()):
            g, h = p.grad.numpy(), q.grad.numpy()
            worst = max(worst, float(np.max(np.abs(g - h)) / (np.max(np.abs(h)) + 1e-30)))
    if not (out_diff < 1e-5 and worst < 1e-3):
        raise SystemExit(f"cross-check FAILED: G outputs differ by {out_diff:.3g}, gradients by {worst:.3g} (relative)")
    print(f"cross-check: G outputs agree to {out_diff:.2g}, every gradient to {worst:.2g} (relative to its largest entry)")


def breakdown(gans, inputs, rounds=4):
    """Where each iteration's time goes: minigan's matrix products (numpy.matmul timed by a thin
    wrapper) and torch's convolution and matmul kernels (self time under torch.profiler), against
    each one's whole iteration (wall time), so the work both must do is told apart from everything
    around it. The scopes differ a little: torch's convolution kernels include their own im2col,
    reorders and bias gradients, which minigan does outside its products; and minigan's products
    with an inner size of 1 (D's last Linear, backward) are a broadcast multiply, not counted."""
    from torch.profiler import ProfilerActivity, profile
    mine, theirs = gans
    matmul, spent = np.matmul, []

    def timed_matmul(*args, **kwargs):
        start = time.perf_counter()
        out = matmul(*args, **kwargs)
        spent.append(time.perf_counter() - start)
        return out

    np.matmul = timed_matmul          # the conv and linear ops call xp.matmul, i.e. numpy.matmul here
    try:
        start = time.perf_counter()
        for _ in range(rounds):
            for real, z in inputs:
                mine.step(real, z)
        total = time.perf_counter() - start
    finally:
        np.matmul = matmul
    n = rounds * len(inputs)
    print(f"  minigan: {sum(spent) / n * 1e3:6.1f} ms of {total / n * 1e3:6.1f} ms per iteration in "
          f"{len(spent) // n} matrix products")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(rounds):
            for real, z in inputs:
                theirs.step(real, z)
        total = (time.perf_counter() - start) * 1e6        # microseconds, as the profiler counts
    # "conv" catches the mkldnn and the slow paths (aten::slow_conv_transpose2d, ...) alike; the
    # autograd nodes (ConvolutionBackward0) only call them, and self time never counts a callee twice
    kernels = sum(e.self_cpu_time_total for e in prof.key_averages()
                  if e.key.startswith("aten::") and ("conv" in e.key or e.key in ("aten::mm", "aten::addmm", "aten::bmm")))
    print(f"  torch:   {kernels / n / 1e3:6.1f} ms of {total / n / 1e3:6.1f} ms per iteration in convolution and "
          "matmul kernels (their self CPU time under torch.profiler; the whole under the profiler too)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2, help="BLAS / torch intra-op threads for both")
    p.add_argument("--repeats", type=int, default=11, help="interleaved pairs of timed blocks")
    p.add_argument("--inner", type=int, default=3, help="iterations per timed block")
    p.add_argument("--breakdown", action="store_true",
                   help="afterwards, the time each spends in matrix products / convolution kernels")
    args = p.parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        cross_check()
        mine = MiniganDCGAN(0)
        gans = [mine, TorchDCGAN(mine)]
        inputs = make_inputs(args.batch, args.inner, 1)
        times = {g.name: [] for g in gans}
        for g in gans:                       # warm-up
            g.step(*inputs[0])
        for _ in range(args.repeats):
            for g in gans:
                start = time.perf_counter()
                for real, z in inputs:
                    g.step(real, z)
                times[g.name].append((time.perf_counter() - start) / args.inner)
    ratios = [a / b for a, b in zip(times["minigan"], times["torch"])]
    print(f"DCGAN iteration, MNIST shapes, batch {args.batch}, float32, {args.threads} threads, torch {torch.__version__}")
    for name, t in times.items():
        print(f"  {name:8s} median {statistics.median(t) * 1e3:7.1f} ms per iteration")
    print(f"  minigan / torch: median of {len(ratios)} interleaved ratios {statistics.median(ratios):.2f}x "
          f"(range {min(ratios):.2f}-{max(ratios):.2f})")
    if args.breakdown:
        print(f"breakdown ({args.threads} threads):")
        with threadpool_limits(args.threads):
            breakdown(gans, inputs)


if __name__ == "__main__":
    main()
