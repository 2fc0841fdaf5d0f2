"""Selection: gradients that flow through some elements and are exactly 0 elsewhere.

ReLU, where, maximum/minimum, clip and max/min all pass the incoming gradient on where a
condition holds and drop it elsewhere. Multiplying by a 0/1 mask would be wrong at the edges:
an incoming gradient of inf (sqrt's at 0, common in a gradient penalty) times 0 is NaN, where
PyTorch gives 0. So these ops *select*, with :func:`mask`.
"""
from minigan.ops.coerce import as_pair, as_tensor
from minigan.tensor import Function, Tensor


class Mask(Function):
    """where(keep, a, 0), times ``scale`` if given (a weight that is never 0 where keep holds).

    A linear, diagonal map, so it is its own adjoint: backward is the same Mask of the gradient.

    NOTE: one fused kernel (minigan/kernels/activations.py); its NumPy twin selects by bitwise AND, each
    float ANDed with an all-ones word (keep) or an all-zeros word (drop): exactly where(keep, a, 0) --
    inf and NaN in dropped places become 0 -- at the speed of a multiply; xp.where ran ~30x slower
    here on random-sign masks (branch misprediction), which would cost every ReLU network its speed.
    """
    saves_inputs = False

    def forward(self, a, keep, scale):
        if scale is None:
            return self.backend.kernel("select")(a, keep)
        return self.backend.kernel("select_scaled")(a, keep, scale)

    def backward(self, grad): return (Mask.apply(grad, keep=self.keep, scale=self.scale),)


def mask(a, keep, scale=None):
    """``a`` where the boolean array ``keep`` holds, exactly 0 elsewhere (even where a is inf/NaN)."""
    return Mask.apply(a, keep=keep, scale=scale)


class Where(Function):
    """where(condition, a, b); the condition is a constant boolean array."""
    saves_inputs = False

    def forward(self, a, b, condition): return self.xp.where(condition, a, b)

    def backward(self, grad):
        return (mask(grad, self.condition) if self.needs_input_grad[0] else None,
                mask(grad, ~self.condition) if self.needs_input_grad[1] else None)


def where(condition, a, b):
    """Elementwise ``a if condition else b``; ``condition`` is a boolean tensor (no gradient)."""
    a, b = as_pair(a, b)
    return Where.apply(a, b, condition=condition.data if isinstance(condition, Tensor) else condition)


class Maximum(Function):
    """maximum(a, b); at ties each input gets half the gradient (PyTorch's rule)."""

    def forward(self, a, b, larger): return getattr(self.xp, larger)(a, b)

    def backward(self, grad):
        a, b = self.inputs
        wins = (a.data > b.data) if self.larger == "maximum" else (a.data < b.data)
        tie = a.data == b.data
        half = self.xp.where(tie, 0.5, 1.0).astype(grad.dtype)  # never 0 where the gradient flows
        return (mask(grad, wins | tie, half) if self.needs_input_grad[0] else None,
                mask(grad, ~wins, half) if self.needs_input_grad[1] else None)


def maximum(a, b): return Maximum.apply(*as_pair(a, b), larger="maximum")
def minimum(a, b): return Maximum.apply(*as_pair(a, b), larger="minimum")


class Clip(Function):
    """clip(a, lo, hi): gradient 1 inside [lo, hi] and 0 where the value was clipped."""

    def forward(self, a, lo, hi):
        self.inside = a == a if lo is None else a >= lo  # a == a: all True except NaN
        if hi is not None:
            self.inside &= a <= hi
        return self.xp.clip(a, lo, hi)

    def backward(self, grad): return (mask(grad, self.inside),)


def clip(a, min=None, max=None):
    """NumPy's clip and PyTorch's clamp: values limited to [min, max]."""
    if min is None and max is None:
        raise ValueError("clip/clamp: give at least one of min and max")
    return Clip.apply(a, lo=min, hi=max)


clamp = clip


class ReLU(Function):
    """relu(x) = max(x, 0); the gradient passes where the output is not <= 0 (PyTorch's rule)."""
    saves_inputs = False

    def forward(self, a):
        out, self.keep = self.backend.kernel("relu")(a)  # max, not x * mask: relu(-inf) is 0, not NaN
        return out

    def backward(self, grad): return (mask(grad, self.keep),)


def relu(a): return ReLU.apply(a)


# ---- comparisons and argmax: constant results, no gradient ----------------------------------
def compare(a, b, how):
    """Elementwise comparison as a constant boolean tensor."""
    return Tensor(getattr(a.backend.xp, how)(a.data, as_tensor(b, a).data), _backend=a.backend)


def argmax(a, dim=None, keepdim=False):
    """Index of the largest value (the first one at ties); over the flattened tensor if dim is None."""
    out = a.data.argmax(axis=dim, keepdims=keepdim and dim is not None)
    return Tensor(a.backend.xp.asarray(out), _backend=a.backend)


def argmin(a, dim=None, keepdim=False): return argmax(-a, dim, keepdim)
