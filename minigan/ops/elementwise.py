"""Elementwise arithmetic and transcendental functions, each Function beside its public function.

Binary ops may return gradients of the broadcast shape: the engine sums them back to each
input's shape (tensor.run_backward), so no op here repeats that bookkeeping.
"""
from minigan.ops.coerce import as_pair, as_tensor, binary, is_scalar
from minigan.ops.select import mask
from minigan.tensor import Function, Tensor


def unary(name, forward, backward, reads="input"):
    """A Function class for a one-input op: ``forward(xp, a)`` on the array, ``backward(grad, a, y)``
    the input's gradient in Tensor ops (a the input, y the output). ``reads`` names the tensor
    backward needs ("input", "output" or None): changing that one in place makes backward raise."""
    class Unary(Function):
        saves_inputs, saves_output = reads == "input", reads == "output"
        def forward(self, a): return forward(self.xp, a)
        def backward(self, grad): return (backward(grad, self.inputs[0], self.output()),)
    Unary.__name__ = Unary.__qualname__ = name
    return Unary


# ---- arithmetic ---------------------------------------------------------------------------------
class Add(Function):
    saves_inputs = False
    def forward(self, a, b): return a + b
    def backward(self, grad): return grad, grad


class AddScalar(Function):
    """a + c for a Python number c (kept a Python number so float32 stays float32)."""
    saves_inputs = False
    def forward(self, a, c): return a + c
    def backward(self, grad): return (grad,)


def _commutative(tensor_op, scalar_op, name, a, b):
    """a op b for a commutative op: a Python number on either side takes the scalar form."""
    if not isinstance(a, Tensor):
        a, b = b, a
    if is_scalar(b):
        return scalar_op.apply(a, c=float(b))
    return binary(tensor_op, name, a, as_tensor(b, a))


def add(a, b): return _commutative(Add, AddScalar, "add", a, b)


class Sub(Function):
    saves_inputs = False
    def forward(self, a, b): return a - b
    def backward(self, grad): return grad, (-grad if self.needs_input_grad[1] else None)  # grad is free to pass on


def sub(a, b):
    if isinstance(a, Tensor) and is_scalar(b):
        return AddScalar.apply(a, c=-float(b))
    if is_scalar(a):
        return add(neg(b), a)
    return binary(Sub, "sub", *as_pair(a, b))


class Mul(Function):
    def forward(self, a, b): return a * b

    def backward(self, grad):
        a, b = self.inputs
        return grad * b if self.needs_input_grad[0] else None, grad * a if self.needs_input_grad[1] else None


class MulScalar(Function):
    saves_inputs = False

    def forward(self, a, c): return a * c
    def backward(self, grad): return (grad * self.c,)


def mul(a, b): return _commutative(Mul, MulScalar, "mul", a, b)


class Div(Function):
    saves_output = True
    def forward(self, a, b): return a / b

    def backward(self, grad):
        a, b = self.inputs
        grad_a = grad / b if self.needs_input_grad[0] else None
        # d(a/b)/db = -a/b^2 = -out/b
        grad_b = -(grad * self.output()) / b if self.needs_input_grad[1] else None
        return grad_a, grad_b


def div(a, b):
    if isinstance(a, Tensor) and is_scalar(b):
        return MulScalar.apply(a, c=1.0 / float(b))
    if is_scalar(a):
        return mul(pow(b, -1.0), a)
    return binary(Div, "div", *as_pair(a, b))


Neg = unary("Neg", lambda xp, a: -a, lambda grad, a, y: -grad, reads=None)
def neg(a): return Neg.apply(a)


class PowScalar(Function):
    """a ** p for a Python number p; d/da = p * a ** (p - 1), and exactly 0 for p = 0."""

    def forward(self, a, p): return a ** p

    def backward(self, grad):
        (a,) = self.inputs
        if self.p == 0:  # constant 1: its gradient is 0 even where a ** -1 is inf (a = 0)
            return (Tensor(self.xp.zeros_like(grad.data), _backend=self.backend),)
        if self.p == 2:  # the common square: skip a pow(x, 1)
            return (grad * (a * 2.0),)
        return (grad * (a ** (self.p - 1) * self.p),)


class Pow(Function):
    """a ** b for tensors: d/da = b a^(b-1) (0 where b = 0), d/db = a^b log a (0 where a = 0 <= b),
    the conventions PyTorch uses so that 0 ** 0 = 1 has finite gradients."""
    saves_output = True
    def forward(self, a, b): return a ** b

    def backward(self, grad):
        (a, b), needs = self.inputs, self.needs_input_grad
        grad_a = mask(grad * b * a ** (b - 1.0), b.data != 0) if needs[0] else None
        grad_b = mask(grad * self.output() * a.log(), ~((a.data == 0) & (b.data >= 0))) if needs[1] else None
        return grad_a, grad_b


def pow(a, exponent):
    """a ** exponent; either may be a Tensor (2 ** x and x ** y work too)."""
    if isinstance(a, Tensor) and is_scalar(exponent):
        return PowScalar.apply(a, p=float(exponent))
    return binary(Pow, "pow", *as_pair(a, exponent))


# ---- transcendental: (forward, backward) pairs ----------------------------------------------------
Exp = unary("Exp", lambda xp, a: xp.exp(a), lambda grad, a, y: grad * y, reads="output")
Log = unary("Log", lambda xp, a: xp.log(a), lambda grad, a, y: grad / a)
Sqrt = unary("Sqrt", lambda xp, a: xp.sqrt(a), lambda grad, a, y: grad / (y * 2.0), reads="output")
# |a|: the gradient is sign(a) (0 at 0), as in PyTorch
Abs = unary("Abs", lambda xp, a: xp.abs(a),
            lambda grad, a, y: grad * Tensor(a.backend.xp.sign(a.data), _backend=a.backend))


def exp(a): return Exp.apply(a)
def log(a): return Log.apply(a)
def sqrt(a): return Sqrt.apply(a)
def abs(a): return Abs.apply(a)


# ---- copies and casts ---------------------------------------------------------------------------
Clone = unary("Clone", lambda xp, a: a.copy(), lambda grad, a, y: grad, reads=None)
def clone(a): return Clone.apply(a)


class Cast(Function):
    """a.astype(dtype); the gradient goes back in the input's dtype."""
    saves_inputs = False

    def forward(self, a, dtype): return a.astype(dtype)
    def backward(self, grad): return (Cast.apply(grad, dtype=self.inputs[0].dtype),)


def to_dtype(a, dtype): return a if a.dtype == dtype else Cast.apply(a, dtype=dtype)
