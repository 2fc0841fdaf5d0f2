"""Time one iteration of the reference MLP GAN: minigan against a hand-written NumPy lower bound.

One iteration = one D step on a real and a fake batch (D run once on [real; fake]) and one G step
with the non-saturating loss -log D(G(z)), D frozen. G: 100-256-512-1024-784 (LeakyReLU 0.2, Tanh),
D: 784-1024-512-256-1 (LeakyReLU 0.2, Sigmoid), BCE, Adam(lr=2e-4, betas=(0.5, 0.999)), float32.

    python benchmarks/bench_gan_iteration.py            # batch 64 and 128, memory over 1000 iterations
    python benchmarks/bench_gan_iteration.py --quick    # a smoke run in seconds

The implementations run interleaved (A, B, A, B, ...) in one process: absolute times drift by
20-40 % over minutes on these machines, so only interleaved medians and their ratios compare.
Before timing, every implementation runs a few iterations from identical weights on identical
inputs and must end with the same weights and Adam moments as the reference (float32 tolerance).
"""
import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
import minigan as mg  # noqa: E402
import minigan.nn.functional as F  # noqa: E402
from minigan import nn, optim  # noqa: E402

G_SIZES = (100, 256, 512, 1024, 784)
D_SIZES = (784, 1024, 512, 256, 1)
SLOPE, LR, BETAS, EPS = 0.2, 2e-4, (0.5, 0.999), 1e-8


def init_weights(seed):
    """PyTorch's default Linear init U(-1/sqrt(in), 1/sqrt(in)), as {"G": state_dict, "D": ...}."""
    rng = np.random.default_rng(seed)
    weights = {}
    for net, sizes in (("G", G_SIZES), ("D", D_SIZES)):
        state = {}
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1.0 / math.sqrt(n_in)  # Sequential index 2 i: activations sit in between
            state[f"{2 * i}.weight"] = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
            state[f"{2 * i}.bias"] = rng.uniform(-bound, bound, n_out).astype(np.float32)
        weights[net] = state
    return weights


def make_inputs(batch, count, seed):
    """``count`` pairs (real batch in [-1, 1] like scaled MNIST, noise z ~ N(0, 1))."""
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1.0, 1.0, (batch, G_SIZES[-1])).astype(np.float32),
             rng.standard_normal((batch, G_SIZES[0]), dtype=np.float32)) for _ in range(count)]


def mlp(nn_module, sizes, last):
    """Linear layers of ``sizes`` with LeakyReLU(0.2) between and ``last`` at the end (torch.nn too)."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn_module.Linear(n_in, n_out), nn_module.LeakyReLU(SLOPE)]
    return nn_module.Sequential(*layers[:-1], last)


# --- minigan, written as a user would ------------------------------------------------------------
class MiniganGAN:
    name, thread_pool = "minigan", "blas"

    def __init__(self, weights, batch):
        self.G, self.D = mlp(nn, G_SIZES, nn.Tanh()), mlp(nn, D_SIZES, nn.Sigmoid())
        self.G.load_state_dict(weights["G"])
        self.D.load_state_dict(weights["D"])
        self.opt_g = optim.Adam(self.G.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.opt_d = optim.Adam(self.D.parameters(), lr=LR, betas=BETAS, eps=EPS)
        ones, zeros = np.ones((batch, 1), np.float32), np.zeros((batch, 1), np.float32)
        self.real_fake_labels, self.ones = mg.tensor(np.concatenate([ones, zeros])), mg.tensor(ones)
        self.backend = mg.get_backend()

    def step(self, real, z):
        """One iteration from host batches; the two losses as floats."""
        loss_d, loss_g = self.iteration(mg.tensor(real), mg.tensor(z))
        return loss_d.item(), loss_g.item()

    def iteration(self, real, z):
        """One iteration on batches already on the backend; the losses stay there (no sync)."""
        fake = self.G(z)
        # D step: maximize log D(x) + log(1 - D(G(z))) = minimize BCE of D([x; G(z)]) against [1; 0].
        # The fakes are detached: this step must not backpropagate into G.
        self.opt_d.zero_grad()
        loss_d = F.binary_cross_entropy(self.D(mg.concatenate([real, fake.detach()])), self.real_fake_labels)
        loss_d.backward()
        self.opt_d.step()
        # G step (non-saturating): minimize -log D(G(z)). D is frozen, so no D weight gradients.
        self.D.requires_grad_(False)
        self.opt_g.zero_grad()
        loss_g = F.binary_cross_entropy(self.D(fake), self.ones)
        loss_g.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return loss_d, loss_g

    def snapshot(self):
        """{"G.0.weight": (weight, Adam first moment), ...} as NumPy arrays."""
        return {f"{tag}.{name}": (p.numpy(), self.backend.to_numpy(opt.state[p]["exp_avg"]))
                for tag, net, opt in (("G", self.G, self.opt_g), ("D", self.D, self.opt_d))
                for name, p in net.named_parameters()}


# --- plain NumPy: the lower bound -----------------------------------------------------------------
class FlatMLP:
    """An MLP whose weights, gradients and Adam moments each live in ONE contiguous float32 buffer
    (Adam is a dozen whole-array passes, not a dozen per layer), with activation buffers for
    ``rows`` rows allocated once. Layer i: h_i = a_{i-1} @ W_i.T + b_i, a_i = leaky_relu(h_i)."""

    def __init__(self, state, sizes, rows):
        shapes = [s for n_in, n_out in zip(sizes[:-1], sizes[1:]) for s in ((n_out, n_in), (n_out,))]
        total = sum(math.prod(s) for s in shapes)
        self.param, self.grad, self.m, self.v, self.tmp = (np.zeros(total, np.float32) for _ in range(5))
        params, grads, self.moments = (self._views(flat, shapes) for flat in (self.param, self.grad, self.m))
        for view, value in zip(params, state.values()):
            view[...] = value
        self.names, self.params = list(state), params
        self.W, self.b, self.gW, self.gb = params[0::2], params[1::2], grads[0::2], grads[1::2]
        self.n = len(self.W)
        self.h = [np.empty((rows, n), np.float32) for n in sizes[1:]]  # activations, in place
        self.mask = [np.empty((rows, n), np.float32) for n in sizes[1:-1]]  # LeakyReLU slopes
        self.d = [np.empty((rows, n), np.float32) for n in sizes[:-1]]  # d loss / d layer input
        self.t = 0

    @staticmethod
    def _views(flat, shapes):
        views, start = [], 0
        for shape in shapes:
            views.append(flat[start:start + math.prod(shape)].reshape(shape))
            start += math.prod(shape)
        return views

    def forward(self, x, rows):
        """The last layer's pre-activation for the first ``rows`` rows of ``x``."""
        a = x
        for i in range(self.n):
            h = self.h[i][:rows]
            np.matmul(a, self.W[i].T, out=h)
            h += self.b[i]
            if i < self.n - 1:  # LeakyReLU with an arithmetic mask in {0.2, 1} (no branches)
                mask = self.mask[i][:rows]
                np.greater(h, 0.0, out=mask)
                mask *= 1.0 - SLOPE
                mask += SLOPE
                h *= mask
            a = h
        return a

    def backward(self, x, dh, rows, frozen=False):
        """Backpropagate ``dh`` = d loss / d(last pre-activation). Trainable: weight gradients and
        no gradient for ``x``. Frozen (D in the G step): no weight gradients; returns d loss / dx."""
        for i in reversed(range(self.n)):
            if not frozen:
                np.matmul(dh.T, x if i == 0 else self.h[i - 1][:rows], out=self.gW[i])
                np.sum(dh, axis=0, out=self.gb[i])
                if i == 0:
                    return None
            da = self.d[i][:rows]
            if dh.shape[1] == 1:  # inner dimension 1: a broadcast multiply is far faster than BLAS
                np.multiply(dh, self.W[i], out=da)
            else:
                np.matmul(dh, self.W[i], out=da)
            if i > 0:
                da *= self.mask[i - 1][:rows]
            dh = da
        return dh

    def adam_step(self):
        """minigan.optim.Adam's update (bias corrections folded into two scalars), in place."""
        (b1, b2), m, v, g, tmp = BETAS, self.m, self.v, self.grad, self.tmp
        self.t += 1
        m *= b1                                   # m = b1 m + (1 - b1) g
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2                                   # v = b2 v + (1 - b2) g^2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        sqrt_bc2 = math.sqrt(1.0 - b2 ** self.t)  # p -= lr/bc1 m / (sqrt(v / bc2) + eps)
        np.sqrt(v, out=tmp)
        tmp += EPS * sqrt_bc2
        np.divide(m, tmp, out=tmp)
        tmp *= LR * sqrt_bc2 / (1.0 - b1 ** self.t)
        self.param -= tmp


def _sigmoid(u, out):
    """sigmoid(u) from exp(-|u|) (never overflows), as minigan computes it."""
    z = np.exp(-np.abs(u))
    return np.divide(np.where(u >= 0, np.float32(1.0), z), 1.0 + z, out=out)


def _bce(p, t):
    """mean -[t log p + (1 - t) log(1 - p)], logs clamped at -100 (for reporting only)."""
    with np.errstate(divide="ignore"):
        return float(-np.mean(t * np.maximum(np.log(p), -100.0) + (1 - t) * np.maximum(np.log(1 - p), -100.0)))


class NumpyGAN:
    name, thread_pool = "numpy", "blas"

    def __init__(self, weights, batch):
        self.batch = batch
        self.G = FlatMLP(weights["G"], G_SIZES, batch)
        self.D = FlatMLP(weights["D"], D_SIZES, 2 * batch)
        self.x = np.empty((2 * batch, D_SIZES[0]), np.float32)  # D's input [real; fake]
        self.labels = np.concatenate([np.ones((batch, 1), np.float32), np.zeros((batch, 1), np.float32)])
        self.p, self.du = np.empty((2 * batch, 1), np.float32), np.empty((2 * batch, 1), np.float32)
        self.tanh_grad = np.empty((batch, G_SIZES[-1]), np.float32)

    def step(self, real, z):
        B, N, G, D, x = self.batch, 2 * self.batch, self.G, self.D, self.x
        # D step: BCE of D([x; G(z)]) against [1; 0]; the fakes go straight into D's input buffer
        x[:B] = real
        np.tanh(G.forward(z, B), out=x[B:])
        p = _sigmoid(D.forward(x, N), self.p)
        loss_d = _bce(p, self.labels)
        np.subtract(p, self.labels, out=self.du)  # d mean BCE(sigmoid(u), t) / du = (p - t) / N
        self.du *= 1.0 / N
        D.backward(x, self.du, N)
        D.adam_step()
        # G step: -log D(G(z)) through the updated, frozen D (input gradients only), then into G
        fake, du = x[B:], self.du[:B]
        p = _sigmoid(D.forward(fake, B), self.p[:B])
        loss_g = _bce(p, 1.0)
        np.subtract(p, 1.0, out=du)
        du *= 1.0 / B
        d_fake = D.backward(fake, du, B, frozen=True)
        np.multiply(fake, fake, out=self.tanh_grad)  # tanh'(h) = 1 - tanh(h)^2
        np.subtract(1.0, self.tanh_grad, out=self.tanh_grad)
        d_fake *= self.tanh_grad
        G.backward(z, d_fake, B)
        G.adam_step()
        return loss_d, loss_g

    def snapshot(self):
        return {f"{tag}.{name}": (w, m) for tag, net in (("G", self.G), ("D", self.D))
                for name, w, m in zip(net.names, net.params, net.moments)}


# --- PyTorch, if installed ------------------------------------------------------------------------
class TorchGAN:
    name, thread_pool = "torch", "torch"

    def __init__(self, weights, batch):
        import torch
        self.torch, tnn = torch, torch.nn
        self.G, self.D = mlp(tnn, G_SIZES, tnn.Tanh()), mlp(tnn, D_SIZES, tnn.Sigmoid())
        self.G.load_state_dict({k: torch.tensor(v) for k, v in weights["G"].items()})
        self.D.load_state_dict({k: torch.tensor(v) for k, v in weights["D"].items()})
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.labels = torch.cat([torch.ones(batch, 1), torch.zeros(batch, 1)])
        self.ones, self.bce = torch.ones(batch, 1), tnn.BCELoss()

    def step(self, real, z):
        real, z = self.torch.from_numpy(real), self.torch.from_numpy(z)
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
        return loss_d.item(), loss_g.item()

    def snapshot(self):
        return {f"{tag}.{name}": (p.detach().numpy(), opt.state[p]["exp_avg"].numpy())
                for tag, net, opt in (("G", self.G, self.opt_g), ("D", self.D, self.opt_d))
                for name, p in net.named_parameters()}


# --- checks, timing, memory -----------------------------------------------------------------------
def cross_check(classes, batch=16, iters=2, seed=0):
    """Run each implementation ``iters`` iterations from identical weights and inputs and assert that
    its losses, weights and Adam first moments (= scaled gradients) match classes[0]'s (the reference).
    Two iterations also exercise Adam's moment accumulation and its bias corrections at t = 2."""
    weights, inputs = init_weights(seed), make_inputs(batch, iters, seed + 1)
    gans = [cls(weights, batch) for cls in classes]
    losses = {gan.name: np.array([gan.step(*pair) for pair in inputs]) for gan in gans}
    reference = gans[0].snapshot()
    for gan in gans[1:]:
        snap, worst_w, worst_m = gan.snapshot(), 0.0, 0.0
        try:
            np.testing.assert_allclose(losses[gan.name], losses[gans[0].name], rtol=1e-4, atol=1e-6,
                                       err_msg="losses (D, G) per iteration")
            for key, (w_ref, m_ref) in reference.items():
                w, m = snap[key]
                # each step moves a weight by about lr, so 5% of lr is a tight bound on the update
                np.testing.assert_allclose(w, w_ref, rtol=0, atol=0.05 * LR, err_msg=f"weights {key}")
                rel_m = float(np.linalg.norm(m - m_ref) / max(np.linalg.norm(m_ref), 1e-30))
                assert rel_m <= 1e-4, f"Adam first moment {key}: |m - m_ref| / |m_ref| = {rel_m:.2e} > 1e-4"
                worst_w, worst_m = max(worst_w, float(np.abs(w - w_ref).max())), max(worst_m, rel_m)
        except AssertionError as err:
            # (if only a few hundred elements differ, a pre-activation within rounding of 0 may have
            # taken the other LeakyReLU slope in one implementation: try another --check-batch)
            raise AssertionError(f"cross-check FAILED: {gan.name} and {gans[0].name} disagree after {iters} "
                                 f"iteration(s) from identical weights and inputs (batch {batch}), so their "
                                 f"timings would not be like for like:\n{err}") from None
        print(f"cross-check passed: {gan.name} matches {gans[0].name} after {iters} iterations at batch {batch} "
              f"(max |w - w_ref| = {worst_w:.1e} with lr = {LR:g}; max |m - m_ref| / |m_ref| = {worst_m:.1e})")


def time_interleaved(gans, inputs, repeats, inner, warmup, switch_gap):
    """{name: [seconds per iteration, one per repeat]}; each repeat times ``inner`` iterations of
    every gan in turn, so that drift hits all of them alike.

    NOTE: two measured effects shape the order. (1) A gan run twice in a row finds its weights still
    in cache: A B C | C B A | A B C favoured A and C over B by a few percent. So repeats alternate
    A B C and A C B: nobody runs twice in a row, and each gan follows each other one equally often.
    (2) Idle OpenBLAS and OpenMP (PyTorch) threads spin a while before they sleep; on 2 cores the
    gan right after the other library lost up to 40 %. So the loop sleeps ``switch_gap`` seconds
    whenever it switches between PyTorch and NumPy's BLAS.
    """
    previous = None

    def run(gan, count, start_index):
        nonlocal previous
        if previous is not None and gan.thread_pool != previous:
            time.sleep(switch_gap)
        previous = gan.thread_pool
        start = time.perf_counter()
        for j in range(count):
            gan.step(*inputs[(start_index + j) % len(inputs)])
        return (time.perf_counter() - start) / count

    for gan in gans:
        if warmup:
            run(gan, warmup, 0)
    times = {gan.name: [] for gan in gans}
    for r in range(repeats):
        for gan in gans[:1] + (gans[1:] if r % 2 == 0 else gans[:0:-1]):
            times[gan.name].append(run(gan, inner, r * inner))
    return times


def paired_ratio(times, a, b):
    """Median over repeats of time[a] / time[b] within the same repeat (robust to slow drift)."""
    return statistics.median(ta / tb for ta, tb in zip(times[a], times[b]))


def rss_bytes():
    """Resident set size now (Linux /proc), else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_growth(batch, iters, seed=0):
    """RSS growth of a minigan training loop between iteration min(100, iters / 2) and ``iters``."""
    gan, inputs = MiniganGAN(init_weights(seed), batch), make_inputs(batch, 8, seed + 1)
    first = min(100, iters // 2)
    for i in range(iters):
        if i == first:
            rss_first = rss_bytes()
        gan.step(*inputs[i % len(inputs)])
    growth = rss_bytes() - rss_first
    print(f"memory: minigan, batch {batch}: RSS {rss_first / 2**20:.1f} MiB at iteration {first}, "
          f"{(rss_first + growth) / 2**20:.1f} MiB at iteration {iters}: growth {growth / 2**20:+.2f} MiB "
          f"({growth / max(iters - first, 1) / 1024:+.2f} KiB per iteration)")
    return growth


def blas_threads():
    """Log the BLAS (and its threads) that NumPy uses; return the thread count, to give PyTorch the same."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or os.cpu_count()
        print(f"threadpoolctl not installed: BLAS and its threads not logged (assuming {threads} threads)")
        return int(threads)
    pools = threadpool_info()
    for pool in pools:
        print(f"threadpool: {pool.get('internal_api')} {pool.get('version')}, {pool.get('num_threads')} threads, "
              f"core type {pool.get('architecture')}, {Path(pool.get('filepath', '')).name}")
    blas = [pool["num_threads"] for pool in pools if pool.get("user_api") == "blas"]
    return blas[0] if blas else os.cpu_count()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128], help="batch sizes to time")
    parser.add_argument("--repeats", type=int, help="timed repeats per implementation and batch size (default 40)")
    parser.add_argument("--inner", type=int, help="iterations per timed repeat (default 2)")
    parser.add_argument("--warmup", type=int, help="untimed iterations per implementation first (default 5)")
    parser.add_argument("--check-batch", type=int, default=16, help="batch size of the correctness cross-check")
    parser.add_argument("--check-iters", type=int, default=2, help="iterations of the correctness cross-check")
    parser.add_argument("--memory-iters", type=int, default=None,
                        help="minigan iterations of the RSS-growth measurement (default 1000; 0 skips it, "
                             "the default with --quick)")
    parser.add_argument("--memory-batch", type=int, default=64, help="batch size of the memory measurement")
    parser.add_argument("--switch-gap", type=float, default=None,
                        help="seconds to sleep when switching between PyTorch and NumPy, whose idle threads "
                             "spin (default 0.3, 0 with --quick)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: defaults of 2 repeats of 1 iteration, 1 warm-up, no memory run")
    args = parser.parse_args(argv)
    defaults = dict(repeats=2, inner=1, warmup=1, memory_iters=0, switch_gap=0.0) if args.quick else \
        dict(repeats=40, inner=2, warmup=5, memory_iters=1000, switch_gap=0.3)
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv=None):
    args = parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, minigan {mg.__version__}, "
          f"{os.cpu_count()} CPUs, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    threads = blas_threads()
    classes = [NumpyGAN, MiniganGAN]
    try:
        if args.no_torch:
            raise ImportError("--no-torch")
        import torch
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        classes.append(TorchGAN)
    except ImportError as err:
        print(f"torch: skipped ({err})")
    cross_check(classes, args.check_batch, args.check_iters)

    others = [name for name in ("numpy", "torch") if any(cls.name == name for cls in classes)]
    print(f"\nmedian ms per iteration ({args.repeats} repeats x {args.inner} iterations, interleaved); "
          f"ratios: median of per-repeat ratios")
    print(f"{'batch':>5}  " + "  ".join(f"{cls.name:>8}" for cls in classes)
          + "".join(f"  {'minigan/' + name:>14}" for name in others))
    for batch in args.batch_sizes:
        weights, inputs = init_weights(1), make_inputs(batch, 8, 2)
        times = time_interleaved([cls(weights, batch) for cls in classes], inputs,
                                 args.repeats, args.inner, args.warmup, args.switch_gap)
        print(f"{batch:>5}  " + "  ".join(f"{statistics.median(times[cls.name]) * 1e3:8.2f}" for cls in classes)
              + "".join(f"  {paired_ratio(times, 'minigan', name):13.3f}x" for name in others), flush=True)
    if args.memory_iters:
        print()
        memory_growth(args.memory_batch, args.memory_iters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
