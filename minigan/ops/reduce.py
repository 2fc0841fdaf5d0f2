"""Reductions, norms, and the two broadcasting primitives (broadcast_to and its adjoint sum_to).

Every reduction takes NumPy's ``axis=``/``keepdims=`` or PyTorch's ``dim=``/``keepdim=``
(see coerce.reduction_axes for the one place they differ: an empty tuple).
"""
import builtins
import collections
import math

from minigan.ops.coerce import kept_shape, reduction_axes
from minigan.ops.select import argmax, mask
from minigan.tensor import Function, Tensor

MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])  # torch.return_types.max


class Sum(Function):
    saves_inputs = False

    def forward(self, a, axes, keepdims): return a.sum(axis=axes, keepdims=keepdims)
    def backward(self, grad): return (_unreduce(grad, self.inputs[0].shape, self.axes),)


def _unreduce(grad, in_shape, axes):
    """A reduction's gradient broadcast back over the input's shape (the reduced axes restored)."""
    return grad.reshape(kept_shape(in_shape, axes)).broadcast_to(in_shape)


def sum(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    axes, keepdims = reduction_axes(a.ndim, axis, keepdims, dim, keepdim)
    return Sum.apply(a, axes=axes, keepdims=keepdims)


def _count(a, axes): return math.prod(a.shape[ax] for ax in axes)


def mean(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """The mean; NaN over an empty axis (as NumPy and PyTorch)."""
    axes, keepdims = reduction_axes(a.ndim, axis, keepdims, dim, keepdim)
    count = _count(a, axes)
    return Sum.apply(a, axes=axes, keepdims=keepdims) * (1.0 / count if count else math.nan)


def var(a, axis=None, correction=None, keepdims=False, *, dim=None, keepdim=None, unbiased=None, ddof=None):
    """sum((x - mean)^2) / (N - correction); PyTorch's default correction=1 (the unbiased estimate).

    ``ddof`` is NumPy's name and ``unbiased`` PyTorch's old one for the same thing; BatchNorm
    normalizes with correction=0.
    """
    centered, axes, keepdims, scale = _spread(a, axis, correction, keepdims, dim, keepdim, unbiased, ddof)
    return (centered * centered).sum(axes, keepdims) * scale


def std(a, axis=None, correction=None, keepdims=False, *, dim=None, keepdim=None, unbiased=None, ddof=None):
    """sqrt(var), as ||x - mean|| * sqrt(1 / (N - correction)): the norm's gradient is 0 (not NaN)
    where every value is the same, as PyTorch's."""
    centered, axes, keepdims, scale = _spread(a, axis, correction, keepdims, dim, keepdim, unbiased, ddof)
    return Norm2.apply(centered, axes=axes, keepdims=keepdims) * math.sqrt(scale)


def _spread(a, axis, correction, keepdims, dim, keepdim, unbiased, ddof):
    """x - mean, the axes, keepdims and 1 / (N - correction) for var and std."""
    if isinstance(correction, bool):  # PyTorch's positional form var(dim, unbiased)
        correction, unbiased = None, correction
    given = [c for c in (correction, ddof, None if unbiased is None else int(unbiased)) if c is not None]
    if len(given) > 1:
        raise TypeError("var/std: give one of correction=, ddof= and unbiased=")
    correction = given[0] if given else 1
    axes, keepdims = reduction_axes(a.ndim, axis, keepdims, dim, keepdim)
    divisor = builtins.max(_count(a, axes) - correction, 0)
    # 0/0 = NaN and x/0 = inf, as PyTorch (with its warning) gives when N <= correction
    return a - mean(a, axes, keepdims=True), axes, keepdims, (1.0 / divisor if divisor else math.inf)


class Max(Function):
    """Max over axes. ``ties="split"`` shares the gradient equally between tied maxima (NumPy-style
    amax, and PyTorch's x.max()); ``ties="first"`` gives it to the first one (PyTorch's max(dim))."""
    saves_inputs = False

    def forward(self, a, axes, keepdims, ties):
        top = a.max(axis=axes, keepdims=True)
        if ties == "split":
            self.keep = a == top
            self.scale = 1.0 / self.keep.sum(axis=axes, keepdims=True).astype(a.dtype)
        else:  # one axis: a one-hot of the first index of the maximum
            positions = self.xp.arange(a.shape[axes[0]]).reshape(kept_shape(a.shape, set(range(a.ndim)) - set(axes)))
            self.keep, self.scale = positions == a.argmax(axis=axes[0], keepdims=True), None
        return top if keepdims else top.squeeze(axis=axes)

    def backward(self, grad): return (mask(_unreduce(grad, self.inputs[0].shape, self.axes), self.keep, self.scale),)


def max(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """NumPy's max (``axis=``: the values) or PyTorch's (``dim=``: values and indices)."""
    axes, keepdims = reduction_axes(a.ndim, axis, keepdims, dim, keepdim)
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return Max.apply(a, axes=axes, keepdims=keepdims, ties="split")
    if not isinstance(dim, int):
        raise TypeError(f"max(dim=...) takes one int dimension, got {dim!r}; use amax for several")
    return MaxResult(Max.apply(a, axes=axes, keepdims=keepdims, ties="first"), argmax(a, axes[0], keepdims))


def min(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    result = max(-a, axis, keepdims, dim=dim, keepdim=keepdim)
    return MaxResult(-result.values, result.indices) if isinstance(result, MaxResult) else -result


def amax(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Max over one or several axes (all for None or dim=()); tied maxima share the gradient."""
    axes, keepdims = reduction_axes(a.ndim, axis, keepdim if keepdims is None else keepdims, dim, None)
    return Max.apply(a, axes=axes, keepdims=keepdims, ties="split")


def amin(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return -amax(-a, dim, keepdim, axis=axis, keepdims=keepdims)


class Norm2(Function):
    """sqrt(sum x^2); the gradient x / norm is 0 where the norm is 0 (PyTorch's subgradient),
    so a gradient penalty stays finite when an input gradient is exactly zero."""
    saves_output = True

    def forward(self, a, axes, keepdims): return self.xp.sqrt((a * a).sum(axis=axes, keepdims=keepdims))

    def backward(self, grad):
        (a,) = self.inputs
        shape = kept_shape(a.shape, self.axes)
        norm = self.output().reshape(shape)
        # the norm, or 1 where it is 0 (there a is 0 too, so the gradient is 0, never 0/0)
        safe = norm + Tensor((norm.data == 0).astype(norm.dtype), _backend=self.backend)
        return (a * (grad.reshape(shape) / safe),)


def norm(a, p=2, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """PyTorch's x.norm(p, dim): the vector p-norm over ``dim`` (all elements if None)."""
    axes, keepdims = reduction_axes(a.ndim, axis, keepdim if keepdims is None else keepdims, dim, None)
    if p == 2:
        return Norm2.apply(a, axes=axes, keepdims=keepdims)
    if p in (1, math.inf, -math.inf):  # the sum, the largest or the smallest |x|
        return {1: sum, math.inf: amax, -math.inf: amin}[p](a.abs(), axes, keepdims)
    if p == 0:  # the number of non-zero entries (no gradient, as in PyTorch)
        return Tensor((a.data != 0).sum(axis=axes, keepdims=keepdims).astype(a.dtype), _backend=a.backend)
    return (a.abs() ** p).sum(axes, keepdims) ** (1.0 / p)


class BroadcastTo(Function):
    saves_inputs = False

    def forward(self, a, shape): return self.xp.broadcast_to(a, shape)
    def backward(self, grad): return (sum_to(grad, self.inputs[0].shape),)


def broadcast_to(a, shape):
    shape = tuple(shape)
    if a.shape == shape:
        return a
    try:
        return BroadcastTo.apply(a, shape=shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {a.shape} cannot be broadcast to {shape}") from None


class SumTo(Function):
    """Sum a broadcast array back down to ``shape`` (the adjoint of broadcast_to)."""
    saves_inputs = False

    def forward(self, a, shape):
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
        return (a.sum(axis=axes, keepdims=True) if axes else a).reshape(shape)

    def backward(self, grad): return (grad.broadcast_to(self.inputs[0].shape),)


def sum_to(t, shape): return t if t.shape == tuple(shape) else SumTo.apply(t, shape=tuple(shape))
