"""Elementwise primitives: arithmetic, exp/log/sqrt/abs, and mask-based selection.

Binary ops may return gradients of the broadcast shape: the engine sums them back to each
input's shape (autograd.run_backward), so no op here repeats that bookkeeping.
"""
from minigan.tensor import Function, Tensor


def _constant(fn, array):
    """Wrap an array computed in forward as a graph-free Tensor (a piecewise-constant factor)."""
    return Tensor(array, _backend=fn.backend)


# ---- arithmetic ---------------------------------------------------------------------------------
class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return (grad if self.needs_input_grad[0] else None,
                -grad if self.needs_input_grad[1] else None)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return (grad * b if self.needs_input_grad[0] else None,
                grad * a if self.needs_input_grad[1] else None)


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.inputs
        grad_a = grad / b if self.needs_input_grad[0] else None
        # d(a/b)/db = -a/b^2 = -out/b
        grad_b = -(grad * self.output()) / b if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


class AddScalar(Function):
    """a + c for a Python number c (kept a Python number so float32 stays float32)."""

    def forward(self, a, c):
        return a + c

    def backward(self, grad):
        return (grad,)


class MulScalar(Function):
    def forward(self, a, c):
        self.c = c
        return a * c

    def backward(self, grad):
        return (grad * self.c,)


class PowScalar(Function):
    """a ** p for a Python number p; d/da = p * a ** (p - 1)."""

    def forward(self, a, p):
        self.p = p
        return a ** p

    def backward(self, grad):
        (a,) = self.inputs
        if self.p == 2:  # the common square: skip a pow(x, 1)
            return (grad * (a * 2.0),)
        return (grad * (a ** (self.p - 1) * self.p),)


# ---- transcendental -----------------------------------------------------------------------------
class Exp(Function):
    def forward(self, a):
        return self.xp.exp(a)

    def backward(self, grad):
        return (grad * self.output(),)


class Log(Function):
    def forward(self, a):
        return self.xp.log(a)

    def backward(self, grad):
        return (grad / self.inputs[0],)


class Sqrt(Function):
    def forward(self, a):
        return self.xp.sqrt(a)

    def backward(self, grad):
        return (grad / (self.output() * 2.0),)


class Abs(Function):
    def forward(self, a):
        self.sign = self.xp.sign(a)
        return self.xp.abs(a)

    def backward(self, grad):
        return (grad * _constant(self, self.sign),)


# ---- selection (gradients flow through the chosen branch; masks are constants) ----------------
class Where(Function):
    """where(condition, a, b); the condition is a constant boolean array."""

    def forward(self, a, b, condition):
        # NOTE: arithmetic 0/1 masks in backward: boolean selection ran ~15x slower here.
        self.mask = condition.astype(a.dtype)
        return self.xp.where(condition, a, b)

    def backward(self, grad):
        mask = _constant(self, self.mask)
        return (grad * mask if self.needs_input_grad[0] else None,
                grad * (1.0 - mask) if self.needs_input_grad[1] else None)


class Clip(Function):
    """clip(a, lo, hi): gradient 1 inside [lo, hi] and 0 where the value was clipped."""

    def forward(self, a, lo, hi):
        xp = self.xp
        inside = xp.ones(a.shape, dtype=a.dtype)
        if lo is not None:
            inside *= a >= lo
        if hi is not None:
            inside *= a <= hi
        self.inside = inside
        return xp.clip(a, lo, hi)

    def backward(self, grad):
        return (grad * _constant(self, self.inside),)
