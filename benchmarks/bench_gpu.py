"""minigan on CuPy against PyTorch CUDA: correctness gates first, then interleaved timing (issue 13).

    python benchmarks/bench_gpu.py                 # gates, then batch 64, 128 and 1024
    python benchmarks/bench_gpu.py --quick         # gates and a short timing at batch 64
    python benchmarks/bench_gpu.py --gates-only    # only the correctness gates

Needs CuPy and an NVIDIA GPU (PyTorch with CUDA is optional: without it only minigan is timed).

Gates, each of which stops the script with ``FAILED`` and what differs:
1. every fused kernel of minigan.kernels (its CUDA body) against its NumPy twin, on random and edge
   inputs (0, +-inf, NaN, huge, tiny), at float32 tolerance;
2. one training iteration, then a second, on NumPy and on CuPy from identical host-generated weights
   and batches: losses, weights (to 5 % of lr) and Adam first moments (relative 1e-4) must agree.

Timing: the iteration of benchmarks/bench_gan_iteration.py (one D step on [real; fake], one
non-saturating G step with D frozen; G 100-256-512-1024-784, D 784-1024-512-256-1, Adam(2e-4,
(0.5, 0.999)), float32) with the batches already on the device. Implementations run interleaved,
each repeat timed with CUDA events around ``--inner`` iterations and synchronized, orders alternating
(A B C, A C B): minigan on CuPy; PyTorch eager as users write it; PyTorch with ``Adam(fused=True)``.
TF32 is off on both sides. Printed: median ms per iteration and the median of per-repeat ratios;
also GANTrainer.step() (the ``mlp`` preset, what ``python -m minigan.train`` runs) at batch 64.

Written without a GPU to run it on (the session that wrote it had none): the gates are the first
thing to trust or fix.
"""
import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))
import minigan as mg  # noqa: E402
from minigan.kernels import KERNELS  # noqa: E402
import bench_gan_iteration  # noqa: E402
from bench_gan_iteration import BETAS, D_SIZES, EPS, G_SIZES, LR, init_weights, make_inputs, mlp  # noqa: E402

EDGES = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-30, 1e30, 30.0, -30.0, 100.0], np.float32)


# --- gate 1: each CUDA body against its NumPy twin ---------------------------------------------------
def _kernel_cases(rng, n=4096):
    """name -> a function giving fresh NumPy arguments for that kernel (random values, then the edges)."""
    def values(lo=-5.0, hi=5.0):
        return np.concatenate([rng.uniform(lo, hi, n).astype(np.float32), EDGES])

    def prob():
        return np.concatenate([rng.uniform(0.0, 1.0, n).astype(np.float32), np.float32([0, 1, 1e-12, 0.5, 1, 0, 1e-7,
                                                                                        1 - 1e-7, 0.25, 0.75, 0, 1])])
    m = n + len(EDGES)
    keep = lambda: rng.random(m) < 0.5  # noqa: E731
    scale = 1.0 / m
    g0 = np.float32(-1.0).reshape(())   # the 0-d gradient of a mean
    buffers = lambda k: [rng.standard_normal(m).astype(np.float32) for _ in range(k)]  # noqa: E731
    positive = lambda: np.abs(rng.standard_normal(m)).astype(np.float32)  # noqa: E731
    return {
        "leaky_relu": lambda: (values(), 0.2), "relu": lambda: (values(),), "select": lambda: (values(), keep()),
        "select_scaled": lambda: (values(), keep(), np.where(rng.random(m) < 0.5, 0.5, 1.0).astype(np.float32)),
        "sigmoid": lambda: (values(-40, 40),), "sigmoid_backward": lambda: (values(), rng.random(m).astype(np.float32)),
        "tanh": lambda: (values(),), "tanh_backward": lambda: (values(), np.tanh(values())),
        "bce": lambda: (prob(), rng.random(m).astype(np.float32)),
        "bce_sum": lambda: (prob(), rng.random(m).astype(np.float32), scale),
        "bce_backward": lambda: (g0, prob(), rng.random(m).astype(np.float32), scale),
        "bce_logits": lambda: (values(-40, 40), rng.random(m).astype(np.float32)),
        "bce_logits_sum": lambda: (values(-40, 40), rng.random(m).astype(np.float32), scale),
        "bce_logits_backward": lambda: (g0, values(-40, 40), rng.random(m).astype(np.float32), scale),
        "sgd": lambda: (values(), 0.1, 0.9, 1.0, 0.01, 1, 0, 0, *buffers(3)),
        "adam": lambda: (values(), 0.5, 0.5, 0.999, 0.001, 2e-4, 1e-8, 1.0, 0.0, 0, 1, *buffers(1), *buffers(1),
                         positive(), positive(), np.zeros(m, np.float32)),
        # (the shift dominates: c * scale + shift is one fma on the GPU, two roundings in NumPy, and a sum
        # cancelling to ~0 would leave their last-place difference above the absolute tolerance)
        "batch_norm": lambda: (values(), positive(), positive() + 30.0),
        "batch_norm_backward": lambda: (values(), values(), positive(), positive(), positive() + 60.0),
        "rmsprop": lambda: (values(), 0.01, 0.99, 0.01, 1e-8, 0.0, 0.5, 0, 1, *buffers(1), positive(),
                            rng.standard_normal(m).astype(np.float32) * 0.01, *buffers(1), np.zeros(m, np.float32)),
    }


def _compare(name, what, actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    same_nan = np.array_equal(np.isnan(actual), np.isnan(expected)) if actual.dtype.kind == "f" else True
    close = np.allclose(actual, expected, rtol=2e-5, atol=1e-6, equal_nan=True) if actual.dtype.kind == "f" \
        else np.array_equal(actual, expected)
    if not (same_nan and close and actual.shape == expected.shape):
        bad = ~np.isclose(actual, expected, rtol=2e-5, atol=1e-6, equal_nan=True) if actual.dtype.kind == "f" \
            else actual != expected
        raise AssertionError(f"kernel gate FAILED: {name} {what}: CUDA and NumPy twin differ at {int(bad.sum())} "
                             f"places, e.g. {actual[bad][:4]} vs {expected[bad][:4]}")


def gate_kernels(cupy, backend, seed=0):
    cases = _kernel_cases(np.random.default_rng(seed))
    missing = set(KERNELS) - set(cases)
    if missing:
        raise AssertionError(f"kernel gate FAILED: no test inputs for {sorted(missing)}; add them to _kernel_cases")
    for name, make in sorted(cases.items()):
        args = make()
        host = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        device = [cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
        with np.errstate(all="ignore"):
            expected = KERNELS[name].twin(*host)
            actual = backend.kernel(name)(*device)
        if expected is not None:   # returned outputs (activations, losses)
            expected = expected if isinstance(expected, tuple) else (expected,)
            actual = actual if isinstance(actual, tuple) else (actual,)
            for i, (a, e) in enumerate(zip(actual, expected)):
                _compare(name, f"output {i}", cupy.asnumpy(a), e)
        n_in = len(KERNELS[name].in_params.split(","))
        for i in range(n_in, len(args)):   # arrays updated in place (optimizers); the scratch is not compared
            if i < len(args) - 1 or name not in ("sgd", "adam", "rmsprop"):
                _compare(name, f"in-place argument {i}", cupy.asnumpy(device[i]), host[i])
    print(f"kernel gate passed: {len(cases)} CUDA kernels agree with their NumPy twins (float32, edge inputs)")


# --- gate 2 and timing: the GAN iteration -----------------------------------------------------------
class MiniganGAN(bench_gan_iteration.MiniganGAN):
    """benchmarks/bench_gan_iteration.MiniganGAN on a given backend, batches already on it, no sync."""

    def __init__(self, weights, batch, backend_name):
        mg.set_backend(backend_name)
        super().__init__(weights, batch)
        self.name = f"minigan-{backend_name}"

    def upload(self, pairs):
        return [(mg.tensor(r), mg.tensor(z)) for r, z in pairs]

    def step(self, real, z):
        return self.iteration(real, z)


def gate_numpy_vs(device="cupy", batch=32, iters=2, seed=0):
    weights, pairs = init_weights(seed), make_inputs(batch, iters, seed + 1)
    results = {}
    for name in ("numpy", device):
        gan = MiniganGAN(weights, batch, name)
        losses = [[t.item() for t in gan.step(*pair)] for pair in gan.upload(pairs)]
        results[name] = losses, gan.snapshot()
    mg.set_backend(device)
    (l_np, s_np), (l_cp, s_cp) = results["numpy"], results[device]
    np.testing.assert_allclose(l_cp, l_np, rtol=1e-4, atol=1e-6, err_msg="step gate FAILED: losses")
    for key, (w, m) in s_np.items():
        w2, m2 = s_cp[key]
        np.testing.assert_allclose(w2, w, rtol=0, atol=0.05 * LR, err_msg=f"step gate FAILED: weights {key}")
        rel = float(np.linalg.norm(m2 - m) / max(np.linalg.norm(m), 1e-30))
        assert rel <= 1e-4, f"step gate FAILED: Adam first moment {key}: relative difference {rel:.2e}"
    print(f"step gate passed: {device} matches numpy after {iters} iterations at batch {batch}")


class TorchGAN:
    """The same iteration in PyTorch CUDA as users write it (``fused``: Adam(fused=True))."""

    def __init__(self, weights, batch, fused=False):
        import torch
        self.torch, tnn, dev = torch, torch.nn, torch.device("cuda")
        self.name = "torch-fused" if fused else "torch"
        self.G, self.D = mlp(tnn, G_SIZES, tnn.Tanh()).to(dev), mlp(tnn, D_SIZES, tnn.Sigmoid()).to(dev)
        self.G.load_state_dict({k: torch.tensor(v) for k, v in weights["G"].items()})
        self.D.load_state_dict({k: torch.tensor(v) for k, v in weights["D"].items()})
        extra = {"fused": True} if fused else {}
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS, eps=EPS, **extra)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS, eps=EPS, **extra)
        self.labels = torch.cat([torch.ones(batch, 1), torch.zeros(batch, 1)]).to(dev)
        self.ones, self.bce = torch.ones(batch, 1, device=dev), tnn.BCELoss()

    def upload(self, pairs):
        return [(self.torch.from_numpy(r).cuda(), self.torch.from_numpy(z).cuda()) for r, z in pairs]

    def step(self, real, z):
        fake = self.G(z)
        self.opt_d.zero_grad()
        loss_d = self.bce(self.D(self.torch.cat([real, fake.detach()])), self.labels)
        loss_d.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        self.opt_g.zero_grad()
        loss_g = self.bce(self.D(fake), self.ones)
        loss_g.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return loss_d, loss_g


def _timer(gan, cupy):
    """(start, stop, elapsed_ms) on the implementation's own CUDA events."""
    if gan.name.startswith("torch"):
        torch = gan.torch
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        return start.record, stop.record, lambda: (stop.synchronize(), start.elapsed_time(stop))[1]
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    return start.record, stop.record, lambda: (stop.synchronize(), cupy.cuda.get_elapsed_time(start, stop))[1]


def time_interleaved(gans, batches, repeats, inner, warmup, cupy):
    """{name: [ms per iteration, one per repeat]}, orders alternating A B C / A C B."""
    for gan in gans:
        for i in range(warmup):
            gan.step(*batches[gan.name][i % len(batches[gan.name])])
    cupy.cuda.runtime.deviceSynchronize()
    times = {gan.name: [] for gan in gans}
    for r in range(repeats):
        for gan in gans[:1] + (gans[1:] if r % 2 == 0 else gans[:0:-1]):
            if gan.name.startswith("minigan"):
                mg.set_backend("cupy")
            start, stop, elapsed = _timer(gan, cupy)
            data = batches[gan.name]
            start()
            for j in range(inner):
                gan.step(*data[(r * inner + j) % len(data)])
            stop()
            times[gan.name].append(elapsed() / inner)
    return times


def time_trainer(cupy, batch=64, steps=30):
    """ms per GANTrainer.step() of the mlp preset (what python -m minigan.train runs), on the device."""
    from minigan.data import DataLoader
    from minigan.gan import GANTrainer, make_discriminator, make_generator
    mg.set_backend("cupy")
    mg.manual_seed(0)
    data = np.random.default_rng(0).uniform(-1.0, 1.0, (16 * batch, 784)).astype(np.float32)
    trainer = GANTrainer(make_generator("mlp", 100, 784), make_discriminator("mlp", 784),
                         DataLoader(data, batch, drop_last=True).sample_batch, 100)
    for _ in range(5):
        trainer.step()
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    start.record()
    for _ in range(steps):
        trainer.step()
    stop.record()
    stop.synchronize()
    return cupy.cuda.get_elapsed_time(start, stop) / steps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 1024], help="batch sizes to time")
    p.add_argument("--repeats", type=int, default=20, help="timed repeats per implementation and batch size")
    p.add_argument("--inner", type=int, default=10, help="iterations per timed repeat")
    p.add_argument("--warmup", type=int, default=10, help="untimed iterations first (kernel compilation, pools)")
    p.add_argument("--no-torch", action="store_true", help="time minigan only")
    p.add_argument("--gates-only", action="store_true", help="run the correctness gates, no timing")
    p.add_argument("--quick", action="store_true", help="gates, then batch 64 with few repeats")
    args = p.parse_args(argv)
    if args.quick:
        args.batch_sizes, args.repeats, args.inner, args.warmup = [64], 4, 5, 3
    try:
        backend = mg.set_backend("cupy")
    except RuntimeError as err:
        print(f"bench_gpu: {err}", file=sys.stderr)
        return 2
    cupy = backend.cupy
    print(f"cupy {cupy.__version__}, device {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}; TF32 off")
    gate_kernels(cupy, backend)
    gate_numpy_vs("cupy")
    if args.gates_only:
        return 0
    torch = None
    if not args.no_torch:
        try:
            import torch
            if not torch.cuda.is_available():
                raise ImportError("no CUDA device for torch")
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
            print(f"torch {torch.__version__}")
        except ImportError as err:
            print(f"torch: skipped ({err})")
            torch = None
    print(f"GANTrainer.step(), mlp preset, batch 64: {time_trainer(cupy):.3f} ms per step (CUDA events)")
    names = ["minigan-cupy"] + (["torch", "torch-fused"] if torch else [])
    print(f"\nmedian ms per iteration ({args.repeats} repeats x {args.inner} iterations, interleaved, CUDA events)")
    print(f"{'batch':>5}  " + "  ".join(f"{n:>12}" for n in names)
          + "".join(f"  {'minigan/' + n:>20}" for n in names[1:]))
    for batch in args.batch_sizes:
        weights, pairs = init_weights(1), make_inputs(batch, 8, 2)
        gans = [MiniganGAN(weights, batch, "cupy")]
        if torch:
            gans += [TorchGAN(weights, batch), TorchGAN(weights, batch, fused=True)]
        batches = {}
        for gan in gans:
            if gan.name.startswith("minigan"):
                mg.set_backend("cupy")
            batches[gan.name] = gan.upload(pairs)
        times = time_interleaved(gans, batches, args.repeats, args.inner, args.warmup, cupy)
        ratios = [statistics.median(a / b for a, b in zip(times["minigan-cupy"], times[n])) for n in names[1:]]
        print(f"{batch:>5}  " + "  ".join(f"{statistics.median(times[n]):12.3f}" for n in names)
              + "".join(f"  {r:19.3f}x" for r in ratios), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
