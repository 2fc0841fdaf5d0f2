"""A test-only backend that behaves like a GPU without needing one: ``mg.set_backend("strict")``.

CuPy arrays refuse to be mixed with NumPy arrays (``cupy_array + numpy_array`` raises) and refuse
implicit conversion to NumPy (``np.asarray(cupy_array)`` raises). Code that does either by accident
works on the CPU and breaks on the GPU: the classic CuPy bug. :class:`StrictArray` wraps a NumPy
array and raises in exactly those situations, so the test suite can run "as if on a GPU" anywhere.
Only ``backend.asarray`` (host -> device) and ``backend.to_numpy`` (device -> host) may cross.
Import this module to register the backend (the tests do, in conftest.py).
"""
import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from minigan.backend import Backend, register_backend


class MixedArrayError(TypeError):
    """A NumPy array met a device array: on a GPU this would be a CuPy TypeError."""


def _unwrap(value, what):
    """StrictArray -> its NumPy data; a plain NumPy array here is the bug we are looking for."""
    if isinstance(value, StrictArray):
        return value._data
    if isinstance(value, np.ndarray):
        raise MixedArrayError(f"{what}: a NumPy array of shape {value.shape} was mixed with device arrays; "
                              "move it with backend.asarray() first (CuPy raises TypeError here)")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, what) for v in value)
    return value


def _wrap(result):
    if isinstance(result, (np.ndarray, np.generic)):  # CuPy reductions give 0-d arrays, not scalars
        return StrictArray(np.asarray(result))
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    return result


class StrictArray(NDArrayOperatorsMixin):
    """A device array stand-in: NumPy data inside, no implicit way out."""

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data

    # --- the NumPy protocols: allowed between StrictArrays and Python scalars only -------------
    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        what = f"np.{ufunc.__name__}"
        args = _unwrap(inputs, what)
        if out is not None:
            kwargs["out"] = _unwrap(out, what)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        what = f"np.{func.__name__}"
        args = _unwrap(args, what)
        kwargs = {k: _unwrap(v, what) for k, v in kwargs.items()}
        return _wrap(func(*args, **kwargs))

    def __array__(self, dtype=None, copy=None):
        raise MixedArrayError("implicit conversion of a device array to NumPy; use backend.to_numpy() "
                              "(CuPy raises TypeError here)")

    # --- array behaviour ---------------------------------------------------------------------
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    T = property(lambda self: StrictArray(self._data.T))

    def __getitem__(self, index):
        return _wrap(self._data[_unwrap(index, "indexing")])

    def __setitem__(self, index, value):
        self._data[_unwrap(index, "indexing")] = _unwrap(value, "assignment")

    def __len__(self):
        return len(self._data)

    def __float__(self):  # explicit scalar conversions are allowed (CuPy synchronizes for them)
        return float(self._data)

    def __int__(self):
        return int(self._data)

    def __bool__(self):
        return bool(self._data)

    def item(self):
        return self._data.item()

    def __getattr__(self, name):  # methods: sum, reshape, astype, copy, ...
        if name.startswith("__"):  # e.g. __array_interface__: would be a back door to NumPy
            raise AttributeError(name)
        attr = getattr(self._data, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args, **kwargs):
            return _wrap(attr(*_unwrap(args, name), **{k: _unwrap(v, name) for k, v in kwargs.items()}))
        return method

    def __repr__(self):
        return "StrictArray(" + repr(self._data)[6:]


class _StrictNamespace:
    """numpy, except that the functions that create arrays return StrictArrays."""

    _creators = ("zeros", "ones", "empty", "full", "arange", "eye", "linspace")

    def __getattr__(self, name):
        attr = getattr(np, name)
        if name in self._creators:
            return lambda *args, **kwargs: StrictArray(attr(*args, **kwargs))
        return attr

    def asarray(self, data, dtype=None):
        """Like cupy.asarray: device arrays pass through, host data is copied to the 'device'."""
        if isinstance(data, StrictArray):
            return data if dtype is None else data.astype(dtype, copy=False)
        return StrictArray(np.array(data, dtype=dtype))

    def array(self, data, dtype=None):
        """Like cupy.array: always a copy on the 'device' (what Backend.asarray relies on)."""
        if isinstance(data, StrictArray):
            data = data._data
        return StrictArray(np.array(data, dtype=dtype))


class StrictBackend(Backend):
    name = "strict"

    def __init__(self):
        super().__init__()
        self.xp = _StrictNamespace()
        self.array_type = StrictArray

    def to_numpy(self, array):
        return np.array(array._data)

    def index_add(self, target, index, values):
        np.add.at(target._data, _unwrap(index, "index_add"), _unwrap(values, "index_add"))

    def randn(self, shape, dtype):
        return StrictArray(super().randn(shape, dtype))

    def rand(self, shape, dtype):
        return StrictArray(super().rand(shape, dtype))


register_backend("strict", StrictBackend)  # `import minigan.strict` makes set_backend("strict") work
