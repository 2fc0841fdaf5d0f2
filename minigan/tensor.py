"""The engine: Tensor, Function, grad mode and the backward pass, in reading order.

A :class:`Tensor` wraps one array of a backend. Every differentiable operation is a
:class:`Function`: ``forward`` works on raw arrays, ``backward`` receives the output's gradient as
a Tensor and returns the inputs' gradients *built from Tensor operations*. So running backward
with grad mode on (``create_graph=True``) records a graph of the gradient itself: higher-order
derivatives (WGAN-GP's gradient penalty) come for free.

The operators and methods of Tensor (``+``, ``@``, ``.sum()``, ...) are the op functions of
``minigan.ops``, which are built on this module and attach themselves to Tensor (the table at the
end of ``minigan/ops/__init__.py``). Broadcasting is handled in one place: a backward may return a
gradient of the broadcast (output) shape and :func:`run_backward` sums it back to its input's shape.
"""
import contextlib
import weakref

import numpy as np  # host-side only: dtype objects

from minigan import backend as _backend

_state = {"grad_enabled": True, "default_dtype": np.dtype("float32")}


# --- grad mode ---------------------------------------------------------------------------------
def is_grad_enabled():
    return _state["grad_enabled"]


class _GradMode(contextlib.ContextDecorator):
    """A context manager that is also a decorator (``@mg.no_grad()``), as in PyTorch."""

    mode = None

    def __enter__(self):
        self.previous = _state["grad_enabled"]
        _state["grad_enabled"] = self.mode

    def __exit__(self, *exc):
        _state["grad_enabled"] = self.previous


class no_grad(_GradMode):
    """Operations inside record no graph (evaluation, optimizer steps, weight clipping)."""
    mode = False


class enable_grad(_GradMode):
    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches grad mode now; as a context it also restores it."""

    def __init__(self, mode):
        self.previous, self.mode = _state["grad_enabled"], bool(mode)
        _state["grad_enabled"] = self.mode

    def __enter__(self):
        pass


# --- default dtype -----------------------------------------------------------------------------
def set_default_dtype(dtype):
    """Dtype of new floating tensors and parameters: float32 (default) or float64."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"default dtype must be float32 or float64, got {dtype}")
    _state["default_dtype"] = dtype


def get_default_dtype():
    return _state["default_dtype"]


# --- Function ----------------------------------------------------------------------------------
class Function:
    """One differentiable operation. Subclasses write ``forward(*arrays)`` and ``backward(grad)``.

    ``apply`` records the graph only when grad mode is on and some input requires a gradient.
    ``self.needs_input_grad[i]`` tells backward which gradients are wanted, so that e.g. a frozen
    layer never pays for its weight gradient. ``saves_inputs`` / ``saves_output`` say whether
    backward reads those tensors' values: if they were modified in place since (their version
    changed), backward would silently use the new values, so it raises instead, as PyTorch does.
    """

    saves_inputs, saves_output = True, False

    def __init__(self, backend):
        self.backend = backend
        self.xp = backend.xp
        self.inputs = ()
        self.needs_input_grad = ()

    @classmethod
    def apply(cls, *inputs, **params):
        backend = _common_backend(cls.__name__, inputs)
        fn = cls(backend)
        out_data = fn.forward(*(t.data for t in inputs), **params)
        if not backend.is_array(out_data):  # NumPy turns 0-d results into scalars: keep an array
            out_data = backend.xp.asarray(out_data)
        requires_grad = _state["grad_enabled"] and any(t.requires_grad for t in inputs)
        out = Tensor(out_data, requires_grad=requires_grad, _backend=backend)
        if requires_grad:
            fn.inputs = inputs
            fn.needs_input_grad = tuple(t.requires_grad for t in inputs)
            fn.versions = tuple(t._version for t in inputs) if cls.saves_inputs else None
            fn._output = weakref.ref(out)  # weak: the output owns its Function, not the reverse
            out._ctx = fn
        return out

    def output(self):
        """The output Tensor, for backwards written in terms of it (exp, sigmoid, tanh, sqrt)."""
        return self._output()

    def check_versions(self, out):
        modified = []
        if self.versions is not None:
            modified = [(t, v) for t, v in zip(self.inputs, self.versions) if t._version != v]
        if self.saves_output and out._version != 0:
            modified.append((out, 0))
        for t, v in modified:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: a tensor of shape {t.shape} used by {type(self).__name__} is at version "
                f"{t._version}; expected version {v} instead. Recompute the forward pass after the "
                "change (e.g. compute D(G(z)) again after stepping D's optimizer)")

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
class Size(int):
    """The number of elements (NumPy's ``x.size``) that can also be called as PyTorch's
    ``x.size()`` (the shape) and ``x.size(dim)`` (one axis' length)."""

    def __new__(cls, shape):
        self = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        self.shape = tuple(shape)
        return self

    def __call__(self, dim=None):
        return self.shape if dim is None else self.shape[dim]


class Tensor:
    """An n-d array of a backend that can record the operations applied to it."""

    __array_ufunc__ = None  # NumPy defers to Tensor: `numpy_array * tensor` calls Tensor.__rmul__
    __hash__ = object.__hash__  # `==` is elementwise; tensors are dict keys by identity

    def __init__(self, data, requires_grad=False, _backend=None):
        self.backend = _backend if _backend is not None else _backend_of(data)
        self.data = data
        self.grad = None
        self._ctx = None  # the Function that produced this tensor (None for leaves)
        self._version = 0  # bumped by every in-place change (see Function.check_versions)
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: Size(self.data.shape))
    is_leaf = property(lambda self: self._ctx is None)

    def numel(self): return int(self.size)
    def dim(self): return self.ndim
    def __len__(self): return self.shape[0]

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

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no graph "
                               "(did you detach it, build it under no_grad, or freeze every parameter?)")
        run_backward([self], [grad], create_graph=create_graph, retain_graph=retain_graph)

    # --- in place: change .data and bump the version; graph-recording tensors refuse ----------
    def _modify(self, new_data=None):
        if _state["grad_enabled"] and self.requires_grad:
            if self.is_leaf:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation; "
                                   "wrap it in `with mg.no_grad():` (as optimizers do)")
            raise RuntimeError("in-place operations on a tensor that is part of a recorded graph are not "
                               "supported by minigan; write y = y + ... instead, or use no_grad()")
        if new_data is not None:
            self.data[...] = new_data
        self._version += 1
        return self

    def _value(self, other):
        if isinstance(other, Tensor):
            _common_backend("in-place op", (self, other))
            return other.data
        return other

    def add_(self, other, alpha=1): return self._modify(self.data + self._value(other) * alpha)
    def sub_(self, other, alpha=1): return self._modify(self.data - self._value(other) * alpha)
    def mul_(self, other): return self._modify(self.data * self._value(other))
    def div_(self, other): return self._modify(self.data / self._value(other))
    def zero_(self): return self._modify(0)
    def fill_(self, value): return self._modify(self._value(value))
    def copy_(self, src): return self._modify(self._value(src))
    def clamp_(self, min=None, max=None): return self._modify(self.backend.xp.clip(self.data, min, max))


def _backend_of(data):
    current = _backend.get_backend()
    if current.is_array(data):
        return current
    for instance in _backend.created_backends():
        if instance.is_array(data):
            return instance
    raise TypeError(f"Tensor data must be an array of the current backend ({current.name!r}), "
                    f"got {type(data).__name__}; create tensors with minigan.tensor(...)")


# --- the backward pass -------------------------------------------------------------------------
def _topological_order(roots):
    """Tensors reachable from ``roots`` through recorded Functions, inputs before outputs.

    Iterative depth-first search: a graph thousands of operations deep must not hit Python's
    recursion limit.
    """
    order, expanded = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)  # post-order: after everything it depends on
            continue
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is None:
            continue
        if ctx.inputs is None:
            raise RuntimeError("backward through a graph a second time, but its buffers have been freed; "
                               "pass retain_graph=True to the first backward() or grad() call")
        for parent in ctx.inputs:
            if parent.requires_grad and id(parent) not in expanded:
                stack.append((parent, False))
    return order


def run_backward(outputs, grad_outputs, create_graph=False, retain_graph=None, inputs=None):
    """Backpropagate. Accumulates into leaves' ``.grad``, or returns grads of ``inputs`` if given."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    grads, handed_out = {}, set()  # handed_out: arrays a leaf already owns, or the caller's
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs, got shape "
                                   f"{out.shape}; pass grad= (or grad_outputs=) of that shape")
            g = Tensor(out.backend.xp.ones_like(out.data), _backend=out.backend)
        elif not isinstance(g, Tensor):
            g = Tensor(out.backend.asarray(g, dtype=out.dtype), _backend=out.backend)
        if g.shape != out.shape:
            raise ValueError(f"backward: gradient shape {g.shape} does not match output shape {out.shape}")
        handed_out.add(id(g.data))
        _accumulate(grads, out, g)

    wanted = None if inputs is None else {id(t) for t in inputs}
    results = {}
    with set_grad_enabled(create_graph):
        for node in reversed(_topological_order(outputs)):
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if wanted is not None and id(node) in wanted:
                results[id(node)] = grad
            ctx = node._ctx
            if ctx is None:
                if wanted is None:  # a leaf: accumulate like PyTorch until zero_grad()
                    node.grad = _leaf_grad(node.grad, grad, handed_out, create_graph)
                continue
            ctx.check_versions(node)
            for parent, parent_grad in zip(ctx.inputs, ctx.backward(grad)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.shape:
                    parent_grad = parent_grad.sum_to(parent.shape)
                _accumulate(grads, parent, parent_grad)
            if not retain_graph:
                ctx.inputs = None  # free the saved tensors; a second backward raises clearly
    return results


def _accumulate(grads, tensor_, grad):
    previous = grads.get(id(tensor_))
    grads[id(tensor_)] = grad if previous is None else previous + grad


def _leaf_grad(old, new, handed_out, create_graph):
    """A gradient the leaf owns: writable, its own shape, shared with no other leaf.

    Backwards may pass one gradient to several inputs (add) or hand out read-only broadcast
    views (sum), so those are copied; a fresh array (the usual case) is kept as it is.
    """
    if old is not None:
        return old + new if create_graph else Tensor(old.data + new.data, _backend=old.backend)
    if id(new.data) in handed_out or new.data.base is not None:
        new = new + 0.0 if create_graph else Tensor(new.data.copy(), _backend=new.backend)
    handed_out.add(id(new.data))
    return new


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None, allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any ``.grad``.

    With ``create_graph=True`` the returned gradients are themselves differentiable.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("grad(): an output does not require grad (no graph connects it to the inputs)")
    results = run_backward(outputs, grad_outputs, create_graph, retain_graph, inputs=inputs)
    found = []
    for i, t in enumerate(inputs):
        g = results.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        found.append(g)
    return tuple(found)
