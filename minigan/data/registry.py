"""``load_dataset(name)``: every data set behind one name, described well enough to train and plot.

Image sets are scaled to [-1, 1] (the range of a tanh generator); :meth:`Dataset.to_data_space`
undoes that scaling and gives pixel intensities in [0, 1], ready for ``plt.imshow``. Point sets
(the toy distributions) are used as they are, so for them it is the identity.
"""
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from minigan.data import digits, mnist, toy

DEFAULT_TOY_SAMPLES = 10_000


@dataclass
class Dataset:
    """One data set: ``x`` float32 of shape (n, prod(shape)), one flattened sample per row."""

    name: str
    x: np.ndarray
    shape: tuple                      # one sample's shape: (8, 8), (28, 28), (2,), (1,)
    kind: str                         # "image" | "points" | "1d"
    y: Optional[np.ndarray] = None    # int64 class labels (image sets)
    modes: Optional[np.ndarray] = None  # (k, d) component means (toy sets)
    std: object = None                # the components' std (toy sets)
    pdf: Optional[Callable] = None    # the true density, pdf(points) -> (m,) (toy sets)

    def __len__(self):
        return len(self.x)

    @property
    def dim(self):
        """Numbers per sample (the generator's output size)."""
        return int(np.prod(self.shape))

    def to_data_space(self, x):
        """Undo the model-space scaling: images -> intensities (x + 1) / 2 clipped to [0, 1]
        (0 = background; times 255 gives MNIST's bytes, times 16 the digits' counts); points and
        1-D samples are returned unchanged (as a float32 NumPy array). Shape is kept."""
        if hasattr(x, "numpy"):  # a minigan Tensor: bring it to the host through its one door
            x = x.numpy()
        x = np.asarray(x, dtype=np.float32)
        if self.kind == "image":
            return np.clip((x + 1) / 2, 0, 1)
        return x.copy()


def _subset(x, y, n, seed):
    """A seeded random subset of n rows (all rows, in order, when n is None)."""
    if n is None:
        return x, y
    if int(n) != n or not 0 < n <= len(x):
        raise ValueError(f"n must be an integer in 1..{len(x)}, got {n!r}")
    rows = np.sort(np.random.default_rng(seed).choice(len(x), size=int(n), replace=False))
    return x[rows], y[rows]


def _image_set(name, loaded, shape, n, seed):
    x, y = _subset(*loaded, n, seed)
    return Dataset(name, x, shape, "image", y=y)


def _toy_set(name, sample, kind):
    return Dataset(name, sample.x, sample.x.shape[1:], kind,
                   modes=sample.modes, std=sample.std, pdf=sample.pdf)


def _n_toy(n):
    return DEFAULT_TOY_SAMPLES if n is None else n


# name -> loader(data_dir, n, seed); the toy sets ignore data_dir
_REGISTRY = {
    "digits": lambda data_dir, n, seed: _image_set("digits", digits.load_digits(), (8, 8), n, seed),
    "mnist": lambda data_dir, n, seed: _image_set("mnist", mnist.load_mnist("train", data_dir), (28, 28), n, seed),
    "mnist_test": lambda data_dir, n, seed: _image_set("mnist_test", mnist.load_mnist("test", data_dir),
                                                       (28, 28), n, seed),
    "ring": lambda data_dir, n, seed: _toy_set("ring", toy.ring(_n_toy(n), seed=seed), "points"),
    "grid": lambda data_dir, n, seed: _toy_set("grid", toy.grid(_n_toy(n), seed=seed), "points"),
    "gauss1d": lambda data_dir, n, seed: _toy_set("gauss1d", toy.gaussian_1d(_n_toy(n), seed=seed), "1d"),
    "mixture1d": lambda data_dir, n, seed: _toy_set("mixture1d", toy.mixture_1d(_n_toy(n), seed=seed), "1d"),
}


def dataset_names():
    return tuple(_REGISTRY)


def load_dataset(name, data_dir=None, n=None, seed=0):
    """The data set ``name`` as a :class:`Dataset`.

    ``n``: for toy sets the number of samples drawn (default 10,000) with ``seed``; for image sets
    a seeded random subset of that size (default: all of it). ``data_dir`` is where MNIST lives
    (default $MINIGAN_DATA_DIR, else ``data/``). "mnist" is the 60,000-image training split,
    "mnist_test" the 10,000-image test split.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown data set {name!r}; valid names: {', '.join(_REGISTRY)}")
    return _REGISTRY[name](data_dir, n, seed)
