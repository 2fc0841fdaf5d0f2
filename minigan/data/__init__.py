"""Data for GAN experiments: MNIST, scikit-learn's 8x8 digits, toy distributions, minibatches.

Everything here is host-side NumPy except :class:`DataLoader`, which uploads its data set to the
current backend once and hands out minigan Tensors. Images come scaled to [-1, 1].
"""
from minigan.data.digits import load_digits
from minigan.data.loader import DataLoader
from minigan.data.mnist import DataError, download_mnist, load_mnist, parse_idx, read_idx
from minigan.data.registry import Dataset, dataset_names, load_dataset
from minigan.data.toy import (ToySample, gaussian_1d, grid, grid_modes, mixture_1d, mixture_pdf,
                              mode_coverage, ring, ring_modes, sample_mixture)

__all__ = [
    "DataError", "DataLoader", "Dataset", "ToySample", "dataset_names", "download_mnist",
    "gaussian_1d", "grid", "grid_modes", "load_dataset", "load_digits", "load_mnist", "mixture_1d",
    "mixture_pdf", "mode_coverage", "parse_idx", "read_idx", "ring", "ring_modes", "sample_mixture",
]
