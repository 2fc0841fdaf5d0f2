"""Creating tensors on the current backend: from host data, filled, or random."""
import numpy as np  # host-side only: inspecting host data handed to tensor()

from minigan import backend as _backend
from minigan.tensor import Tensor, get_default_dtype


def tensor(data, requires_grad=False, dtype=None):
    """A new tensor (a copy) on the current backend from host data or a backend array.

    Floating data gets the default dtype (float32 unless :func:`set_default_dtype` said otherwise)
    unless ``dtype`` is given; integer and boolean data keep their type.
    """
    be = _backend.get_backend()
    if isinstance(data, Tensor):
        data = data.data if data.backend is be else data.numpy()
    elif not be.is_array(data) and _is_foreign_array(data):
        data = _to_host(data)  # an array of another backend: explicitly through the host
    if dtype is None:
        dtype = data.dtype if be.is_array(data) else np.asarray(data).dtype  # host data: cheap to inspect
        if dtype.kind == "f":
            dtype = get_default_dtype()
    return Tensor(be.asarray(data, dtype=dtype), requires_grad=requires_grad, _backend=be)


def _is_foreign_array(data):
    """An array of some other backend (host NumPy data is not foreign: it is the input format)."""
    if isinstance(data, (np.ndarray, np.generic)):
        return False
    return hasattr(data, "__array_namespace__") or hasattr(data, "__cuda_array_interface__")


def _to_host(data):
    for instance in _backend.created_backends():
        if instance.is_array(data):
            return instance.to_numpy(data)
    raise TypeError(f"cannot make a tensor from {type(data).__name__}")


def zeros(shape, dtype=None, requires_grad=False):
    be = _backend.get_backend()
    return Tensor(be.xp.zeros(shape, dtype=dtype or get_default_dtype()), requires_grad, be)


def ones(shape, dtype=None, requires_grad=False):
    be = _backend.get_backend()
    return Tensor(be.xp.ones(shape, dtype=dtype or get_default_dtype()), requires_grad, be)


def full(shape, value, dtype=None, requires_grad=False):
    be = _backend.get_backend()
    return Tensor(be.xp.full(shape, value, dtype=dtype or get_default_dtype()), requires_grad, be)


def randn(*shape, requires_grad=False, dtype=None):
    """Standard normal samples from the current backend's generator (see manual_seed)."""
    be = _backend.get_backend()
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(be.randn(tuple(shape), dtype or get_default_dtype()), requires_grad, be)


def rand(*shape, requires_grad=False, dtype=None):
    """Uniform samples on [0, 1) from the current backend's generator."""
    be = _backend.get_backend()
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(be.rand(tuple(shape), dtype or get_default_dtype()), requires_grad, be)


def zeros_like(t):
    return Tensor(t.backend.xp.zeros_like(t.data), _backend=t.backend)


def ones_like(t):
    return Tensor(t.backend.xp.ones_like(t.data), _backend=t.backend)
