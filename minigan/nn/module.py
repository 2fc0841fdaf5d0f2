"""Module and Parameter: PyTorch-style containers of learnable state."""
import collections

from minigan import backend as _backend
from minigan.tensor import Tensor


IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])  # PyTorch's


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates (requires grad by default)."""

    def __init__(self, data, requires_grad=True):
        """``data``: an array of a backend, or a Tensor whose array it takes (``Parameter(mg.ones(3))``, as PyTorch)."""
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self): return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models.

    Parameters and sub-modules are found from the instance's attributes, in the order they were
    assigned; buffers (non-learned state such as BatchNorm's running mean) are registered with
    :meth:`register_buffer` so they land in ``state_dict`` too.
    """

    def __init__(self):
        self.training = True
        self._buffer_names = []

    def forward(self, *args, **kwargs): raise NotImplementedError(f"{type(self).__name__} must implement forward()")
    def __call__(self, *args, **kwargs): return self.forward(*args, **kwargs)

    # --- discovery -----------------------------------------------------------------------------
    def named_children(self): return ((name, m) for name, m in vars(self).items() if isinstance(m, Module))

    def children(self): return [m for _, m in self.named_children()]

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self): return [m for _, m in self.named_modules()]

    def _own_parameters(self): return [(n, v) for n, v in vars(self).items() if isinstance(v, Parameter)]
    def _own_buffers(self): return [(n, getattr(self, n)) for n in self._buffer_names]

    def _named(self, own, prefix=""):
        """(dotted name, tensor) for each of ``own(module)``, this module's first, then each child's
        (PyTorch's order)."""
        for name, t in own(self):
            yield prefix + name, t
        for name, child in self.named_children():
            yield from child._named(own, f"{prefix}{name}.")

    def named_parameters(self, prefix=""): return self._named(Module._own_parameters, prefix)
    def parameters(self): return [p for _, p in self.named_parameters()]
    def named_buffers(self, prefix=""): return self._named(Module._own_buffers, prefix)
    def buffers(self): return [b for _, b in self.named_buffers()]

    def register_buffer(self, name, tensor_):
        setattr(self, name, tensor_)
        if name not in self._buffer_names:
            self._buffer_names.append(name)

    def apply(self, fn):
        """Call ``fn`` on every sub-module (children first), then on this one; returns self (PyTorch's order)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes ---------------------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (BatchNorm uses batch statistics, Dropout drops); propagates to children."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self): return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter: frozen weights get no gradient computed."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, backend_name):
        """Move every parameter and buffer to another backend ("numpy", "cupy", ...), in place; returns self."""
        target = _backend.backend_by_name(backend_name)
        for _, t in self._named_state():
            # (an optimizer's gradient slot, kernels/flat.py, stays behind on the old backend)
            t.data, t.backend, t.grad, t._grad_slot = target.asarray(t.numpy()), target, None, None
        return self

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    # --- saving and loading --------------------------------------------------------------------
    def _named_state(self):
        """Parameters and buffers in PyTorch's state_dict order: own params, own buffers, children."""
        return self._named(lambda m: m._own_parameters() + m._own_buffers())

    def state_dict(self):
        """{'0.weight': numpy array, ...}: host copies, keys, order and layouts as in PyTorch."""
        return {name: t.numpy().copy() for name, t in self._named_state()}

    def load_state_dict(self, state, strict=True):
        """Copy arrays into the existing parameters and buffers (in place, on their backend)."""
        own = dict(self._named_state())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}: missing keys {missing}, "
                               f"unexpected keys {unexpected} (pass strict=False to load the keys that match)")
        for name, target in own.items():
            if name not in state:
                continue
            value = state[name]
            value = value.numpy() if isinstance(value, Tensor) else value  # a host or device array
            if tuple(value.shape) != target.shape:
                raise ValueError(f"load_state_dict: {name!r} has shape {tuple(value.shape)} in the state "
                                 f"but {target.shape} in the model")
            target.data[...] = target.backend.asarray(value, dtype=target.dtype)
            target._version += 1  # changed in place: a graph that saved it can no longer backpropagate
        return IncompatibleKeys(missing, unexpected)

    # --- printing ------------------------------------------------------------------------------
    def extra_repr(self): return ""

    def __repr__(self):
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return "\n".join([f"{type(self).__name__}("] + lines + [")"])
