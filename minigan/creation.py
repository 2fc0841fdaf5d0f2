"""Creating tensors on the current backend: from host data, filled, or random.

Shapes are given as PyTorch and NumPy users write them: ``zeros(2, 3)`` or ``zeros((2, 3))``.
"""
import numpy as np  # host-side only: inspecting host data handed to tensor()

from minigan import backend as _backend
from minigan.ops.coerce import shape_args
from minigan.tensor import Tensor

_default = {"dtype": np.dtype("float32")}


def set_default_dtype(dtype):
    """Dtype of new floating tensors and parameters: float32 (default) or float64."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"default dtype must be float32 or float64, got {dtype}")
    _default["dtype"] = dtype


def get_default_dtype(): return _default["dtype"]


def tensor(data, requires_grad=False, dtype=None):
    """A new tensor (a copy) on the current backend from host data or a backend array.

    Floating data gets the default dtype (float32 unless :func:`set_default_dtype` said otherwise)
    unless ``dtype`` is given; integer and boolean data keep their type.
    """
    be = _backend.get_backend()
    if isinstance(data, Tensor):
        data = data.data if data.backend is be else data.numpy()
    elif not be.is_array(data):
        data = _host_data(data)
    if dtype is None:
        dtype = data.dtype if be.is_array(data) else np.asarray(data).dtype  # host data: cheap to inspect
        if dtype.kind == "f":
            dtype = get_default_dtype()
    return Tensor(be.asarray(data, dtype=dtype), requires_grad=requires_grad, _backend=be)


def _host_data(data):
    """Host data as given (lists, numbers, NumPy arrays); an array of another backend of this process
    explicitly copied to the host."""
    for instance in _backend.created_backends():
        if instance.is_array(data):
            return instance.to_numpy(data)
    return data


def _filled(fill, size, dtype, requires_grad):
    """A tensor on the current backend made by ``fill(backend, shape, dtype)``."""
    shape = shape_args(size)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"a shape is non-negative ints, given as f(2, 3) or f((2, 3)); got {size}")
    be = _backend.get_backend()
    return Tensor(fill(be, shape, dtype or get_default_dtype()), requires_grad, be)


def zeros(*size, dtype=None, requires_grad=False):
    return _filled(lambda be, s, d: be.xp.zeros(s, dtype=d), size, dtype, requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _filled(lambda be, s, d: be.xp.ones(s, dtype=d), size, dtype, requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    """Uninitialized memory (fast; fill it before reading it)."""
    return _filled(lambda be, s, d: be.xp.empty(s, dtype=d), size, dtype, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    return _filled(lambda be, s, d: be.xp.full(s, fill_value, dtype=d), (size,), dtype, requires_grad)  # 5 or (2, 3)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal samples from the current backend's generator (see manual_seed)."""
    return _filled(lambda be, s, d: be.randn(s, d), size, dtype, requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Uniform samples on [0, 1) from the current backend's generator."""
    return _filled(lambda be, s, d: be.rand(s, d), size, dtype, requires_grad)


def zeros_like(t, dtype=None): return Tensor(t.backend.xp.zeros_like(t.data, dtype=dtype), _backend=t.backend)


def ones_like(t, dtype=None): return Tensor(t.backend.xp.ones_like(t.data, dtype=dtype), _backend=t.backend)
