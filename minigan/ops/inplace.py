"""In-place ops (``x.add_(1)``, ``x.zero_()``, ...): change ``.data`` and bump the version counter.

A Function that saved a tensor for its backward remembers the tensor's version; if the tensor was
changed in place since, backward raises instead of silently using the new values (see
Function.check_versions). As in PyTorch, a leaf that requires grad may only be changed under
``no_grad()`` (as optimizers do).
"""
from minigan.backend import common_backend
from minigan.ops.shape import normalize_index
from minigan.tensor import Tensor, is_grad_enabled


def _modify(t, new_data=None):
    if is_grad_enabled() and t.requires_grad:
        if t.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation; "
                               "wrap it in `with mg.no_grad():` (as optimizers do)")
        raise RuntimeError("in-place operations on a tensor that is part of a recorded graph are not "
                           "supported by minigan; write y = y + ... instead, or use no_grad()")
    if new_data is not None:
        t.data[...] = new_data
    t._version += 1
    return t


def _value(t, other):
    if isinstance(other, Tensor):
        if is_grad_enabled() and other.requires_grad:
            raise RuntimeError("in-place operation with an operand that requires grad: the graph would be "
                               "lost; write y = y + x instead, or use no_grad()")
        common_backend("in-place op", (t, other))  # raises if they live on different backends
        return other.data
    return other


def add_(t, other, alpha=1): return _modify(t, t.data + _value(t, other) * alpha)
def sub_(t, other, alpha=1): return _modify(t, t.data - _value(t, other) * alpha)
def mul_(t, other): return _modify(t, t.data * _value(t, other))
def div_(t, other): return _modify(t, t.data / _value(t, other))
def zero_(t): return _modify(t, 0)
def fill_(t, value): return _modify(t, _value(t, value))
def copy_(t, src): return _modify(t, _value(t, src))
def clamp_(t, min=None, max=None): return _modify(t, t.backend.xp.clip(t.data, min, max))


def setitem(t, index, value):
    """``x[index] = value`` (and so ``x[0] += 1``), in place."""
    _modify(t)  # checks first: nothing is written if the change is refused
    t.data[normalize_index(index, t.backend)] = _value(t, value)
