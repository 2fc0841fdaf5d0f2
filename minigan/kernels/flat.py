"""FlatGroup: one parameter group's parameters, gradients and optimizer buffers as views into
contiguous 1-D buffers, so that a step is one fused kernel over the group instead of one per parameter
(on a GPU, Adam over 16 tensors was 192 launches; now it is one). The optimizers' side of the fused
kernels, kept with them outside the core a student reads first (minigan/optim says what a step computes).

The layout: parameter i is ``buffer[lo_i:hi_i].reshape(shape_i)`` of each buffer. ``p.data`` becomes
that view of ``data`` (a lone contiguous parameter keeps its own array, which then is the buffer);
``p._grad_slot`` is its view of ``grad``, where backward accumulates (tensor._leaf_grad, and
ops.linalg.Linear computes its weight gradients there directly); the optimizer's ``state[p]``
buffers are views of the group's buffers of the same name.
"""
import itertools
import math
import weakref


class FlatGroup:
    @classmethod
    def of(cls, params):
        """The flat layout of ``params``, or None where there can be none: mixed backends or dtypes,
        or one parameter listed twice (it would need two places)."""
        if not params or len({id(p) for p in params}) < len(params):
            return None
        first = params[0]
        if any(p.backend is not first.backend or p.dtype != first.dtype for p in params):
            return None
        return cls(params)

    def __init__(self, params):
        self.params, self.backend = params, params[0].backend
        xp = self.backend.xp
        self.shapes = [p.shape for p in params]
        ends = list(itertools.accumulate(math.prod(shape) for shape in self.shapes))
        self.bounds = list(zip([0] + ends[:-1], ends))
        self._views, self.buffers, self._tmp = {}, {}, None
        lone = params[0].data
        if len(params) == 1 and lone.flags.c_contiguous:
            self.data = lone.reshape(-1)   # a view of the parameter's own array: nothing moves
        else:
            self.data = xp.empty(ends[-1], dtype=params[0].dtype)
            for p, view in zip(params, self.views(self.data)):
                view[...] = p.data
                p.data = view
        self._views[id(self.data)] = (self.data, [p.data for p in params])
        self.grad = xp.zeros(ends[-1], dtype=params[0].dtype)
        for p, slot in zip(params, self.views(self.grad)):
            p._grad_slot = slot

    def views(self, buffer):
        """Each parameter's view of a flat buffer (made once per buffer)."""
        cached = self._views.get(id(buffer))
        if cached is None or cached[0] is not buffer:
            cached = self._views[id(buffer)] = (buffer, [buffer[lo:hi].reshape(shape)
                                                         for (lo, hi), shape in zip(self.bounds, self.shapes)])
        return cached[1]

    def scratch(self):
        if self._tmp is None:
            self._tmp = self.backend.xp.zeros_like(self.data)
        return self._tmp

    def grads_in_place(self):
        """True when every parameter's gradient is the view of ``grad`` that backward wrote."""
        return all(p.grad is not None and p.grad.data is slot for p, slot in zip(self.params, self.views(self.grad)))

    def gather(self, states):
        """Make the flat buffers current for a whole-group step and return the group's state
        (counters, and whole buffers; empty before the first step) -- or None when this step must go
        parameter by parameter: a parameter has no gradient, the parameters' states differ (a step
        skipped for some of them), or a ``p.data`` was replaced by one of another shape or dtype.

        What changed behind the optimizer's back is copied into its view: a ``p.data = ...`` (then
        p.data is its view again), a gradient that is not its slot (``p.grad = ...``, or one kept
        alive from an earlier step), buffers restored by load_state_dict or made parameter by parameter.
        """
        for p, view, slot in zip(self.params, self.views(self.data), self.views(self.grad)):
            if p.grad is None:
                return None
            if p.data is not view:
                if p.data.shape != view.shape or p.data.dtype != view.dtype or not self.backend.is_array(p.data):
                    return None
                view[...] = p.data
                p.data = view
            if p.grad.data is not slot:
                slot[...] = p.grad.data
        own = [states[p] for p in self.params]
        if any(s.keys() != own[0].keys() for s in own):
            return None
        state = {}
        for key, value in own[0].items():
            if not self.backend.is_array(value):   # a counter (Adam's step): one value for the whole group
                if any(s[key] != value for s in own):
                    return None
                state[key] = value
                continue
            buffer = self.buffers.get(key)
            if buffer is None:
                buffer = self.buffers[key] = self.backend.xp.empty_like(self.data)
            for s, view in zip(own, self.views(buffer)):
                if s[key] is not view:
                    view[...] = s[key]
                    s[key] = view
            state[key] = buffer
        return state

    def scatter(self, state, states):
        """After a whole-group step: each parameter's state holds the counters and its views of the
        buffers (a buffer the step created gets views now), and its version moves on."""
        for key, value in state.items():
            if self.backend.is_array(value):
                self.buffers[key] = value
        for i, p in enumerate(self.params):
            own = states[p]
            for key, value in state.items():
                own[key] = self.views(value)[i] if self.backend.is_array(value) else value
            p._version += 1   # the data changed in place: a graph that saved p must notice


def flat_grads(optimizer):
    """The optimizer's flat gradient buffers when every parameter's gradient is the view backward
    wrote into its slot (so that one reduction covers them all, e.g. a gradient norm); else None."""
    flats = optimizer._flat
    if not flats or any(f is None or not f.grads_in_place() for f in flats):
        return None
    return [f.grad for f in flats]


# --- the engine's side: gradient slots (tensor._leaf_grad and ops.linalg.Linear use these) ----------
def free_grad_slot(leaf, filling):
    """``leaf``'s gradient slot if backward may write its gradient there now, else None. ``filling``:
    the running backward fills .grad and records no graph of the gradient (not grad(), not
    create_graph=True). Not while a gradient Tensor of an earlier backward still holds the slot
    either: zero_grad() dropped it from .grad but the caller kept it, and PyTorch leaves its values alone."""
    if filling and leaf.grad is None and leaf._slot_user() is None and leaf.is_leaf:
        return leaf._grad_slot
    return None


def hold_grad_slot(leaf, grad):
    """``grad``, a Tensor on ``leaf``'s slot, holds it from now on (weakly: the slot is free when it dies)."""
    leaf._slot_user = weakref.ref(grad)
    return grad
