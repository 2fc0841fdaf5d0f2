"""The feature extractor for image scores: a classifier trained with minigan on the real data.

FID uses Inception-v3; minigan's images (8x8 digits, 28x28 MNIST) need nothing that large, and
a classifier trained by minigan itself keeps the package free of pretrained downloads. The
recipe is fixed (:data:`RECIPE`: an MLP ``dim -> 256 -> ReLU -> Dropout(0.2) -> 10``, Adam
1e-3, batch 64, 20 epochs, seed 0, on a seeded 80% of the data set), so everyone gets the same
network: scores made with it are comparable with each other, never with published Inception
numbers, and are labelled accordingly ("FD (minigan digits classifier)", "IS-style score").

The network is trained on first use and cached as a .npz (:func:`minigan.gan.save_checkpoint`,
no pickle) in ``cache_dir``, else $MINIGAN_CACHE_DIR, else the MNIST data folder
(``data_dir``, $MINIGAN_DATA_DIR or ``data/``). A cache made with another recipe is retrained.
"""
import os
import pathlib
import sys

import numpy as np

import minigan as mg
import minigan.nn.functional as F
from minigan import nn, optim
from minigan.data import DataLoader, load_dataset
from minigan.data.mnist import default_data_dir
from minigan.gan.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["RECIPE", "Classifier", "cache_path", "load_classifier", "train_classifier"]

RECIPE = {"version": 1, "hidden": 256, "dropout": 0.2, "lr": 1e-3, "batch_size": 64, "epochs": 20,
          "seed": 0, "train_fraction": 0.8}
IMAGE_SETS = ("digits", "mnist", "mnist_test")


def split_rows(n, recipe=RECIPE):
    """(train rows, held-out rows): a seeded permutation, ``train_fraction`` of it for training."""
    order = np.random.default_rng(recipe["seed"]).permutation(n)
    cut = int(recipe["train_fraction"] * n)
    return order[:cut], order[cut:]


def build_model(dim, recipe=RECIPE, classes=10):
    return nn.Sequential(nn.Linear(dim, recipe["hidden"]), nn.ReLU(), nn.Dropout(recipe["dropout"]),
                         nn.Linear(recipe["hidden"], classes))


def train_classifier(x, y, recipe=RECIPE):
    """The recipe's MLP trained by cross-entropy on images ``x`` (n, dim) in [-1, 1], labels ``y``."""
    mg.manual_seed(recipe["seed"])
    model = build_model(x.shape[1], recipe, int(y.max()) + 1)
    opt = optim.Adam(model.parameters(), lr=recipe["lr"])
    loader = DataLoader((x, y), batch_size=recipe["batch_size"], shuffle=True, seed=recipe["seed"])
    for _ in range(recipe["epochs"]):
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    return model.eval()


class Classifier:
    """A trained classifier of one data set: :meth:`probs` (softmax) and :meth:`features`
    (the 256 hidden activations, the Fréchet distance's features)."""

    def __init__(self, model, dataset, accuracy, n_train):
        self.model, self.dataset = model.eval(), dataset
        self.accuracy, self.n_train = accuracy, n_train
        self.name = f"minigan {dataset} classifier"
        self.fd_label = f"FD ({self.name})"

    def _run(self, x, upto, batch_size=1000):
        if hasattr(x, "numpy"):
            x = x.numpy()
        x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        layers = list(self.model)[:upto]
        out = []
        with mg.no_grad():
            for start in range(0, len(x), batch_size):
                h = mg.tensor(x[start:start + batch_size])
                for layer in layers:
                    h = layer(h)
                out.append(h.numpy())
        return np.concatenate(out).astype(np.float64)

    def probs(self, x):
        """p(y|x), shape (n, 10), for images in model space ([-1, 1], as the data sets give them)."""
        logits = self._run(x, upto=None)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def features(self, x):
        """The hidden layer's activations after ReLU, shape (n, hidden)."""
        return self._run(x, upto=2)


def cache_path(dataset, data_dir=None, cache_dir=None):
    folder = cache_dir or os.environ.get("MINIGAN_CACHE_DIR") or default_data_dir(data_dir)
    return pathlib.Path(folder) / f"minigan-classifier-{dataset}.npz"


def load_classifier(dataset, data_dir=None, cache_dir=None, recipe=RECIPE, log=sys.stderr):
    """The classifier of ``dataset`` ("digits", "mnist", "mnist_test"): from the cache, or trained
    now (a minute at most on MNIST) and cached. ``log``: where to say so (None: silent)."""
    if dataset not in IMAGE_SETS:
        raise ValueError(f"no classifier for {dataset!r}: classifiers exist for the image sets {', '.join(IMAGE_SETS)}")
    path = cache_path(dataset, data_dir, cache_dir)
    data = load_dataset(dataset, data_dir)
    if path.exists():
        try:
            state = load_checkpoint(path)
        except ValueError as err:
            raise ValueError(f"{err}; delete {path} and it will be retrained") from None
        if state.get("recipe") == recipe and state.get("n_images") == len(data):
            model = build_model(data.dim, recipe)
            model.load_state_dict(state["model"])
            return Classifier(model, dataset, state["accuracy"], state["n_train"])
    if log:
        print(f"training the {dataset} classifier for image scores (once; cached in {path})", file=log, flush=True)
    train, held_out = split_rows(len(data), recipe)
    model = train_classifier(data.x[train], data.y[train], recipe)
    classifier = Classifier(model, dataset, None, len(train))
    classifier.accuracy = float((classifier.probs(data.x[held_out]).argmax(axis=1) == data.y[held_out]).mean())
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, {"recipe": recipe, "dataset": dataset, "n_images": len(data), "n_train": len(train),
                           "accuracy": classifier.accuracy, "model": model.state_dict()})
    return classifier
