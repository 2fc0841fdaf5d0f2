"""Scores over a classifier's class probabilities p(y|x) of generated images.

* :func:`inception_score` — exp(E_x KL(p(y|x) || p(y))) (Salimans et al. 2016), computed as
  the original code does: over ``splits`` consecutive parts (equal when ``splits`` divides n,
  else ``np.array_split``'s sizes), p(y) the mean of each part, then the mean and (ddof=0) std
  of the parts' scores. 1 when every image gets the same distribution; K when
  every image is classified with certainty and the K classes are equally frequent.
  With minigan's classifier it is an "IS-style score", not the Inception Score.
* :func:`class_balance` — the share of images predicted as each class (argmax): an image
  generator collapsed onto a few digits shows it at once.
* :func:`confident_share` — the share of images whose top class has probability > threshold.
"""
import numpy as np
from scipy.special import rel_entr

__all__ = ["class_balance", "confident_share", "inception_score"]


def _check_probs(probs):
    if hasattr(probs, "numpy"):
        probs = probs.numpy()
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] == 0 or probs.shape[1] < 2:
        raise ValueError(f"probs must be an (n, classes) array with n >= 1 and >= 2 classes, got shape {probs.shape}")
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1, atol=1e-4):
        raise ValueError("probs must be probabilities: non-negative, each row summing to 1 (apply softmax first)")
    return probs


def inception_score(probs, splits=10):
    """(mean, std) over ``splits`` parts of exp(mean_x sum_y p(y|x) log(p(y|x) / p(y)))."""
    probs = _check_probs(probs)
    if int(splits) != splits or not 1 <= splits <= len(probs):
        raise ValueError(f"splits must be an integer in 1..{len(probs)} (the number of images), got {splits!r}")
    scores = []
    for part in np.array_split(probs, int(splits)):
        marginal = part.mean(axis=0, keepdims=True)
        # rel_entr(p, q) = p log(p/q), and 0 where p = 0: one-hot rows need no epsilon
        scores.append(np.exp(rel_entr(part, marginal).sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def class_balance(probs):
    """Share of images whose most probable class is each class, shape (classes,), summing to 1."""
    probs = _check_probs(probs)
    return np.bincount(probs.argmax(axis=1), minlength=probs.shape[1]) / len(probs)


def confident_share(probs, threshold=0.9):
    """Share of images with max_y p(y|x) > threshold."""
    return float((_check_probs(probs).max(axis=1) > threshold).mean())
