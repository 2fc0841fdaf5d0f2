"""Reductions and the two broadcasting primitives (broadcast_to and its adjoint sum_to)."""
from minigan.ops.elementwise import _constant
from minigan.tensor import Function


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(ax % ndim for ax in axes))


def _keepdims_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    def forward(self, a, axes, keepdims):
        self.in_shape, self.axes = a.shape, axes
        return a.sum(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        kept = grad.reshape(_keepdims_shape(self.in_shape, self.axes))
        return (kept.broadcast_to(self.in_shape),)


class Max(Function):
    """max over axes; the gradient is shared equally between tied maxima."""

    def forward(self, a, axes, keepdims):
        self.in_shape, self.axes = a.shape, axes
        top = a.max(axis=axes, keepdims=True)
        mask = (a == top).astype(a.dtype)
        mask /= mask.sum(axis=axes, keepdims=True)
        self.mask = mask
        return top if keepdims else top.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    def backward(self, grad):
        kept = grad.reshape(_keepdims_shape(self.in_shape, self.axes))
        return (kept * _constant(self, self.mask),)


class BroadcastTo(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return self.xp.broadcast_to(a, shape)

    def backward(self, grad):
        return (sum_to(grad, self.in_shape),)


class SumTo(Function):
    """Sum a broadcast array back down to ``shape`` (the adjoint of broadcast_to)."""

    def forward(self, a, shape):
        self.in_shape = a.shape
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
        out = a.sum(axis=axes, keepdims=True) if axes else a
        return out.reshape(shape)

    def backward(self, grad):
        return (grad.broadcast_to(self.in_shape),)


def sum_to(t, shape):
    shape = tuple(shape)
    return t if t.shape == shape else SumTo.apply(t, shape=shape)
