"""Batch normalization's fused kernels (see minigan/kernels/__init__.py): the elementwise halves of its
forward and backward. The per-channel sums between them are reductions the caller makes with the
backend's ``xp`` (minigan/conv/batch_norm.py), so each kernel here is one elementwise pass over the
(N, C, *) tensor, its per-channel factors arriving broadcastable, shaped (1, C, 1, ...)."""
import numpy as np

from minigan.kernels.pool import empty_like
from minigan.kernels.registry import kernel


@kernel("T c, T scale, T shift", "T y", "y = c * scale + shift")
def batch_norm(c, scale, shift):
    """y = c * scale + shift for the centred input c = x - mean, scale = weight / sqrt(var + eps) and
    shift = bias: the normalization and the affine map in one pass. The result has c's memory order."""
    y = np.multiply(c, scale, out=empty_like(c))
    y += shift
    return y


@kernel("T g, T c, T k1, T k2, T k3", "T dx", "dx = g * k1 + c * k2 + k3")
def batch_norm_backward(g, c, k1, k2, k3):
    """dx = g k1 + c k2 + k3: batch normalization's input gradient, (w / s) (g - mean(g) - xhat mean(g xhat))
    with s = sqrt(var + eps) and xhat = c / s, once the caller folded the per-channel means into
    k1 = w / s, k2 = -k1 mean(g c) / s^2, k3 = -k1 mean(g). The result has c's memory order (the input's)."""
    dx = np.multiply(c, k2, out=empty_like(c))
    dx += k3
    tmp = np.multiply(g, k1, out=empty_like(c))
    dx += tmp
    return dx
