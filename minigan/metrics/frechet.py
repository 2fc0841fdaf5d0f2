"""Fréchet distance between Gaussian fits of two feature sets: the FID formula.

    d^2 = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

(Dowson & Landau 1982; Heusel et al. 2017). FID proper uses Inception-v3 features; minigan's
scores use a small classifier trained with minigan (:mod:`minigan.metrics.classifier`) and are
labelled "FD (minigan digits classifier)" — comparable with each other, not with published FIDs.
"""
import warnings

import numpy as np
from scipy import linalg

__all__ = ["frechet_distance", "gaussian_fit", "frechet_distance_gaussians"]


def gaussian_fit(features, name="features"):
    """(mean, covariance) of an (n, d) feature array; covariance with ddof=1 as np.cov."""
    if hasattr(features, "numpy"):
        features = features.numpy()
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"{name} must be an (n, d) array with n >= 2 rows, got shape {features.shape}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{name} contains NaN or inf")
    return features.mean(axis=0), np.atleast_2d(np.cov(features, rowvar=False))


def _sqrtm(m):
    # singular products are common (dead ReLU features have zero variance); the FID code silences
    # scipy's warning (disp=False) and checks the result itself, as the caller below does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        return linalg.sqrtm(m)


def frechet_distance_gaussians(mu_a, cov_a, mu_b, cov_b, eps=1e-6):
    """The closed form for N(mu_a, cov_a) and N(mu_b, cov_b)."""
    diff = mu_a - mu_b
    covmean = _sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(covmean)):
        # no finite root (a badly singular product): nudge both diagonals, as the FID code does
        offset = eps * np.eye(len(cov_a))
        covmean = _sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(covmean):
        # sqrtm of a product of PSD matrices is real in exact arithmetic; rounding leaves tiny
        # imaginary parts, which the FID code drops unless the diagonal's exceed 1e-3
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"matrix square root has a large imaginary part "
                             f"({np.max(np.abs(covmean.imag)):.3g}): the covariances are not positive semi-definite")
        covmean = covmean.real
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean))


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two (n, d) feature arrays (same d)."""
    mu_a, cov_a = gaussian_fit(features_a, "features_a")
    mu_b, cov_b = gaussian_fit(features_b, "features_b")
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"features_a has {mu_a.shape[0]} features per row but features_b {mu_b.shape[0]}: "
                         "both must come from the same feature extractor")
    return frechet_distance_gaussians(mu_a, cov_a, mu_b, cov_b)
