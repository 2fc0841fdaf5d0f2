"""The recipes' acceptance check: the CLI's defaults, run exactly as a user types them.

For every command and seed: ``python -m minigan.train --dataset D --loss L --seed S [extra]``
into a fresh folder (wall time measured), then ``python -m minigan.sample --n 2500 --out x.npy``,
then PacGAN's protocol on the samples (``minigan.data.mode_coverage``: high quality within 3 std
of the nearest mode; a mode counts when it is nearest to a high-quality sample). Prints one row
per seed and the mean, in the table of recipes.py's docstrings.

    python benchmarks/eval_recipes.py                                  # the four toy rows, seeds 0-4
    python benchmarks/eval_recipes.py --rows ring-ns --seeds 0 1 2     # one row, three seeds
    python benchmarks/eval_recipes.py --jobs 2                         # two runs at a time (one per core)

Each training run uses the CLI's own thread choice (one BLAS thread for the toy model). Wall
times depend on what else runs; the CPU time printed beside each (user + system of the training
process) is what the run costs on an idle core, so it is the figure to compare with a time budget.
"""
import argparse
import concurrent.futures
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

ROWS = {
    "ring-ns": ("ring", "nonsaturating", []),
    "ring-wgan-gp": ("ring", "wgan-gp", []),
    "grid-ns": ("grid", "nonsaturating", []),
    "ring-ns-pack2": ("ring", "nonsaturating", ["--pack", "2"]),
}


def run_one(row, seed, workdir, extra=()):
    """Train, sample 2500 points, score them: (modes covered, high-quality fraction, seconds)."""
    from minigan.data import load_dataset, mode_coverage
    dataset, loss, flags = ROWS[row]
    out = pathlib.Path(workdir) / f"{row}-{seed}"
    train = [sys.executable, "-m", "minigan.train", "--dataset", dataset, "--loss", loss, "--seed", str(seed),
             *flags, *extra, "--out", str(out), "--no-progress"]
    start, cpu_start = time.perf_counter(), _children_cpu()
    subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu_start
    samples = out / "eval-samples.npy"
    subprocess.run([sys.executable, "-m", "minigan.sample", "--checkpoint", str(out / "checkpoint.npz"),
                    "--n", "2500", "--out", str(samples)], check=True, stdout=subprocess.DEVNULL)
    data = load_dataset(dataset, n=10)
    modes, hq = mode_coverage(np.load(samples), data.modes, data.std)
    return modes, hq, seconds, cpu


def _children_cpu():
    """CPU seconds (user + system) of this process's finished children: with one BLAS thread, a
    training run's wall time on an idle machine is about its CPU time, whatever else is running."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS), help="commands to check")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="seeds to run")
    p.add_argument("--jobs", type=int, default=1, help="runs at a time")
    p.add_argument("--extra", default="", help="extra train flags for every run (for tuning), e.g. '--steps 8000'")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir, concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        jobs = {(row, seed): pool.submit(run_one, row, seed, workdir, args.extra.split())
                for row in args.rows for seed in args.seeds}
        for row in args.rows:
            total = 8 if ROWS[row][0] == "ring" else 25
            results = [jobs[row, seed].result() for seed in args.seeds]
            cells = "  ".join(f"s{seed}: {m}/{total} {100 * h:.1f}% {t:.0f}s (cpu {c:.0f}s)"
                              for seed, (m, h, t, c) in zip(args.seeds, results))
            modes, hq, secs, cpu = (np.array(column, float) for column in zip(*results))
            print(f"{row:14} {cells}  | mean {modes.mean():.1f}/{total}, {100 * hq.mean():.1f}% HQ, "
                  f"min {modes.min():.0f}, max wall {secs.max():.0f}s, max cpu {cpu.max():.0f}s", flush=True)


if __name__ == "__main__":
    main()
