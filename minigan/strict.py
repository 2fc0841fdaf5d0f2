"""A test-only backend that behaves like a GPU without needing one.

CuPy arrays refuse to be mixed with NumPy arrays (``cupy_array + numpy_array`` raises) and refuse
implicit conversion to NumPy. Code that accidentally does either works on the CPU and breaks on
the GPU: the classic CuPy bug. :class:`StrictArray` is a NumPy array that raises in exactly those
situations, so the whole test suite can be run "as if on a GPU" on any machine::

    mg.set_backend("strict")

Only ``backend.asarray`` (host -> device) and ``backend.to_numpy`` (device -> host) may cross.
"""
import numpy as np

from minigan.backend import Backend


class MixedArrayError(TypeError):
    """A NumPy array met a device array: on a GPU this would be a CuPy TypeError."""


def _check(values, what):
    for v in values:
        if type(v) is np.ndarray:
            raise MixedArrayError(
                f"{what}: a NumPy array of shape {v.shape} was mixed with device arrays; "
                "move it with backend.asarray() first (CuPy raises TypeError here)")


def _wrap(result):
    if type(result) is np.ndarray:
        return result.view(StrictArray)
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    return result


class StrictArray(np.ndarray):
    """np.ndarray that refuses plain NumPy arrays as operands, like cupy.ndarray."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        _check(inputs + (out or ()), f"np.{ufunc.__name__}")
        plain = [x.view(np.ndarray) if isinstance(x, StrictArray) else x for x in inputs]
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) for o in out)
        result = getattr(ufunc, method)(*plain, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        _check(_flatten(args) + _flatten(tuple(kwargs.values())), f"np.{func.__name__}")
        plain_args = _unwrap(args)
        plain_kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        return _wrap(func(*plain_args, **plain_kwargs))

    def __array__(self, dtype=None, copy=None):
        # Reached by conversions that go through the array protocol (e.g. np.array(x, dtype=...)).
        raise MixedArrayError("implicit conversion of a device array to NumPy; "
                              "use backend.to_numpy() (CuPy raises TypeError here)")


def _flatten(values):
    flat = []
    for v in values:
        if isinstance(v, (list, tuple)):
            flat.extend(_flatten(v))
        else:
            flat.append(v)
    return tuple(flat)


def _unwrap(value):
    if isinstance(value, StrictArray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


class _StrictNamespace:
    """numpy, except that the functions that create arrays return StrictArrays."""

    _creators = ("array", "asarray", "zeros", "ones", "empty", "full", "arange", "eye",
                 "zeros_like", "ones_like", "empty_like", "full_like", "linspace")

    def __getattr__(self, name):
        attr = getattr(np, name)
        if name in self._creators:
            def create(*args, **kwargs):
                _check(_flatten(args[1:]), f"np.{name}")  # the data argument itself may be host data
                return np.asarray(attr(*_unwrap(args), **kwargs)).view(StrictArray)
            return create
        return attr


class StrictBackend(Backend):
    name = "strict"

    def __init__(self):
        super().__init__()
        self.xp = _StrictNamespace()
        self.array_type = StrictArray

    def asarray(self, data, dtype=None):
        if isinstance(data, StrictArray):
            data = data.view(np.ndarray)
        return np.array(data, dtype=dtype).view(StrictArray)

    def to_numpy(self, array):
        return np.array(array.view(np.ndarray))

    def index_add(self, target, index, values):
        np.add.at(target.view(np.ndarray), _unwrap(index), values.view(np.ndarray))

    def randn(self, shape, dtype):
        return super().randn(shape, dtype).view(StrictArray)

    def rand(self, shape, dtype):
        return super().rand(shape, dtype).view(StrictArray)
