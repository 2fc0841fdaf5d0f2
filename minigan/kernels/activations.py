"""The activations' and losses' fused kernels (see minigan/kernels/__init__.py): forward and backward of
LeakyReLU, ReLU (and the selection its gradient is), Sigmoid, Tanh, BCE and BCE with logits."""
import numpy as np

from minigan.kernels import pool
from minigan.kernels.registry import kernel

_UNSIGNED = {2: np.uint16, 4: np.uint32, 8: np.uint64}  # the unsigned int as wide as each float


def _like(a):
    return pool.empty_like(a)   # large outputs from the cache of minigan/kernels/pool.py


# ---- activations -------------------------------------------------------------------------------
@kernel("T a, T slope", "T out, T mask", "mask = (a > (T)0) ? (T)1 - slope : (T)0; mask += slope; out = a * mask")
def leaky_relu(a, slope):
    """(a * mask, mask) with mask = 1 where a > 0, else slope: an arithmetic mask (no branches)."""
    mask = np.greater(a, 0, out=_like(a))
    mask *= 1.0 - slope
    mask += slope
    return np.multiply(a, mask, out=_like(a)), mask


@kernel("T a", "T out, bool keep", "out = (a <= (T)0) ? (T)0 : a; keep = !(out <= (T)0)")
def relu(a):
    """(max(a, 0), keep): keep marks where the gradient passes (also at NaN, as PyTorch)."""
    out = np.maximum(a, 0, out=_like(a))
    keep = np.less_equal(out, 0, out=pool.empty(np, a.shape, bool))
    return out, np.logical_not(keep, out=keep)


@kernel("T a, bool keep", "T out", "out = keep ? a : (T)0")
def select(a, keep):
    """where(keep, a, 0), exactly 0 where dropped even for inf/NaN: each float is ANDed with an
    all-ones or all-zeros word (xp.where ran ~30x slower on random masks: branch misprediction)."""
    unsigned = _UNSIGNED[a.dtype.itemsize]
    words = pool.empty(np, np.shape(keep), unsigned)
    words[...] = keep   # (keep may be a NumPy bool scalar: 0-d comparisons)
    np.multiply(words, np.iinfo(unsigned).max, out=words)  # True -> all ones, False -> 0
    out = pool.empty(np, np.broadcast_shapes(a.shape, keep.shape), a.dtype)
    np.bitwise_and(a.view(unsigned), words, out=out.view(unsigned))
    return out


@kernel("T a, bool keep, T scale", "T out", "out = keep ? a * scale : (T)0")
def select_scaled(a, keep, scale):
    """where(keep, a * scale, 0) for a weight ``scale`` that is never 0 where keep holds."""
    out = select(a, keep)
    out *= scale
    return out


@kernel("T a", "T s", "T z = exp(-fabs(a)); s = ((a >= (T)0) ? (T)1 : z) / ((T)1 + z)")
def sigmoid(a):
    """1 / (1 + exp(-x)) from z = exp(-|x|): z / (1 + z) for x < 0 keeps sigmoid(-30) = 9e-14."""
    z = np.abs(a, out=_like(a))
    np.negative(z, out=z)
    np.exp(z, out=z)
    s = np.where(a >= 0, 1.0, z).astype(a.dtype, copy=False)
    z += 1.0
    return np.divide(s, z, out=z)


@kernel("T grad, T s", "T out", "out = grad * (s * ((T)1 - s))")
def sigmoid_backward(grad, s):
    out = np.subtract(1.0, s, out=_like(s))
    out *= s
    return np.multiply(grad, out, out=out)


@kernel("T a", "T t", "t = tanh(a)")
def tanh(a):
    return np.tanh(a, out=_like(a))


@kernel("T grad, T t", "T out", "out = grad * ((T)1 - t * t)")
def tanh_backward(grad, t):
    out = np.multiply(t, t, out=_like(t))
    np.subtract(1.0, out, out=out)
    return np.multiply(grad, out, out=out)


# ---- binary cross entropy, from probabilities and from logits ---------------------------------
_BCE = ("-(t * ((p == (T)0) ? (T)-100 : max(log(p), (T)-100))"
        " + ((T)1 - t) * ((p == (T)1) ? (T)-100 : max(log1p(-p), (T)-100)))")


@kernel("T p, T t", "T loss", f"loss = {_BCE}")
def bce(p, t):
    """-[t log p + (1 - t) log(1 - p)], each log clamped at -100 (PyTorch's rule), no log(0) warning."""
    zero = np.equal(p, 0, out=_like(p))    # log(0) is taken as log(1) - 100
    log_p = np.add(p, zero, out=_like(p))
    np.log(log_p, out=log_p)
    zero *= 100.0
    log_p -= zero
    np.maximum(log_p, -100.0, out=log_p)
    one = np.equal(p, 1, out=zero)         # log1p(-p), so that log(1 - 1e-12) keeps its digits
    log_1mp = np.subtract(p, one, out=_like(p))
    np.negative(log_1mp, out=log_1mp)
    np.log1p(log_1mp, out=log_1mp)
    one *= 100.0
    log_1mp -= one
    np.maximum(log_1mp, -100.0, out=log_1mp)
    log_p *= t
    log_1mp *= 1.0 - t
    log_p += log_1mp
    return np.negative(log_p, out=log_p)


@kernel("T p, T t, T scale", "T y", _BCE, reduce=("a + b", "y = a * scale", "0"))
def bce_sum(p, t, scale):
    """sum(bce(p, t)) * scale as a 0-d array: the mean with scale = 1 / n."""
    return np.asarray(bce(p, t).sum(axis=tuple(range(p.ndim))) * scale)


@kernel("T grad, T p, T t, T scale", "T out", "out = (grad * scale) * (p - t) / max(p * ((T)1 - p), (T)1e-12)")
def bce_backward(grad, p, t, scale):
    """d/dp = (p - t) / max(p (1 - p), 1e-12) (PyTorch's, finite everywhere), times grad * scale."""
    den = np.subtract(1.0, p, out=_like(p))
    den *= p
    np.maximum(den, 1e-12, out=den)
    out = np.subtract(p, t, out=_like(p))
    out *= grad * scale
    return np.divide(out, den, out=out)


_BCE_LOGITS = ("t * (max(-z, (T)0) + log1p(exp(-fabs(z))))"
               " + ((T)1 - t) * (max(z, (T)0) + log1p(exp(-fabs(z))))")


@kernel("T z, T t", "T loss", f"loss = {_BCE_LOGITS}")
def bce_logits(z, t):
    """t softplus(-z) + (1 - t) softplus(z) with softplus(x) = max(x, 0) + log1p(exp(-|x|)): both
    terms are >= 0, so nothing cancels and every logit is exact."""
    e = np.abs(z, out=_like(z))
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.log1p(e, out=e)
    neg = np.maximum(-z, 0.0)
    neg += e
    neg *= t
    pos = np.maximum(z, 0.0)
    pos += e
    pos *= 1.0 - t
    return np.add(neg, pos, out=pos)


@kernel("T z, T t, T scale", "T y", _BCE_LOGITS, reduce=("a + b", "y = a * scale", "0"))
def bce_logits_sum(z, t, scale):
    return np.asarray(bce_logits(z, t).sum(axis=tuple(range(z.ndim))) * scale)


@kernel("T grad, T z, T t, T scale", "T out", """T e = exp(-fabs(z));
T s_pos = ((z >= (T)0) ? (T)1 : e) / ((T)1 + e);
T s_neg = ((z >= (T)0) ? e : (T)1) / ((T)1 + e);
out = (grad * scale) * (((T)1 - t) * s_pos - t * s_neg)""")
def bce_logits_backward(grad, z, t, scale):
    """d/dz = sigmoid(z) - t, as (1 - t) sigmoid(z) - t sigmoid(-z) so that nothing cancels (at z = 60,
    t = 1 it is -sigmoid(-60) = -9e-27, not 0), times grad * scale."""
    out = sigmoid(z)
    out *= 1.0 - t
    neg = sigmoid(np.negative(z))
    neg *= t
    out -= neg
    out *= grad * scale
    return out
