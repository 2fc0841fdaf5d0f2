"""How good are a trained generator's images? A classifier trained (with minigan) on real data
labels the generated samples.

    python -m minigan.train --out runs/digits                     # train first (or any checkpoint)
    python benchmarks/eval_samples.py --checkpoint runs/digits/checkpoint.npz

Prints the classifier's accuracy on held-out real images, then for real and generated images:
the mean confidence (max softmax probability), the share labelled with confidence > 0.9, and the
spread of labels over the ten classes (all ten present = no collapse onto a few digits).
The classifier is minigan.metrics' (fixed recipe, trained once and cached); for every score at
once (FD, IS-style score, ...) use ``python -m minigan.evaluate``.
"""
import argparse

import numpy as np

from minigan.data import load_dataset
from minigan.gan import load_checkpoint
from minigan.metrics import class_balance, load_classifier
from minigan.metrics.classifier import split_rows
from minigan.sample import generate


def describe(name, probs):
    share = class_balance(probs)
    print(f"{name:10} mean confidence {probs.max(axis=1).mean():.3f}   confident (>0.9) "
          f"{(probs.max(axis=1) > 0.9).mean():6.1%}   classes present (>=1%) {(share >= 0.01).sum():2d}/10   "
          f"labels % " + " ".join(f"{100 * s:4.1f}" for s in share))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="checkpoint.npz from python -m minigan.train")
    p.add_argument("--n", type=int, default=2000, help="generated samples to label")
    p.add_argument("--data-dir", default=None, help="MNIST folder (for mnist / mnist_test runs)")
    p.add_argument("--cache-dir", default=None, help="where the classifier is cached (default $MINIGAN_CACHE_DIR "
                   "or the data folder)")
    args = p.parse_args(argv)
    state = load_checkpoint(args.checkpoint)
    config = state["config"]
    data = load_dataset(config["dataset"], args.data_dir)
    if data.y is None:
        raise SystemExit(f"{config['dataset']} has no labels: this evaluation is for the image data sets")
    classifier = load_classifier(config["dataset"], args.data_dir, args.cache_dir)
    _, held_out = split_rows(len(data))
    real = classifier.probs(data.x[held_out])
    print(f"{config['dataset']}: classifier accuracy on {len(held_out)} held-out real images: "
          f"{classifier.accuracy:.1%}  (checkpoint step {state['trainer']['step']})")
    describe("real", real)
    describe("generated", classifier.probs(generate(state, args.n, seed=1)))


if __name__ == "__main__":
    main()
