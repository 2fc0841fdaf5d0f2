"""Argument handling shared by the ops: numbers and lists become Tensors, axes are normalized."""
import numbers

from minigan.tensor import Tensor


def is_scalar(x): return isinstance(x, numbers.Number) and not isinstance(x, bool)


def as_tensor(x, like):
    """Lift ``x`` to a Tensor on ``like``'s backend: Tensors pass, backend arrays and lists are
    wrapped; arrays of another library are refused (no silent host <-> device copies)."""
    if isinstance(x, Tensor):
        return x
    be = like.backend
    if be.is_array(x):
        return Tensor(x, _backend=be)
    if isinstance(x, (list, tuple, numbers.Number)):
        return Tensor(be.asarray(x, dtype=like.dtype), _backend=be)
    raise TypeError(f"expected a Tensor, a number or a list, got {type(x).__name__}; "
                    f"wrap arrays with minigan.tensor(...) (the current backend is {be.name!r})")


def as_pair(a, b):
    """Both operands as Tensors on the backend of whichever one is a Tensor."""
    return (as_tensor(a, b), b) if not isinstance(a, Tensor) else (a, as_tensor(b, a))


def binary(cls, name, a, b, **params):
    """cls.apply(a, b), with NumPy's broadcast error turned into one that names both shapes."""
    try:
        return cls.apply(a, b, **params)
    except ValueError as err:
        if "broadcast" in str(err):
            raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
        raise


def shape_args(shape):
    """The shape of f(2, 3) and of f((2, 3)) alike: (2, 3)."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def normalize_axes(axis, ndim):
    """Sorted non-negative axes; None means all of them."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in axes:
        if not -max(ndim, 1) <= ax < max(ndim, 1):
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted({ax % max(ndim, 1) for ax in axes} & set(range(ndim))))


def reduction_axes(ndim, axis, keepdims, dim, keepdim):
    """(axes, keepdims) from either spelling: NumPy's ``axis=``/``keepdims=`` (``axis=()`` reduces
    nothing) or PyTorch's ``dim=``/``keepdim=`` (``dim=()`` reduces everything, as in PyTorch)."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give axis= (NumPy's name) or dim= (PyTorch's), not both")
        axis = None if isinstance(dim, (tuple, list)) and len(dim) == 0 else dim
    return normalize_axes(axis, ndim), bool(keepdims if keepdim is None else keepdim)


def kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` kept as length 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
