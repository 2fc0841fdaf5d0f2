"""Shape primitives: reshape, transpose, indexing and concatenation. No arithmetic happens here."""
from minigan.tensor import Function, Tensor


class Reshape(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return (grad.reshape(self.in_shape),)


class Transpose(Function):
    def forward(self, a, axes):
        self.axes = axes
        return a.transpose(axes)

    def backward(self, grad):
        if self.axes is None:
            return (grad.transpose(),)
        inverse = [0] * len(self.axes)
        for i, ax in enumerate(self.axes):
            inverse[ax] = i
        return (grad.transpose(*inverse),)


def _is_basic(index):
    """Basic indices (ints, slices, None, ...) select each element at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    def forward(self, a, index):
        self.in_shape, self.index = a.shape, index
        return a[index]

    def backward(self, grad):
        return (IndexAdd.apply(grad, index=self.index, shape=self.in_shape),)


class IndexAdd(Function):
    """zeros(shape) with ``values`` added at ``index`` (repeated indices add up): GetItem's adjoint."""

    def forward(self, values, index, shape):
        self.index = index
        out = self.xp.zeros(shape, dtype=values.dtype)
        if _is_basic(index):
            out[index] = values
        else:
            self.backend.index_add(out, index, values)
        return out

    def backward(self, grad):
        return (grad[self.index],)


class Concatenate(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return self.xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        grads, start = [], 0
        prefix = (slice(None),) * (self.axis % grad.ndim)
        for size, needed in zip(self.sizes, self.needs_input_grad):
            grads.append(grad[prefix + (slice(start, start + size),)] if needed else None)
            start += size
        return grads


def normalize_index(index, backend):
    """Tensors and host index arrays inside an index become arrays of the backend."""
    parts = index if isinstance(index, tuple) else (index,)
    fixed = []
    for p in parts:
        if isinstance(p, Tensor):
            p = p.data
        elif isinstance(p, list) or (hasattr(p, "dtype") and not backend.is_array(p)):
            p = backend.asarray(p)
        fixed.append(p)
    return tuple(fixed) if isinstance(index, tuple) else fixed[0]
