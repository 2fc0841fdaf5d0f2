"""How good are a trained generator's images? A classifier trained (with minigan) on real data
labels the generated samples.

    python -m minigan.train --out runs/digits                     # train first (or any checkpoint)
    python benchmarks/eval_samples.py --checkpoint runs/digits/checkpoint.npz

Prints the classifier's accuracy on held-out real images, then for real and generated images:
the mean confidence (max softmax probability), the share labelled with confidence > 0.9, and the
spread of labels over the ten classes (all ten present = no collapse onto a few digits).
"""
import argparse

import numpy as np

import minigan as mg
import minigan.nn.functional as F
from minigan import nn, optim
from minigan.data import DataLoader, load_dataset
from minigan.gan import load_checkpoint
from minigan.sample import generate


def train_classifier(x, y, epochs, seed=0):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(x.shape[1], 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader((x, y), batch_size=64, shuffle=True, seed=seed)
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    return model.eval()


def predict(model, x):
    with mg.no_grad():
        logits = model(mg.tensor(x))
        return np.exp(F.log_softmax(logits, axis=1).numpy())


def describe(name, probs):
    labels = probs.argmax(axis=1)
    counts = np.bincount(labels, minlength=10)
    share = counts / counts.sum()
    print(f"{name:10} mean confidence {probs.max(axis=1).mean():.3f}   confident (>0.9) "
          f"{(probs.max(axis=1) > 0.9).mean():6.1%}   classes present (>=1%) {(share >= 0.01).sum():2d}/10   "
          f"labels % " + " ".join(f"{100 * s:4.1f}" for s in share))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="checkpoint.npz from python -m minigan.train")
    p.add_argument("--n", type=int, default=2000, help="generated samples to label")
    p.add_argument("--epochs", type=int, default=20, help="classifier training epochs")
    p.add_argument("--data-dir", default=None, help="MNIST folder (for mnist / mnist_test runs)")
    args = p.parse_args(argv)
    state = load_checkpoint(args.checkpoint)
    config = state["config"]
    data = load_dataset(config["dataset"], args.data_dir)
    if data.y is None:
        raise SystemExit(f"{config['dataset']} has no labels: this evaluation is for the image data sets")
    order = np.random.default_rng(0).permutation(len(data.x))
    cut = int(0.8 * len(order))
    train, test = order[:cut], order[cut:]
    model = train_classifier(data.x[train], data.y[train], args.epochs)
    real = predict(model, data.x[test])
    print(f"{config['dataset']}: classifier accuracy on {len(test)} held-out real images: "
          f"{(real.argmax(axis=1) == data.y[test]).mean():.1%}  (checkpoint step {state['trainer']['step']})")
    describe("real", real)
    describe("generated", predict(model, generate(state, args.n, seed=1)))


if __name__ == "__main__":
    main()
