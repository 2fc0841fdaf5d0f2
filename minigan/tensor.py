"""The engine: grad mode, Function, Tensor and the backward pass, in reading order.

A Tensor wraps one array of a backend. Each differentiable operation is a Function: ``forward``
works on raw arrays, ``backward`` gets the output's gradient and returns the inputs' gradients
*built from Tensor operations*, so backward with ``create_graph=True`` records a graph of the
gradient itself: higher-order derivatives (WGAN-GP's penalty) come for free. Tensor's operators
and methods (``+``, ``.sum()``) are the functions of ``minigan.ops``, which is built on this module
and attaches them (the table at its end). Broadcasting is undone in one place, run_backward.
"""
import contextlib
import weakref

import numpy as np  # host-side only: dtype objects

from minigan import backend as backends
from minigan.kernels import flat

_state = {"grad_enabled": True, "to_slots": False}  # to_slots: the running backward fills leaves' .grad


# --- grad mode ---------------------------------------------------------------------------------
def is_grad_enabled(): return _state["grad_enabled"]


class _GradMode(contextlib.ContextDecorator):
    """A context manager that is also a decorator (``@mg.no_grad()``), as in PyTorch. The modes
    it replaced are kept on a stack, so one instance may be entered again (recursion)."""

    mode = None

    def __enter__(self):
        self.__dict__.setdefault("saved", []).append(_state["grad_enabled"])
        _state["grad_enabled"] = self.mode

    def __exit__(self, *exc): _state["grad_enabled"] = self.saved.pop()


class no_grad(_GradMode):  # operations inside record no graph (evaluation, optimizer steps)
    mode = False


class enable_grad(_GradMode):
    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches grad mode now; as a context or decorator it also restores it."""

    def __init__(self, mode):
        self.mode, self.saved, self.fresh = bool(mode), [_state["grad_enabled"]], True
        _state["grad_enabled"] = self.mode

    def __enter__(self):
        if not self.fresh:  # fresh: `with set_grad_enabled(m):`, switched and saved by __init__ already
            super().__enter__()
        self.fresh = False

    def __call__(self, fn):  # as a decorator: undo the switch __init__ made; switch per call instead
        if self.fresh:
            _state["grad_enabled"], self.fresh = self.saved.pop(), False
        return super().__call__(fn)


# --- Function ----------------------------------------------------------------------------------
class Function:
    """One differentiable operation: subclasses write ``forward(*arrays, **params)`` and ``backward(grad)``.

    ``apply(*tensors, **params)`` passes the keyword parameters to forward and keeps them on the Function
    for backward (``MulScalar.apply(a, c=2.0)``: ``self.c``, as needle's ops keep theirs). It records the
    graph only in grad mode when some input requires grad; ``needs_input_grad[i]`` lets backward skip
    unwanted gradients (a frozen layer's weights).
    ``saves_inputs``/``saves_output``: backward reads those values, so if one was changed in place
    since (its version moved on), backward raises as PyTorch does instead of using the new values.
    """

    saves_inputs, saves_output = True, False
    inputs, needs_input_grad = (), ()  # set by apply when the graph is recorded

    def __init__(self, backend): self.backend, self.xp = backend, backend.xp

    @classmethod
    def apply(cls, *inputs, **params):
        backend = backends.common_backend(cls.__name__, inputs)
        fn = cls(backend)
        vars(fn).update(params)
        out_data = fn.forward(*(t.data for t in inputs), **params)
        if not backend.is_array(out_data):  # NumPy turns 0-d results into scalars: keep an array
            out_data = backend.xp.asarray(out_data)
        requires_grad = _state["grad_enabled"] and any(t.requires_grad for t in inputs)
        out = Tensor(out_data, requires_grad=requires_grad, _backend=backend)
        if requires_grad:
            fn.inputs, fn.needs_input_grad = inputs, tuple(t.requires_grad for t in inputs)
            fn.versions = tuple(t._version for t in inputs) if cls.saves_inputs else None
            fn._output = weakref.ref(out)  # weak: the output owns its Function, not the reverse
            out._ctx = fn
        return out

    def output(self): return self._output()  # for backwards written with the output (exp, sigmoid, sqrt)

    def check_versions(self, out):
        modified = [(t, v) for t, v in zip(self.inputs, self.versions or ()) if t._version != v]
        if self.saves_output and out._version != 0:
            modified.append((out, 0))
        for t, v in modified:
            raise RuntimeError("one of the variables needed for gradient computation has been modified by an "
                               f"inplace operation: a tensor of shape {t.shape} used by {type(self).__name__} is at "
                               f"version {t._version}; expected version {v} instead. Recompute the forward pass "
                               "after the change (e.g. compute D(G(z)) again after stepping D's optimizer)")

    def forward(self, *arrays, **params): raise NotImplementedError
    def backward(self, grad): raise NotImplementedError


# --- Tensor ------------------------------------------------------------------------------------
class Size(int):
    """The number of elements (NumPy's ``x.size``) that can also be called as PyTorch's
    ``x.size()`` (the shape) and ``x.size(dim)`` (one axis' length)."""

    def __new__(cls, shape):
        self = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        self.shape = tuple(shape)
        return self

    def __call__(self, dim=None): return self.shape if dim is None else self.shape[dim]


class Tensor:
    """An n-d array of a backend that can record the operations applied to it."""

    __array_ufunc__ = None  # NumPy defers to Tensor: `numpy_array * tensor` calls Tensor.__rmul__
    __hash__ = object.__hash__  # `==` is elementwise; tensors are dict keys by identity
    _grad_slot, _slot_user = None, staticmethod(lambda: None)  # an optimizer's gradient slot (kernels/flat.py)

    def free_grad_slot(self): return flat.free_grad_slot(self, _state["to_slots"] and not _state["grad_enabled"])

    def __init__(self, data, requires_grad=False, _backend=None):
        self.backend = _backend if _backend is not None else backends.backend_of_array(data)
        self.data, self.grad = data, None
        self._ctx = None  # the Function that produced this tensor (None for leaves)
        self._version = 0  # bumped by every in-place change (see Function.check_versions)
        self.requires_grad_(requires_grad)

    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: Size(self.data.shape))
    is_leaf = property(lambda self: self._ctx is None)

    def numel(self): return int(self.size)
    def dim(self): return self.ndim
    def __len__(self): return self.shape[0]
    def numpy(self): return self.backend.to_numpy(self.data)  # on the host (a copy from a GPU)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the values on the host (a copy from a GPU), not an object array."""
        return np.asarray(self.numpy(), dtype=dtype)

    def requires_grad_(self, mode=True):
        if mode and self.data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require gradients, not {self.data.dtype}")
        self.requires_grad = bool(mode)
        return self

    def item(self):
        if self.size != 1:
            raise ValueError(f"item(): only one-element tensors convert to a Python number, shape is {self.shape}")
        return self.data.reshape(-1)[0].item()

    def __float__(self): return float(self.item())

    def __bool__(self):  # as in NumPy and PyTorch: `if tensor:` is ambiguous for many values
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .item() on a one-element tensor, or test the values of .numpy()")
        return bool(self.item())

    def detach(self): return Tensor(self.data, _backend=self.backend)  # the same data, cut from the graph

    def to(self, backend_name):
        """A copy on another backend ("numpy", "cupy", ...), through the host."""
        target = backends.backend_by_name(backend_name)  # does not switch the current backend
        return Tensor(target.asarray(self.numpy()), requires_grad=self.requires_grad, _backend=target)

    def zero_grad(self): self.grad = None

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


# --- the backward pass -------------------------------------------------------------------------
def _topological_order(roots):
    """Tensors reachable from ``roots``, inputs before outputs. Iterative depth-first search: a
    graph thousands of operations deep must not hit Python's recursion limit."""
    order, expanded = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)  # post-order: after everything it depends on
        elif id(node) not in expanded:
            expanded.add(id(node))
            stack.append((node, True))
            parents = () if node._ctx is None else node._ctx.inputs
            if parents is None:  # freed by an earlier backward
                raise RuntimeError("backward through a graph a second time, but its buffers have been freed; "
                                   "pass retain_graph=True to the first backward() or grad() call")
            stack.extend((parent, False) for parent in parents if parent.requires_grad and id(parent) not in expanded)
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
    results, _state["to_slots"] = {}, inputs is None  # grad() leaves the slots alone
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
                    node.grad = _leaf_grad(node, grad, handed_out, create_graph)
                continue
            ctx.check_versions(node)
            for parent, parent_grad in zip(ctx.inputs, ctx.backward(grad)):
                if parent_grad is not None and parent.requires_grad:  # summed back to the parent's shape if broadcast
                    _accumulate(grads, parent, parent_grad.sum_to(parent.shape))
            if not retain_graph:
                ctx.inputs = None  # free the saved tensors; a second backward raises clearly
    return results


def _accumulate(grads, tensor_, grad):
    previous = grads.get(id(tensor_))
    grads[id(tensor_)] = grad if previous is None else previous + grad


def _leaf_grad(leaf, new, handed_out, create_graph):
    """A gradient the leaf owns: writable, its own shape, shared with no other leaf. Backwards may
    pass one gradient to several inputs (add) or read-only broadcast views (sum): those are copied.
    A leaf with a free gradient slot (minigan/kernels/flat.py) gets it written and accumulated there."""
    old, slot = leaf.grad, leaf.free_grad_slot()
    if slot is not None and slot.shape == new.shape and slot.dtype == new.dtype:
        slot[...] = new.data
        new = flat.hold_grad_slot(leaf, Tensor(slot, _backend=leaf.backend))
    if leaf._slot_user() is new:  # in the slot (copied just now, or computed there by ops.linalg.Linear)
        return new
    if old is not None and old.data is leaf._grad_slot and not create_graph:
        return old.add_(new)  # accumulated in place, as PyTorch does
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
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else grad_outputs or [None] * len(outputs)
    if not all(out.requires_grad for out in outputs):
        raise RuntimeError("grad(): an output does not require grad (no graph connects it to the inputs)")
    results = run_backward(outputs, grad_outputs, create_graph, retain_graph, inputs=inputs)
    unused = [i for i, t in enumerate(inputs) if id(t) not in results]
    if unused and not allow_unused:
        raise RuntimeError(f"grad(): input {unused[0]} (shape {inputs[unused[0]].shape}) was not used to compute "
                           "the outputs; pass allow_unused=True to get None for it")
    return tuple(results.get(id(t)) for t in inputs)
