"""Shape primitives: reshape, transpose, indexing and concatenation. No arithmetic happens here."""
import itertools
import math

import numpy as np  # host-side only: the inverse of a permutation

from minigan.ops.coerce import as_tensor, normalize_axes, shape_args
from minigan.tensor import Function, Tensor


class Reshape(Function):
    saves_inputs = False

    def forward(self, a, shape): return a.reshape(shape)
    def backward(self, grad): return (grad.reshape(self.inputs[0].shape),)


def reshape(a, *shape):
    """a.reshape(2, 3) or a.reshape((2, 3)); PyTorch's ``view`` is the same here."""
    return Reshape.apply(a, shape=shape_args(shape))


view = reshape


def flatten(a, start_dim=0, end_dim=-1):
    """PyTorch's flatten: dimensions start_dim..end_dim merged into one (all of them by default)."""
    start, end = start_dim % max(a.ndim, 1), end_dim % max(a.ndim, 1)  # a 0-d tensor becomes shape (1,)
    return a.reshape(a.shape[:start] + (math.prod(a.shape[start:end + 1]),) + a.shape[end + 1:])


def squeeze(a, dim=None):
    """Drop length-1 dimensions (all, or those in ``dim``); PyTorch's rule: other dims are kept."""
    drop = {d for d in normalize_axes(dim, a.ndim) if a.shape[d] == 1}
    return a.reshape(tuple(n for i, n in enumerate(a.shape) if i not in drop))


def unsqueeze(a, dim):
    """A new length-1 dimension at ``dim`` (-1 appends one)."""
    dim = dim % (a.ndim + 1)
    return a.reshape(a.shape[:dim] + (1,) + a.shape[dim:])


class Transpose(Function):
    saves_inputs = False

    def forward(self, a, axes): return a.transpose(axes)
    def backward(self, grad): return (grad.permute(tuple(int(i) for i in np.argsort(self.axes))),)


def permute(a, *dims):
    """Axes reordered: output axis i is input axis dims[i] (PyTorch's permute, NumPy's transpose)."""
    dims = shape_args(dims)
    if any(not -a.ndim <= d < a.ndim for d in dims) or sorted(d % a.ndim for d in dims) != list(range(a.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {a.ndim} dimensions of {a.shape}")
    return Transpose.apply(a, axes=tuple(d % a.ndim for d in dims))


def transpose(a, *axes):
    """Two ints swap those axes (PyTorch: ``x.transpose(0, 1)``); a tuple, or none for reversed,
    is a full permutation (NumPy: ``x.transpose((1, 0, 2))``, ``x.transpose()``)."""
    if len(axes) == 2 and all(isinstance(d, int) for d in axes):
        return swapaxes(a, *axes)
    return permute(a, *axes) if axes else permute(a, tuple(reversed(range(a.ndim))))


def swapaxes(a, axis0, axis1):
    order = list(range(a.ndim))
    order[axis0], order[axis1] = order[axis1], order[axis0]
    return permute(a, order)


def _is_basic(index):
    """Basic indices (ints, slices, None, ...) select each element at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    saves_inputs = False

    def forward(self, a, index): return a[index]
    def backward(self, grad): return (IndexAdd.apply(grad, index=self.index, shape=self.inputs[0].shape),)


class IndexAdd(Function):
    """zeros(shape) with ``values`` added at ``index`` (repeated indices add up): GetItem's adjoint."""
    saves_inputs = False

    def forward(self, values, index, shape):
        out = self.xp.zeros(shape, dtype=values.dtype)
        if _is_basic(index):
            out[index] = values
        else:
            self.backend.index_add(out, index, values)
        return out

    def backward(self, grad): return (grad[self.index],)


def getitem(a, index): return GetItem.apply(a, index=normalize_index(index, a.backend))


def normalize_index(index, backend):
    """Tensors and host index arrays inside an index become arrays of the backend."""
    if isinstance(index, tuple):
        return tuple(normalize_index(part, backend) for part in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list) or (hasattr(index, "dtype") and not backend.is_array(index)):
        return backend.asarray(index)
    return index


class Concatenate(Function):
    saves_inputs = False

    def forward(self, *arrays, axis):
        self.sizes = [a.shape[axis] for a in arrays]
        return self.xp.concatenate(arrays, axis=axis)

    def backward(self, grad):  # each input's slice of the gradient along the axis
        prefix = (slice(None),) * (self.axis % grad.ndim)
        return [grad[prefix + (slice(end - size, end),)] if needed else None
                for size, end, needed in zip(self.sizes, itertools.accumulate(self.sizes), self.needs_input_grad)]


def concatenate(tensors, axis=0, *, dim=None):
    """Join along an existing axis (PyTorch's cat)."""
    axis = axis if dim is None else dim
    tensors = list(tensors)  # a generator is read once
    first, *rest = [as_tensor(t, tensors[0]) for t in tensors]
    for t in rest:
        if t.ndim != first.ndim or any(m != n for i, (m, n) in enumerate(zip(t.shape, first.shape))
                                       if i != axis % first.ndim):
            raise ValueError(f"concatenate: shapes {first.shape} and {t.shape} differ outside axis {axis}")
    return Concatenate.apply(first, *rest, axis=axis)


cat = concatenate


def stack(tensors, axis=0, *, dim=None):
    """Join along a new axis."""
    axis = axis if dim is None else dim
    tensors = list(tensors)
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors need the same shape, got {tensors[0].shape} and {t.shape}")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis=axis % (tensors[0].ndim + 1))
