"""Time Conv2d and ConvTranspose2d forward + backward: minigan against a hand-written im2col NumPy reference.

The layers are DCGAN's on MNIST (batch 64, float32): the discriminator's Conv2d 1->64 and 64->128
(kernel 4, stride 2, padding 1, on 28x28 and 14x14) and the generator's mirror, ConvTranspose2d
128->64 and 64->1 (on 7x7 and 14x14). One step is a forward and a backward with a given output
gradient, computing the input, weight and bias gradients (the input gradient is what the G step
sends through D into G).

    python benchmarks/bench_conv.py               # 1 BLAS thread, 15 repeats
    python benchmarks/bench_conv.py --quick       # a smoke run in seconds
    python benchmarks/bench_conv.py --torch       # PyTorch CPU eager as a third column, if installed

The reference is plain NumPy as one would write it by hand: im2col into a preallocated buffer with
one strided copy per kernel position, one matrix product, the forward's columns kept for the weight
gradient, and col2im as one strided add per kernel position. The implementations run interleaved
(A B A B ...) in one process; a ratio is the median over repeats of the ratio within each repeat,
so slow drift cancels. Page faults per step are counted for each: with glibc's default malloc
settings, freeing the last arrays at the top of the heap can give that memory back to the system,
and the next step faults it in again, page by page (which implementation suffers depends on the
order in which its arrays are freed); ``--keep-heap`` switches that off (mallopt) to show the cost
without it. Before timing, every layer's outputs and gradients are checked against the
reference (float32 tolerance).
"""
import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled
import minigan as mg  # noqa: E402
from minigan import nn  # noqa: E402

# (name, transposed, in_channels, out_channels, input side): kernel 4, stride 2, padding 1 throughout
LAYERS = [("D conv 1->64 28x28", False, 1, 64, 28), ("D conv 64->128 14x14", False, 64, 128, 14),
          ("G convT 128->64 7x7", True, 128, 64, 7), ("G convT 64->1 14x14", True, 64, 1, 14)]
K, S, P = 4, 2, 1


# ---- the hand-written reference -------------------------------------------------------------------
def im2col(x, k, s, p, ho, wo):
    """(C k k, N ho wo) patches of the zero-padded x, one strided copy per kernel position."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2 * p, w + 2 * p), x.dtype)
    padded[:, :, p:p + h, p:p + w] = x
    cols = np.empty((c, k, k, n, ho, wo), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, i, j] = padded[:, :, i:i + s * ho:s, j:j + s * wo:s].transpose(1, 0, 2, 3)
    return cols.reshape(c * k * k, n * ho * wo)


def col2im(cols, shape, k, s, p, ho, wo):
    """The adjoint of im2col: (C, k, k, N, ho, wo) columns summed back into an (N, C, H, W) image."""
    n, c, h, w = shape
    padded = np.zeros((n, c, h + 2 * p, w + 2 * p), cols.dtype)
    cols = cols.reshape(c, k, k, n, ho, wo)
    for i in range(k):
        for j in range(k):
            padded[:, :, i:i + s * ho:s, j:j + s * wo:s] += cols[:, i, j].transpose(1, 0, 2, 3)
    return padded[:, :, p:p + h, p:p + w]


def reference_conv(x, w, b, dy):
    """Conv2d forward (y) and backward (dx, dw, db) for output gradient dy."""
    n, _, h, _ = x.shape
    o = w.shape[0]
    ho = (h + 2 * P - K) // S + 1
    cols = im2col(x, K, S, P, ho, ho)
    y = (w.reshape(o, -1) @ cols).reshape(o, n, ho, ho).transpose(1, 0, 2, 3) + b.reshape(1, -1, 1, 1)
    dy_rows = dy.transpose(1, 0, 2, 3).reshape(o, -1)
    dw = (dy_rows @ cols.T).reshape(w.shape)
    dx = col2im(w.reshape(o, -1).T @ dy_rows, x.shape, K, S, P, ho, ho)
    return y, dx, dw, dy.sum(axis=(0, 2, 3))


def reference_conv_transpose(x, w, b, dy):
    """ConvTranspose2d forward and backward: the forward is Conv2d's input gradient, the input
    gradient a Conv2d forward, the weight gradient Conv2d's weight gradient with roles swapped."""
    n, c_in, h, _ = x.shape
    c_out, ho = w.shape[1], (h - 1) * S - 2 * P + K
    x_rows = x.transpose(1, 0, 2, 3).reshape(c_in, -1)
    y = col2im(w.reshape(c_in, -1).T @ x_rows, (n, c_out, ho, ho), K, S, P, h, h) + b.reshape(1, -1, 1, 1)
    cols = im2col(dy, K, S, P, h, h)
    dx = (w.reshape(c_in, -1) @ cols).reshape(c_in, n, h, h).transpose(1, 0, 2, 3)
    dw = (x_rows @ cols.T).reshape(w.shape)
    return y, dx, dw, dy.sum(axis=(0, 2, 3))


def keep_heap():
    """glibc only: M_TRIM_THRESHOLD and M_MMAP_THRESHOLD at 1 GiB, so freed memory stays in the heap."""
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    if not (libc.mallopt(m_trim_threshold, 1 << 30) and libc.mallopt(m_mmap_threshold, 1 << 30)):
        sys.exit("--keep-heap: mallopt failed (not glibc?)")


def minor_faults():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


# ---- minigan, as a user writes it --------------------------------------------------------------------
def minigan_step(layer, x, dy):
    """Forward, then the input, weight and bias gradients as autograd hands them on (mg.grad: inside
    a network the layer's input is no leaf, so its gradient is passed down without the copy that a
    leaf's own .grad gets)."""
    y = layer(x)
    return (y,) + mg.grad(y, [x, layer.weight, layer.bias], dy)


def torch_step(torch, layer, x, dy):
    y = layer(x)
    return (y,) + torch.autograd.grad(y, [x, layer.weight, layer.bias], dy)


def make_layer(transposed, c_in, c_out, side, batch, seed):
    mg.manual_seed(seed)
    layer = (nn.ConvTranspose2d if transposed else nn.Conv2d)(c_in, c_out, K, S, P)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, c_in, side, side), dtype=np.float32)
    out_side = (side - 1) * S - 2 * P + K if transposed else (side + 2 * P - K) // S + 1
    dy = rng.standard_normal((batch, c_out, out_side, out_side), dtype=np.float32)
    return layer, x, dy


def cross_check(name, got, want):
    for what, a, b in zip(("y", "dx", "dw", "db"), got, want):
        a, b = np.asarray(a), np.asarray(b)
        err = np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)
        if a.shape != b.shape or not err < 1e-5:
            sys.exit(f"cross-check FAILED: {name} {what}: shape {a.shape} vs {b.shape}, relative error {err:.3g}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64, help="batch size (DCGAN uses 64 or 128)")
    parser.add_argument("--repeats", type=int, default=15, help="interleaved repeats per layer (medians)")
    parser.add_argument("--inner", type=int, default=5, help="steps timed back to back in one repeat")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl)")
    parser.add_argument("--torch", action="store_true", help="also time PyTorch CPU eager (needs torch)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: batch 8, 3 repeats of 1 step")
    parser.add_argument("--keep-heap", action="store_true",
                        help="tell glibc's malloc never to trim its heap nor to mmap large arrays (see the docstring)")
    args = parser.parse_args(argv)
    if args.keep_heap:
        keep_heap()
    if args.quick:
        args.batch, args.repeats, args.inner = 8, 3, 1
    from threadpoolctl import threadpool_info, threadpool_limits
    torch = None
    if args.torch:
        import torch
        torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        print(f"python {platform.python_version()}, numpy {np.__version__}, batch {args.batch}, float32, "
              f"{args.threads} BLAS thread(s), OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}, "
              f"malloc {'keeping its heap (--keep-heap)' if args.keep_heap else 'default'}")
        for info in threadpool_info():
            print(f"  {info.get('internal_api')} {info.get('version')} {info.get('architecture')} "
                  f"threads={info.get('num_threads')}")
        print(f"{'layer':24s} {'reference ms':>12s} {'minigan ms':>11s} {'minigan/ref':>12s} "
              f"{'faults/step ref, mg':>20s}"
              + (f" {'torch ms':>9s} {'minigan/torch':>14s}" if torch else ""))
        for seed, (name, transposed, c_in, c_out, side) in enumerate(LAYERS):
            run_layer(name, transposed, c_in, c_out, side, seed, args, torch)


def run_layer(name, transposed, c_in, c_out, side, seed, args, torch):
    layer, x_np, dy_np = make_layer(transposed, c_in, c_out, side, args.batch, seed)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    reference = reference_conv_transpose if transposed else reference_conv
    x, dy = mg.tensor(x_np, requires_grad=True), mg.tensor(dy_np)
    steps = {"reference": lambda: reference(x_np, w, b, dy_np), "minigan": lambda: minigan_step(layer, x, dy)}
    want = steps["reference"]()
    cross_check(name, [t.numpy() for t in steps["minigan"]()], want)
    if torch is not None:
        t_layer = (torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d)(c_in, c_out, K, S, P)
        t_layer.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
        t_x, t_dy = torch.from_numpy(x_np).requires_grad_(), torch.from_numpy(dy_np)
        steps["torch"] = lambda: torch_step(torch, t_layer, t_x, t_dy)
        cross_check(name + " (torch)", [t.detach().numpy() for t in steps["torch"]()], want)
    times, faults = {k: [] for k in steps}, {k: 0 for k in steps}
    order = list(steps)
    for repeat in range(args.repeats):
        for key in (order if repeat % 2 == 0 else order[::-1]):  # A B, then B A: neither always goes first
            steps[key]()  # one untimed step: caches and allocator in the same state for everyone
            start, faulted = time.perf_counter(), minor_faults()
            for _ in range(args.inner):
                steps[key]()
            times[key].append((time.perf_counter() - start) / args.inner)
            faults[key] += minor_faults() - faulted
    ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    ratio = statistics.median(m / r for m, r in zip(times["minigan"], times["reference"]))
    per_step = {k: v / (args.repeats * args.inner) for k, v in faults.items()}
    line = (f"{name:24s} {ms['reference']:12.2f} {ms['minigan']:11.2f} {ratio:11.2f}x "
            f"{per_step['reference']:10.0f}, {per_step['minigan']:.0f}")
    if torch is not None:
        vs_torch = statistics.median(m / t for m, t in zip(times["minigan"], times["torch"]))
        line += f" {ms['torch']:9.2f} {vs_torch:13.2f}x"
    print(line, flush=True)


if __name__ == "__main__":
    main()
