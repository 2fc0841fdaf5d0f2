"""The 8x8 handwritten digits shipped inside scikit-learn (1,797 images, no download needed).

Each pixel is a count in 0..16 (how many of a 4x4 block of the original 32x32 bitmap were ink),
scaled to the range of a tanh generator: ``x = count / 8 - 1``, so 0 -> -1 and 16 -> 1.
A small, always-available stand-in for MNIST: a GAN learns it in a minute on a laptop.
"""
import numpy as np

MAX_VALUE = 16  # the largest pixel value of the digits data


def load_digits():
    """Returns ``(x, y)``: ``x`` float32 of shape (1797, 64) in [-1, 1], ``y`` int64 labels 0-9."""
    try:
        from sklearn.datasets import load_digits as _sklearn_load_digits
    except ImportError as err:
        raise ImportError(f"the digits data set comes with scikit-learn, which is not installed ({err}); "
                          "install it with: pip install scikit-learn") from None
    bunch = _sklearn_load_digits()
    x = bunch.data.astype(np.float32) / np.float32(MAX_VALUE / 2) - np.float32(1)
    return x, bunch.target.astype(np.int64)
