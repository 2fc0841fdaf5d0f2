"""Toy distributions for GAN experiments, with their true modes and densities.

Every sampler is seeded (its own NumPy Generator, so it never disturbs the backend's) and returns a
:class:`ToySample` ``(x, modes, std, pdf)``:

* ``x``      float32 samples of shape (n, d),
* ``modes``  float32 component means of shape (k, d),
* ``std``    the components' standard deviation (a float, or an array of k floats),
* ``pdf``    the true density, ``pdf(points of shape (m, d) or (m,)) -> (m,)`` float64.

All of them are equal-weight (unless told otherwise) isotropic Gaussian mixtures::

    p(x) = sum_k w_k N(x; mu_k, std_k^2 I)

The 2-D ring and grid, with :func:`mode_coverage`, are the mode-collapse benchmarks of
VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et al., 2018).
"""
from functools import partial
from typing import Callable, NamedTuple

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist
from scipy.special import logsumexp


class ToySample(NamedTuple):
    x: np.ndarray
    modes: np.ndarray
    std: object
    pdf: Callable


# --- the mixture underneath every sampler -------------------------------------------------------
def mixture_pdf(points, modes, std, weights=None):
    """p(x) = sum_k w_k (2 pi std_k^2)^(-d/2) exp(-|x - mu_k|^2 / (2 std_k^2)), via logsumexp."""
    modes = np.asarray(modes, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64).reshape(-1, modes.shape[1])
    k, d = modes.shape
    var = np.broadcast_to(np.asarray(std, dtype=np.float64) ** 2, (k,))
    weights = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
    # log densities of every (point, component) pair, summed in log space: far from all modes
    # each exp() underflows to 0 on its own, but logsumexp keeps the tails accurate
    log_comp = -0.5 * cdist(points, modes, "sqeuclidean") / var - 0.5 * d * np.log(2 * np.pi * var)
    return np.exp(logsumexp(log_comp, b=weights, axis=1))


def sample_mixture(n, modes, std, weights=None, seed=0):
    """n draws of the mixture: pick component c ~ Categorical(w), then x = mu_c + std_c * eps."""
    n = _check_n(n)
    modes = np.asarray(modes, dtype=np.float64)
    k, d = modes.shape
    std_k = np.broadcast_to(np.asarray(std, dtype=np.float64), (k,))
    if np.any(std_k < 0):
        raise ValueError(f"std must be >= 0, got {std}")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (k,) or np.any(weights < 0) or not np.isclose(weights.sum(), 1):
            raise ValueError(f"weights must be {k} non-negative numbers summing to 1, got {weights}")
    rng = np.random.default_rng(seed)
    component = rng.choice(k, size=n, p=weights)
    x = modes[component] + std_k[component, None] * rng.standard_normal((n, d))
    return ToySample(x.astype(np.float32), modes.astype(np.float32), std,
                     partial(mixture_pdf, modes=modes, std=std, weights=weights))


def _check_n(n):
    if int(n) != n or n < 0:
        raise ValueError(f"number of samples must be a non-negative integer, got {n!r}")
    return int(n)


# --- the named distributions --------------------------------------------------------------------
def gaussian_1d(n, mean=4.0, std=0.5, seed=0):
    """x ~ N(mean, std^2), shape (n, 1): the 1-D example of Goodfellow et al. (2014), Fig. 1."""
    return sample_mixture(n, [[mean]], std, seed=seed)


def mixture_1d(n, means=(-3.0, 3.0), std=0.5, weights=None, seed=0):
    """x ~ sum_k w_k N(means_k, std_k^2), shape (n, 1): two modes to watch a 1-D GAN collapse."""
    return sample_mixture(n, np.asarray(means, dtype=np.float64).reshape(-1, 1), std, weights, seed)


def ring_modes(n_modes=8, radius=1.0):
    """mu_k = radius (cos 2 pi k / K, sin 2 pi k / K), k = 0..K-1: K distinct angles.

    (``linspace(0, 2 pi, K)`` would include both 0 and 2 pi, i.e. the same mode twice.)
    """
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring(n, n_modes=8, radius=1.0, std=0.01, seed=0):
    """The ring of 8 Gaussians (radius 1, std 0.01), shape (n, 2)."""
    return sample_mixture(n, ring_modes(n_modes, radius), std, seed=seed)


def grid_modes(values=(-4, -2, 0, 2, 4)):
    """mu = (a, b) for a, b in ``values``: the 5 x 5 grid of means {-4, -2, 0, 2, 4}^2."""
    a, b = np.meshgrid(values, values, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1).astype(np.float64)


def grid(n, values=(-4, -2, 0, 2, 4), std=0.05, seed=0):
    """The grid of 25 Gaussians (std 0.05), shape (n, 2)."""
    return sample_mixture(n, grid_modes(values), std, seed=seed)


# --- the mode-collapse metric -------------------------------------------------------------------
def mode_coverage(samples, modes, std):
    """(modes covered, fraction of high-quality samples), as in VEEGAN and PacGAN.

    A sample is *high quality* if it lies within 3 std of its nearest mode; a mode is *covered*
    if it is the nearest mode of at least one high-quality sample. Perfect samples of the ring
    give (8, ~1.0); a generator collapsed onto one mode gives (1, ...).
    """
    if hasattr(samples, "numpy"):  # a minigan Tensor: bring it to the host through its one door
        samples = samples.numpy()
    modes = np.asarray(modes, dtype=np.float64)
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, modes.shape[1])
    if len(samples) == 0:
        return 0, 0.0
    distance, nearest = cKDTree(modes).query(samples)
    std_k = np.broadcast_to(np.asarray(std, dtype=np.float64), (len(modes),))
    high_quality = distance <= 3 * std_k[nearest]  # each sample judged by its nearest mode's std
    return int(np.unique(nearest[high_quality]).size), float(high_quality.mean())
