"""Mode collapse on the 2-D toy mixtures: modes covered, high-quality samples, reverse KL.

The protocol of VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et al., 2018, Table 1): a
generated sample is *high quality* (HQ) if it lies within 3 standard deviations of its nearest
mode; a mode is *covered* if it is the nearest mode of at least one HQ sample.
:func:`mode_coverage` lives with the toy data (``minigan.data.toy``) and is re-exported here.
"""
import numpy as np
from scipy.spatial import cKDTree

from minigan.data.toy import mode_coverage

__all__ = ["mode_coverage", "mode_histogram", "reverse_kl"]


def _host(samples, dim):
    if hasattr(samples, "numpy"):  # a minigan Tensor: bring it to the host through its one door
        samples = samples.numpy()
    return np.asarray(samples, dtype=np.float64).reshape(-1, dim)


def mode_histogram(samples, modes, std):
    """Counts of high-quality samples per mode, shape (k,) int64.

    Sample i counts for mode ``argmin_k |x_i - mu_k|`` if ``|x_i - mu_k| <= 3 std_k`` (PacGAN's
    MetricLogger: nearest mode, then the 3-std test; other samples are not counted at all).
    """
    modes = np.asarray(modes, dtype=np.float64)
    if modes.ndim != 2 or len(modes) == 0:
        raise ValueError(f"modes must be a (k, d) array with k >= 1, got shape {modes.shape}")
    samples = _host(samples, modes.shape[1])
    if len(samples) == 0:
        return np.zeros(len(modes), dtype=np.int64)
    distance, nearest = cKDTree(modes).query(samples)
    std_k = np.broadcast_to(np.asarray(std, dtype=np.float64), (len(modes),))
    high_quality = distance <= 3 * std_k[nearest]
    return np.bincount(nearest[high_quality], minlength=len(modes)).astype(np.int64)


def reverse_kl(samples, modes, std):
    """PacGAN's reverse KL: KL(p || u) = sum_{k: p_k > 0} p_k log(p_k K), in nats.

    ``p`` is the :func:`mode_histogram` of the HQ samples normalised to sum 1 and ``u`` the
    uniform distribution over the K modes (the true one: all toy mixtures are equal-weight).
    Terms with p_k = 0 are 0 (x log x -> 0), so a missed mode costs nothing directly; it
    shows up through the others' larger p_k. 0 for a perfectly balanced generator, log K
    for one collapsed onto a single mode. NaN when no sample is high quality (p undefined).
    """
    counts = mode_histogram(samples, modes, std)
    total = counts.sum()
    if total == 0:
        return float("nan")
    p = counts[counts > 0] / total
    return float(np.sum(p * np.log(p * len(counts))))
