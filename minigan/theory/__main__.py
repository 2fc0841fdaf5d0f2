"""``python -m minigan.theory``: Theorem 1, Proposition 1 with a trained D, Figure 1, and why the
generator's loss is non-saturating; prints the numbers and writes the figures (PNG) to --out.

    python -m minigan.theory                      # the full run, about a minute on 2 CPU cores
    python -m minigan.theory --quick              # short training (looser numbers), ~15 s
"""
import argparse
import dataclasses
import pathlib
import time

import numpy as np
from scipy import stats

from minigan import __version__, plot
from minigan.theory import figures
from minigan.theory.divergences import LOG_4, check_theorem_1, optimal_discriminator
from minigan.theory.experiment import (DATA_MEAN, DATA_STD, QUICK, TrainConfig, figure_1_stages, proposition_1,
                                       proposition_1_kde)
from minigan.theory.saturation import format_saturation_table, saturation_table

TARGET_ERROR, TARGET_GAP = 0.02, 0.01          # max |D - D*| and |V(D, G) - C(G)|
THEOREM_PAIRS = ((2.0, 0.5), (1.5, 0.5), (2.0, 0.25), (0.0, 1.0), (2.0, 2.0), (-3.0, 0.2))
GENERATOR = (0.0, 1.0)                         # Proposition 1: p_g = N(0, 1)
STAGES = ((-1.0, 1.2), (0.0, 0.95), (1.0, 0.7), (DATA_MEAN, DATA_STD))  # Figure 1: far -> equal


def cubic_generator(z):
    """A frozen generator whose density the code never uses: x = 1 + 0.7 z + 0.15 z³ (monotone)."""
    return 1.0 + 0.7 * z + 0.15 * z ** 3


def _seed(text):
    from minigan.train import _seed as check
    return check(text)


def parse_args(argv=None):
    from minigan.train import _Parser   # errors in one line, as every minigan command
    parser = _Parser(prog="python -m minigan.theory", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--out", default="runs/theory", help="directory for the PNG figures (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="short discriminator training (300 steps) and a smaller KDE: a fast, looser run")
    parser.add_argument("--seed", type=_seed, default=0, help="seed of the data, the noise and D's initialization")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    try:   # before any computing: a bad --out must not cost a minute of work first
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        parser.exit(2, f"{parser.prog}: error: --out {out}: cannot write figures there "
                       f"({err.strerror or err}); choose a folder\n")
    return args


def _verdict(value, target):
    return f"(target <= {target}: {'met' if value <= target else 'NOT met'})"


def print_theorem_1():
    print(f"Theorem 1: C(G) = max_D V(D, G) = -log 4 + 2 JSD(p_data || p_g), p_data = N({DATA_MEAN}, {DATA_STD}^2)")
    print("  p_g               C(G) = V(D*, G)    JSD(p_data||p_g)   -log4 + 2 JSD      |diff| quad   |diff| grid")
    x = np.linspace(-20.0, 20.0, 20_001)
    data = stats.norm(DATA_MEAN, DATA_STD)
    for mu, s in THEOREM_PAIRS:
        gen = stats.norm(mu, s)
        quad = check_theorem_1(data.pdf, gen.pdf)                  # scipy.integrate.quad on the real line
        grid = check_theorem_1(data.pdf(x), gen.pdf(x), x=x)       # scipy.integrate.simpson on the grid
        ok = "" if quad.holds and grid.holds else "   NOT within 1e-8"
        print(f"  N({mu:4.1f}, {s:4.2f}^2)  {quad.criterion:16.12f}  {quad.jsd:16.12f}  {quad.predicted:16.12f}"
              f"   {quad.error:10.1e}   {grid.error:10.1e}{ok}")
    print(f"  minimum: -log 4 = {-LOG_4:.12f}, reached at p_g = p_data (JSD = 0)\n")


def run_proposition_1(config, kde_samples, out):
    mu_g, s_g = GENERATOR
    print(f"Proposition 1 with a trained D: p_data = N({DATA_MEAN}, {DATA_STD}^2), generator x = {mu_g} + {s_g} z "
          f"(G frozen); D = MLP 1-{config.hidden}-{config.hidden}-1 (LeakyReLU, Sigmoid), float64,")
    print(f"  {config.steps} Adam steps on fresh batches of {config.batch_size} real + {config.batch_size} fake, "
          f"lr {config.lr:g} -> {config.lr_final:g} (cosine)")
    r = proposition_1(mu_g, s_g, config)
    print(f"  max |D(x) - D*(x)| over [{r.x[0]:.2f}, {r.x[-1]:.2f}] (99% of p_data + p_g): {r.max_error:.4f}  "
          f"{_verdict(r.max_error, TARGET_ERROR)}")
    gap = abs(r.value - r.criterion)
    print(f"  V(D, G) = {r.value:.6f}   C(G) = V(D*, G) = {r.criterion:.6f}   |V - C| = {gap:.1e}  "
          f"{_verdict(gap, TARGET_GAP)}")
    print(f"  training time: {r.seconds:.1f} s wall, {r.cpu_seconds:.1f} s CPU\n")

    print(f"  KDE variant (p_g unknown: a Gaussian KDE of {kde_samples} generated samples replaces it, in D* too)")
    print("  generator                     max|D - D*_kde|   max|D*_kde - D*|   V(D, G)     C_kde(G)    train s")
    exact_d_star = lambda x: optimal_discriminator(stats.norm.pdf(x, DATA_MEAN, DATA_STD), stats.norm.pdf(x, mu_g, s_g))
    runs = [(f"x = {mu_g} + {s_g} z (N(0, 1))", lambda z: mu_g + s_g * z, exact_d_star),
            ("x = 1 + 0.7 z + 0.15 z^3", cubic_generator, None)]
    panels = [r.panel(f"$p_g = N({mu_g:g}, {s_g:g}^2)$, exact\nmax|D - D*| = {r.max_error:.3f}")]
    for name, generator, exact in runs:
        k = proposition_1_kde(generator, config, kde_samples=kde_samples)
        bias = f"{np.abs(k.d_star - exact(k.x)).max():16.4f}" if exact else f"{'(unknown)':>16}"
        print(f"  {name:28}  {k.max_error:15.4f}  {bias}   {k.value:9.5f}   {k.criterion:9.5f}   {k.cpu_seconds:7.1f}")
        panels.append(k.panel(f"{name}, KDE\nmax|D - D*_kde| = {k.max_error:.3f}"))
    print()
    return plot.save_discriminator_panels(out / "proposition1.png", panels)


def run_figure_1(config, out):
    print("Figure 1: a D trained to convergence against each stage of a generator moving toward the data")
    results, panels = figure_1_stages(STAGES, config)
    for (mu, s), r in zip(STAGES, results):
        print(f"  p_g = N({mu:4.1f}, {s:4.2f}^2): max|D - D*| = {r.max_error:.4f}   V(D, G) = {r.value:8.5f}   "
              f"C(G) = {r.criterion:8.5f}   D in [{r.d.min():.3f}, {r.d.max():.3f}]")
    print("  (at p_g = p_data, D* = 1/2 everywhere and C(G) = -log 4)\n")
    return plot.save_discriminator_panels(out / "figure1_stages.png", panels)


def run_saturation(out):
    table = saturation_table()
    err_s = np.abs(table["saturating"] - table["saturating_exact"]).max()
    err_n = np.abs(table["non_saturating"] - table["non_saturating_exact"]).max()
    print("Saturating vs non-saturating generator loss, D(G(z)) = sigmoid(a); gradients w.r.t. a by minigan autograd")
    print(format_saturation_table(table))
    print(f"  max |autograd - closed form|: saturating {err_s:.1e}, non-saturating {err_n:.1e}")
    print("  when D confidently rejects fakes (a << 0) the saturating gradient vanishes like e^a;"
          " the non-saturating one stays near -1\n")
    return figures.save_gradient_curves(out / "gradients.png", table)


def main(argv=None):
    args = parse_args(argv)
    out = pathlib.Path(args.out)
    config = dataclasses.replace(QUICK if args.quick else TrainConfig(), seed=args.seed)
    kde_samples = 5_000 if args.quick else 20_000
    start = time.perf_counter()
    print_theorem_1()
    paths = [figures.save_theorem_1_curves(out / "theorem1.png", DATA_MEAN, DATA_STD)]
    paths.append(run_proposition_1(config, kde_samples, out))
    paths.append(run_figure_1(config, out))
    paths.append(run_saturation(out))
    print(f"figures: {', '.join(str(p) for p in paths)}")
    print(f"total time: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
