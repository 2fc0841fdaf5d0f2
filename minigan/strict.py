"""A test-only backend that behaves like a GPU without needing one: ``mg.set_backend("strict")``.

CuPy arrays refuse to be mixed with NumPy arrays (``cupy_array + numpy_array`` raises) and refuse
implicit conversion to NumPy (``np.asarray(cupy_array)`` raises). Code that does either by accident
works on the CPU and breaks on the GPU: the classic CuPy bug. :class:`StrictArray` wraps a NumPy
array and raises in exactly those situations, so the test suite can run "as if on a GPU" anywhere.
Only ``backend.asarray`` (host -> device) and ``backend.to_numpy`` (device -> host) may cross.
Import this module to register the backend (the tests do, in conftest.py).
"""
import collections
import contextlib

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from minigan.backend import Backend, register_backend


class CallCount:
    """What one stretch of code asked of the array library: ``calls`` (name -> count; on CuPy each is
    about one kernel launch), ``to_host`` (device -> host transfers, each a synchronization) and
    ``to_device`` (host -> device copies). See :func:`count_calls`."""

    def __init__(self):
        self.calls, self.to_host, self.to_device = collections.Counter(), 0, 0

    @property
    def total(self): return sum(self.calls.values())

    def __repr__(self): return f"CallCount({self.total} calls, {self.to_host} to host, {self.to_device} to device)"


_counting = []   # the active CallCount, if any (a list: contexts nest, the innermost counts)


@contextlib.contextmanager
def count_calls():
    """``with count_calls() as c: ...`` counts the strict backend's array calls made inside.

    Counted: every ufunc (``+``, ``np.exp``, ``out=`` forms included), every NumPy function on device
    arrays, every method and indexing except those that return a view of their own array (reshape,
    basic slicing, ``astype(copy=False)`` of the same dtype: no kernel on a GPU), the creators except
    ``empty`` (allocation only), each random draw, and each fused kernel of the backend as ONE call.
    """
    count = CallCount()
    _counting.append(count)
    try:
        yield count
    finally:
        _counting.remove(count)


def _count(name, n=1):
    if _counting:
        _counting[-1].calls[name] += n


def _count_transfer(direction):
    if _counting:
        setattr(_counting[-1], direction, getattr(_counting[-1], direction) + 1)


def _is_view_of(result, data):
    """True when ``result`` is ``data`` or a view into its memory (no kernel was needed)."""
    return isinstance(result, np.ndarray) and (result is data or np.may_share_memory(result, data))


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
        _count(what if method == "__call__" else f"{what}.{method}")
        args = _unwrap(inputs, what)
        if out is not None:
            kwargs["out"] = _unwrap(out, what)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        what, out = f"np.{func.__name__}", kwargs.get("out")
        args = _unwrap(args, what)
        kwargs = {k: _unwrap(v, what) for k, v in kwargs.items()}
        result = func(*args, **kwargs)
        if out is not None or not any(_is_view_of(result, a) for a in args if isinstance(a, np.ndarray)):
            _count(what)   # np.broadcast_to, np.reshape: views, no kernel
        return out if out is not None else _wrap(result)   # out=: the very array given, as CuPy returns it

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
        result = self._data[_unwrap(index, "indexing")]
        if not _is_view_of(result, self._data):   # basic slicing is a view; a gather is a kernel
            _count("getitem")
        return _wrap(result)

    def __setitem__(self, index, value):
        _count("setitem")
        self._data[_unwrap(index, "indexing")] = _unwrap(value, "assignment")

    def __len__(self):
        return len(self._data)

    def __float__(self):  # explicit scalar conversions are allowed (CuPy synchronizes for them)
        _count_transfer("to_host")
        return float(self._data)

    def __int__(self):
        _count_transfer("to_host")
        return int(self._data)

    def __bool__(self):
        _count_transfer("to_host")
        return bool(self._data)

    def item(self):
        _count_transfer("to_host")
        return self._data.item()

    def __getattr__(self, name):  # methods: sum, reshape, astype, copy, ...
        if name.startswith("__"):  # e.g. __array_interface__: would be a back door to NumPy
            raise AttributeError(name)
        attr = getattr(self._data, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args, **kwargs):
            result = attr(*_unwrap(args, name), **{k: _unwrap(v, name) for k, v in kwargs.items()})
            if not _is_view_of(result, self._data):
                _count(f".{name}")
            return _wrap(result)
        return method

    def __repr__(self):
        return "StrictArray(" + repr(self._data)[6:]


class _StrictNamespace:
    """numpy, except that the functions that create arrays return StrictArrays."""

    _creators = ("zeros", "ones", "empty", "full", "arange", "eye", "linspace")

    def __getattr__(self, name):
        attr = getattr(np, name)
        if name in self._creators:
            def create(*args, **kwargs):
                if name != "empty":   # allocation alone launches nothing; a fill does
                    _count(f"np.{name}")
                return StrictArray(attr(*args, **kwargs))
            return create
        return attr

    def asarray(self, data, dtype=None):
        """Like cupy.asarray: device arrays pass through, host data is copied to the 'device'."""
        if isinstance(data, StrictArray):
            return data if dtype is None else data.astype(dtype, copy=False)
        _count_transfer("to_device")
        return StrictArray(np.array(data, dtype=dtype))

    def array(self, data, dtype=None):
        """Like cupy.array: always a copy on the 'device' (what Backend.asarray relies on)."""
        if isinstance(data, StrictArray):
            _count("copy")
            data = data._data
        else:
            _count_transfer("to_device")
        return StrictArray(np.array(data, dtype=dtype))


class StrictBackend(Backend):
    name = "strict"

    def __init__(self):
        super().__init__()
        self.xp = _StrictNamespace()
        self.array_type = StrictArray

    def to_numpy(self, array):
        _count_transfer("to_host")
        return np.array(array._data)

    def kernel(self, name):
        """The NumPy twin on the unwrapped arrays, counted as ONE call (one launch on a GPU); a NumPy
        array among the arguments raises, as CuPy's kernels refuse one."""
        twin, what = super().kernel(name), f"kernel {name}"

        def run(*args):
            _count(what)
            return _wrap(twin(*_unwrap(args, what)))
        return run

    def index_add(self, target, index, values):
        _count("index_add")
        np.add.at(target._data, _unwrap(index, "index_add"), _unwrap(values, "index_add"))

    def randn(self, shape, dtype):
        _count("random.standard_normal")
        return StrictArray(super().randn(shape, dtype))

    def rand(self, shape, dtype):
        _count("random.random")
        return StrictArray(super().rand(shape, dtype))


register_backend("strict", StrictBackend)  # `import minigan.strict` makes set_backend("strict") work
