"""The 8x8 handwritten digits shipped inside scikit-learn (1,797 images, no download needed).

Each pixel is a count in 0..16 (how many of a 4x4 block of the original 32x32 bitmap were ink),
scaled to the range of a tanh generator: ``x = count / 8 - 1``, so 0 -> -1 and 16 -> 1.
A small, always-available stand-in for MNIST: a GAN learns it in a minute on a laptop.
"""
import importlib.util
import os

import numpy as np

MAX_VALUE = 16  # the largest pixel value of the digits data


def load_digits():
    """Returns ``(x, y)``: ``x`` float32 of shape (1797, 64) in [-1, 1], ``y`` int64 labels 0-9."""
    counts = _read_bundled_file()
    if counts is None:   # not where scikit-learn has kept it since 2011: ask scikit-learn itself
        try:
            from sklearn.datasets import load_digits as _sklearn_load_digits
        except ImportError as err:
            raise ImportError(f"the digits data set comes with scikit-learn, which is not installed ({err}); "
                              "install it with: pip install scikit-learn") from None
        bunch = _sklearn_load_digits()
        counts = np.column_stack([bunch.data, bunch.target])
    x = counts[:, :-1].astype(np.float32) / np.float32(MAX_VALUE / 2) - np.float32(1)
    return x, counts[:, -1].astype(np.int64)


def _read_bundled_file(path=None):
    """scikit-learn's digits.csv.gz (64 pixel counts and the label per row) as a (1797, 65) array,
    read without importing scikit-learn: that import takes longer (~1.3 s) than the rest of a short
    training run's setup. None where the file is not found or does not read as expected."""
    path = path or _bundled_path()
    if path is None or not os.path.isfile(path):
        return None
    try:
        counts = np.loadtxt(path, delimiter=",", dtype=np.float64)
    except (OSError, EOFError, ValueError):   # a truncated or foreign file: scikit-learn's loader decides
        return None
    return counts if counts.shape == (1797, 65) else None


def _bundled_path():
    spec = importlib.util.find_spec("sklearn")   # finds the package folder; runs none of its code
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(next(iter(spec.submodule_search_locations)), "datasets", "data", "digits.csv.gz")
