"""The operations of minigan, as functions on Tensors.

Primitives (one ``Function`` each, forward and backward side by side) live in the submodules:
``elementwise``, ``activation``, ``reduce``, ``shape`` and ``linalg``. This module turns user
arguments (Python numbers, lists, axes) into calls of those primitives and composes the rest
(sub, mean, var, maximum, log_sigmoid, stack, ...) from them.
"""
import numbers

from minigan.ops import activation as _act
from minigan.ops import elementwise as _ew
from minigan.ops import linalg as _mm
from minigan.ops import reduce as _red
from minigan.ops import shape as _shape
from minigan.ops.reduce import sum_to
from minigan.tensor import Tensor

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "linear", "exp", "log", "sqrt", "abs",
    "maximum", "minimum", "where", "clip", "sum", "mean", "var", "max", "min", "reshape", "flatten",
    "transpose", "broadcast_to", "sum_to", "getitem", "concatenate", "stack", "sigmoid", "tanh",
    "relu", "leaky_relu", "softplus", "log_sigmoid", "compare",
]


def _is_scalar(x):
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


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


def _binary(cls, name, a, b):
    try:
        return cls.apply(a, b)
    except ValueError as err:
        if "broadcast" in str(err):
            raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
        raise


# ---- arithmetic ---------------------------------------------------------------------------------
def add(a, b):
    if not isinstance(a, Tensor):
        a, b = b, a
    if _is_scalar(b):
        return _ew.AddScalar.apply(a, c=float(b))
    return _binary(_ew.Add, "add", a, as_tensor(b, a))


def sub(a, b):
    if isinstance(a, Tensor) and _is_scalar(b):
        return _ew.AddScalar.apply(a, c=-float(b))
    if _is_scalar(a):
        return add(neg(b), a)
    a = as_tensor(a, b) if not isinstance(a, Tensor) else a
    return _binary(_ew.Sub, "sub", a, as_tensor(b, a))


def mul(a, b):
    if not isinstance(a, Tensor):
        a, b = b, a
    if _is_scalar(b):
        return _ew.MulScalar.apply(a, c=float(b))
    return _binary(_ew.Mul, "mul", a, as_tensor(b, a))


def div(a, b):
    if isinstance(a, Tensor) and _is_scalar(b):
        return _ew.MulScalar.apply(a, c=1.0 / float(b))
    if _is_scalar(a):
        return mul(pow(b, -1.0), a)
    a = as_tensor(a, b) if not isinstance(a, Tensor) else a
    return _binary(_ew.Div, "div", a, as_tensor(b, a))


def neg(a):
    return _ew.Neg.apply(a)


def pow(a, exponent):
    """a ** exponent for a scalar exponent."""
    if not _is_scalar(exponent):
        raise TypeError(f"pow: the exponent must be a number, got {type(exponent).__name__} "
                        "(for a tensor exponent use exp(b * log(a)))")
    if exponent == 1:
        return a
    return _ew.PowScalar.apply(a, p=float(exponent))


# ---- matrix products ----------------------------------------------------------------------------
def matmul(a, b):
    """a @ b for 2-D or batched (N-d, leading axes broadcast) tensors."""
    a, b = (as_tensor(a, b), b) if not isinstance(a, Tensor) else (a, as_tensor(b, a))
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul: both operands need at least 2 dimensions, got shapes {a.shape} and "
                         f"{b.shape}; reshape vectors to (1, n) or (n, 1)")
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                         f"(inner dimensions {a.shape[-1]} != {b.shape[-2]})")
    return _binary(_mm.MatMul, "matmul", a, b)


def linear(x, weight, bias=None):
    """x @ weight.T + bias, for x of shape (N, in) and weight of shape (out, in)."""
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
                         f"(expected input (N, {weight.shape[-1]}))")
    if bias is None:
        return _mm.LinearNoBias.apply(x, weight)
    return _mm.Linear.apply(x, weight, bias)


# ---- elementwise functions ---------------------------------------------------------------------
def exp(a): return _ew.Exp.apply(a)
def log(a): return _ew.Log.apply(a)
def sqrt(a): return _ew.Sqrt.apply(a)
def abs(a): return _ew.Abs.apply(a)
def sigmoid(a): return _act.Sigmoid.apply(a)
def tanh(a): return _act.Tanh.apply(a)
def relu(a): return _act.ReLU.apply(a)
def softplus(a): return _act.Softplus.apply(a)


def leaky_relu(a, negative_slope=0.01):
    return _act.LeakyReLU.apply(a, slope=float(negative_slope))


def log_sigmoid(a):
    """log(sigmoid(x)) = -softplus(-x), finite for every x."""
    return -softplus(-a)


def compare(a, b, how):
    """Elementwise comparison as a constant boolean tensor (no gradient)."""
    b = b.data if isinstance(b, Tensor) else b
    return Tensor(getattr(a.backend.xp, how)(a.data, b), _backend=a.backend)


def where(condition, a, b):
    """Elementwise ``a if condition else b``; ``condition`` is a boolean tensor (no gradient)."""
    like = a if isinstance(a, Tensor) else b
    a, b = as_tensor(a, like), as_tensor(b, like)
    cond = condition.data if isinstance(condition, Tensor) else condition
    return _ew.Where.apply(a, b, condition=cond)


def maximum(a, b):
    a, b = (as_tensor(a, b), b) if not isinstance(a, Tensor) else (a, as_tensor(b, a))
    return where(a >= b, a, b)


def minimum(a, b):
    a, b = (as_tensor(a, b), b) if not isinstance(a, Tensor) else (a, as_tensor(b, a))
    return where(a <= b, a, b)


def clip(a, min=None, max=None):
    return _ew.Clip.apply(a, lo=min, hi=max)


# ---- reductions ---------------------------------------------------------------------------------
def sum(a, axis=None, keepdims=False):
    return _red.Sum.apply(a, axes=_red._normalize_axes(axis, a.ndim), keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    axes = _red._normalize_axes(axis, a.ndim)
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    return sum(a, axes, keepdims) * (1.0 / count)


def var(a, axis=None, keepdims=False):
    """Biased variance (divides by N), as BatchNorm uses it."""
    centered = a - mean(a, axis, keepdims=True)
    return mean(centered * centered, axis, keepdims)


def max(a, axis=None, keepdims=False):
    return _red.Max.apply(a, axes=_red._normalize_axes(axis, a.ndim), keepdims=keepdims)


def min(a, axis=None, keepdims=False):
    return -max(-a, axis, keepdims)


# ---- shape --------------------------------------------------------------------------------------
def reshape(a, shape):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _shape.Reshape.apply(a, shape=shape)


def flatten(a, start_dim=1):
    return reshape(a, a.shape[:start_dim] + (-1,))


def transpose(a, axes=None):
    axes = None if axes is None else tuple(axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes)
    return _shape.Transpose.apply(a, axes=axes)


def broadcast_to(a, shape):
    shape = tuple(shape)
    if a.shape == shape:
        return a
    try:
        return _red.BroadcastTo.apply(a, shape=shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {a.shape} cannot be broadcast to {shape}") from None


def getitem(a, index):
    return _shape.GetItem.apply(a, index=_shape.normalize_index(index, a.backend))


def concatenate(tensors, axis=0):
    tensors = list(tensors)
    first = tensors[0]
    tensors = [as_tensor(t, first) for t in tensors]
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(m != n for i, (m, n) in enumerate(zip(t.shape, first.shape))
                                       if i != axis % first.ndim):
            raise ValueError(f"concatenate: shapes {first.shape} and {t.shape} differ outside axis {axis}")
    return _shape.Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    tensors = list(tensors)
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors need the same shape, got {tensors[0].shape} and {t.shape}")
    ax = axis % (tensors[0].ndim + 1)
    expanded = [reshape(t, t.shape[:ax] + (1,) + t.shape[ax:]) for t in tensors]
    return concatenate(expanded, axis=ax)
