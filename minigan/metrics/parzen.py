"""Parzen-window log-likelihood, the MNIST score of Goodfellow et al. (2014), Table 1.

A Gaussian kernel of width sigma on each of the N generated samples mu_j gives a density, and
the score is the mean log-density of held-out real data x::

    log p(x) = log (1/N) sum_j N(x; mu_j, sigma^2 I)
             = logsumexp_j(-|x - mu_j|^2 / (2 sigma^2)) - log N - d log(sigma sqrt(2 pi))

The protocol (goodfeli/adversarial, ``parzen_ll.py``): 10,000 generated samples; sigma chosen
from ``logspace(-1, 0, 10)`` by the best mean log-likelihood on a validation set (the first
1,000 images of MNIST train[50000:60000]); then the mean over the test set and its standard
error ``std(ll) / sqrt(n)`` (NumPy's std, ddof=0, as there). Images are in [0, 1].

Memory stays bounded: ``batch_size`` test points at a time meet all N samples through
``|x|^2 + |mu|^2 - 2 x.mu``, an (batch_size, N) matrix, never (n_test, N, d).
"""
import numpy as np
from scipy.special import logsumexp

__all__ = ["PAPER_SIGMAS", "parzen_log_likelihood", "parzen_protocol"]

PAPER_SIGMAS = np.logspace(-1, 0, 10)  # parzen_ll.py's --sigma_start -1 --sigma_end 0 --cross_val 10


def _as_matrix(name, x):
    if hasattr(x, "numpy"):  # a minigan Tensor: bring it to the host through its one door
        x = x.numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must be an (n, ...) array with n >= 1, got shape {x.shape}")
    return x.reshape(len(x), -1)


def _log_likelihoods(samples, test, sigmas, batch_size):
    """(len(sigmas), n_test) log-densities; the distances are computed once for all sigmas."""
    samples, test = _as_matrix("samples", samples), _as_matrix("test", test)
    if samples.shape[1] != test.shape[1]:
        raise ValueError(f"samples have {samples.shape[1]} numbers each but test points {test.shape[1]}: "
                         "both must be in the same (flattened) space")
    sigmas = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    if sigmas.ndim != 1 or not np.all(sigmas > 0) or not np.all(np.isfinite(sigmas)):
        raise ValueError(f"sigma must be positive and finite, got {sigmas}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n, d = samples.shape
    log_norm = np.log(n) + d * np.log(sigmas * np.sqrt(2 * np.pi))   # (s,)
    sample_sq = np.einsum("ij,ij->i", samples, samples)               # (N,)
    out = np.empty((len(sigmas), len(test)))
    for start in range(0, len(test), int(batch_size)):
        x = test[start:start + int(batch_size)]
        sq_dist = np.einsum("ij,ij->i", x, x)[:, None] + sample_sq[None, :] - 2 * x @ samples.T
        np.maximum(sq_dist, 0, out=sq_dist)   # rounding can leave -1e-13 where x == mu_j
        for i, sigma in enumerate(sigmas):
            out[i, start:start + len(x)] = logsumexp(-sq_dist / (2 * sigma**2), axis=1) - log_norm[i]
    return out


def parzen_log_likelihood(samples, test, sigma, batch_size=100):
    """log p(x) for every test point, shape (n_test,), under Gaussian kernels of width ``sigma``
    centred on ``samples``. Both arrays are (n, ...) and flattened per row; float64 throughout."""
    if np.ndim(sigma) != 0:
        raise ValueError(f"sigma must be one number, got {sigma!r}; parzen_protocol tries several")
    return _log_likelihoods(samples, test, [sigma], batch_size)[0]


def parzen_protocol(samples, valid, test, sigmas=PAPER_SIGMAS, batch_size=100):
    """Goodfellow et al.'s protocol: the sigma with the best mean log-likelihood on ``valid``,
    then the mean log-likelihood of ``test`` and its standard error.

    Returns a dict: ``mean``, ``se`` (std / sqrt(n_test)), ``sigma``, ``n_samples``, ``n_test``,
    and ``valid_mean`` (the mean validation log-likelihood of each sigma in ``sigmas``).
    """
    sigmas = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
    valid_mean = _log_likelihoods(samples, valid, sigmas, batch_size).mean(axis=1)
    best = float(sigmas[int(np.argmax(valid_mean))])
    ll = parzen_log_likelihood(samples, test, best, batch_size)
    return {"mean": float(ll.mean()), "se": float(ll.std() / np.sqrt(len(ll))), "sigma": best,
            "n_samples": int(len(samples)), "n_test": int(len(ll)),
            "sigmas": sigmas.tolist(), "valid_mean": valid_mean.tolist()}
