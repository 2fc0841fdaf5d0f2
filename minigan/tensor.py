"""Tensor and reverse-mode autograd.

A :class:`Tensor` wraps one array of the current backend. Every differentiable operation is a
:class:`Function`: ``forward`` works on raw arrays, ``backward`` receives the output's gradient as a
Tensor and returns the inputs' gradients *built from Tensor operations*. Because of that, running
backward with grad mode on (``create_graph=True``) records a graph of the gradient itself, which
is how higher-order derivatives (WGAN-GP's gradient penalty) come for free.

Broadcasting is handled in one place: backward may return gradients of the broadcast (output)
shape and ``autograd.run_backward`` sums them back to each input's shape. New tensors are made
with the functions of ``creation`` (``minigan.tensor(...)``, ``zeros``, ``randn``, ...).
"""
import contextlib
import weakref

import numpy as np  # host-side only: dtype objects

from minigan import backend as _backend

_state = {"grad_enabled": True, "default_dtype": None}


# --- grad mode ---------------------------------------------------------------------------------
def is_grad_enabled():
    return _state["grad_enabled"]


@contextlib.contextmanager
def set_grad_enabled(mode):
    previous = _state["grad_enabled"]
    _state["grad_enabled"] = bool(mode)
    try:
        yield
    finally:
        _state["grad_enabled"] = previous


def no_grad():
    """Context manager: operations inside record no graph (evaluation, optimizer steps)."""
    return set_grad_enabled(False)


def enable_grad():
    return set_grad_enabled(True)


# --- default dtype -----------------------------------------------------------------------------
def set_default_dtype(dtype):
    """Dtype of new floating tensors and parameters: float32 (default) or float64."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"default dtype must be float32 or float64, got {dtype}")
    _state["default_dtype"] = dtype


def get_default_dtype():
    if _state["default_dtype"] is None:
        set_default_dtype("float32")
    return _state["default_dtype"]


# --- Function ----------------------------------------------------------------------------------
class Function:
    """One differentiable operation. Subclasses write ``forward(*arrays)`` and ``backward(grad)``.

    ``apply`` records the graph only when grad mode is on and some input requires a gradient.
    ``self.needs_input_grad[i]`` tells backward which gradients are wanted, so that e.g. a frozen
    layer never pays for its weight gradient.
    """

    def __init__(self, backend):
        self.backend = backend
        self.xp = backend.xp
        self.inputs = ()
        self.needs_input_grad = ()
        self._output = None

    @classmethod
    def apply(cls, *inputs, **params):
        backend = _common_backend(cls.__name__, inputs)
        fn = cls(backend)
        out_data = fn.forward(*(t.data for t in inputs), **params)
        requires_grad = _state["grad_enabled"] and any(t.requires_grad for t in inputs)
        out = Tensor(out_data, requires_grad=requires_grad, _backend=backend)
        if requires_grad:
            fn.inputs = inputs
            fn.needs_input_grad = tuple(t.requires_grad for t in inputs)
            fn._output = weakref.ref(out)  # weak: the output owns its Function, not the reverse
            out._ctx = fn
        return out

    def output(self):
        """The output Tensor, for backwards written in terms of it (exp, sigmoid, tanh, sqrt)."""
        return self._output()

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


def _common_backend(op_name, tensors):
    backend = tensors[0].backend
    for t in tensors[1:]:
        if t.backend is not backend:
            raise RuntimeError(f"{op_name}: tensors live on different backends "
                               f"({backend.name!r} and {t.backend.name!r}); move one with .to({backend.name!r})")
    return backend


# --- Tensor ------------------------------------------------------------------------------------
class Tensor:
    """An n-d array of the current backend that can record the operations applied to it."""

    __array_ufunc__ = None  # NumPy defers to Tensor: `numpy_array * tensor` calls Tensor.__rmul__

    def __init__(self, data, requires_grad=False, _backend=None):
        self.backend = _backend if _backend is not None else _backend_of(data)
        self.data = data
        self.grad = None
        self._ctx = None  # the Function that produced this tensor (None for leaves)
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # --- basic properties --------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        return self._ctx is None

    def __len__(self):
        return self.shape[0]

    def requires_grad_(self, mode=True):
        if mode and self.data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require gradients, not {self.data.dtype}")
        self.requires_grad = bool(mode)
        return self

    def numpy(self):
        """A NumPy array on the host (a copy when the data lives on a GPU)."""
        return self.backend.to_numpy(self.data)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item(): only one-element tensors convert to a Python number, shape is {self.shape}")
        return self.data.reshape(-1)[0].item()

    def __float__(self):
        return float(self.item())

    def __bool__(self):
        if self.size != 1:  # as in NumPy and PyTorch: `if tensor:` is ambiguous for many values
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .item() on a one-element tensor, or test the values of .numpy()")
        return bool(self.item())

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor(self.data, _backend=self.backend)

    def to(self, backend_name):
        """A copy on another backend ("numpy", "cupy", ...), through the host."""
        target = _backend.backend_by_name(backend_name)  # does not switch the current backend
        return Tensor(target.asarray(self.numpy()), requires_grad=self.requires_grad, _backend=target)

    def zero_grad(self):
        self.grad = None

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = repr(self.numpy()).replace("array(", "tensor(", 1)
        return body[:-1] + grad + ")" if body.endswith(")") else body

    # --- autograd ----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no graph "
                               "(did you detach it, build it under no_grad, or freeze every parameter?)")
        autograd.run_backward([self], [grad], create_graph=create_graph, retain_graph=retain_graph)

    # --- operators (each one an explicit call into minigan.ops) -------------------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(self, other)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(self, other)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __neg__(self): return ops.neg(self)
    def __pow__(self, exponent): return ops.pow(self, exponent)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __getitem__(self, index): return ops.getitem(self, index)
    # comparisons give constant (non-differentiable) boolean tensors
    def __gt__(self, other): return ops.compare(self, other, "greater")
    def __ge__(self, other): return ops.compare(self, other, "greater_equal")
    def __lt__(self, other): return ops.compare(self, other, "less")
    def __le__(self, other): return ops.compare(self, other, "less_equal")
    __hash__ = object.__hash__  # tensors are used as dict keys by identity

    # --- methods mirroring the functions in minigan.ops ------------------------------------------
    def pow(self, exponent): return ops.pow(self, exponent)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)
    def relu(self): return ops.relu(self)
    def clip(self, min=None, max=None): return ops.clip(self, min, max)
    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def var(self, axis=None, keepdims=False): return ops.var(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return ops.min(self, axis, keepdims)
    def reshape(self, *shape): return ops.reshape(self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return ops.transpose(self, axes or None)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)

    @property
    def T(self):
        return ops.transpose(self)


def _backend_of(data):
    current = _backend.get_backend()
    if current.is_array(data):
        return current
    for instance in _backend.created_backends():
        if instance.is_array(data):
            return instance
    raise TypeError(f"Tensor data must be an array of the current backend ({current.name!r}), "
                    f"got {type(data).__name__}; create tensors with minigan.tensor(...)")


# ops and the engine need Tensor and Function, so they are imported after them (no cycle at import time)
from minigan import ops  # noqa: E402
from minigan import autograd  # noqa: E402
