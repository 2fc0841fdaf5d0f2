"""Sample-quality metrics, each the published formula, tested against independent computations.

Toy 2-D mixtures (VEEGAN, PacGAN)
    :func:`mode_coverage` (modes covered, share of high-quality samples), :func:`mode_histogram`,
    :func:`reverse_kl` (PacGAN's KL between the HQ samples' mode histogram and uniform).
Likelihood (Goodfellow et al. 2014)
    :func:`parzen_log_likelihood`, :func:`parzen_protocol` (sigma by validation, mean +- s.e.).
Images, through a classifier's outputs
    :func:`frechet_distance` (the FID formula on any features), :func:`inception_score`
    (IS-style score), :func:`class_balance`, :func:`confident_share`; the classifier itself,
    trained with minigan and cached, comes from :func:`load_classifier`. Its scores are labelled
    "FD (minigan digits classifier)" and so on — never "FID", which means Inception-v3 features.

All functions take host NumPy arrays (or minigan Tensors, brought to the host) and return
Python floats or NumPy arrays.
"""
from minigan.metrics.classes import class_balance, confident_share, inception_score
from minigan.metrics.classifier import Classifier, load_classifier
from minigan.metrics.frechet import frechet_distance, frechet_distance_gaussians, gaussian_fit
from minigan.metrics.modes import mode_coverage, mode_histogram, reverse_kl
from minigan.metrics.parzen import PAPER_SIGMAS, parzen_log_likelihood, parzen_protocol

__all__ = [
    "PAPER_SIGMAS", "Classifier", "class_balance", "confident_share", "frechet_distance",
    "frechet_distance_gaussians", "gaussian_fit", "inception_score", "load_classifier", "mode_coverage",
    "mode_histogram", "parzen_log_likelihood", "parzen_protocol", "reverse_kl",
]
