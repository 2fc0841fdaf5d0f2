"""Assignment A1: forward and backward of six operations, as minigan Functions.

Every operation in minigan is one small class (see minigan/ops/elementwise.py):

* ``forward(self, *arrays)`` computes the output from raw arrays (NumPy, or CuPy on a GPU: call
  array functions through ``self.xp``, e.g. ``self.xp.exp(a)``) and returns an array;
* ``backward(self, grad)`` receives dL/d(output) as a Tensor and returns dL/d(input) for every
  input, as a tuple of Tensors (None for an input that needs no gradient).

Write backward with Tensor operations (``grad * b``, ``grad / a``, ``grad @ b.T``, ``t.reshape``,
``t.broadcast_to``), never on ``.data`` arrays: then the gradient is itself differentiable, and
WGAN-GP's gradient penalty (assignment A4) backpropagates through gradients.

Inside a Function you have:
    self.inputs             the input Tensors, in order
    self.output()           the output Tensor (handy where the derivative is written with it)
    self.needs_input_grad   one bool per input: False means return None for it
    self.xp                 the array namespace, for forward

Broadcasting is taken care of for you: if forward broadcast ``a`` of shape (3, 4) against ``b`` of
shape (4,), backward may return b's gradient with the broadcast shape (3, 4); the engine sums it
back to (4,).

Use an op as ``Mul.apply(a, b)`` on Tensors. Check your gradients yourself with ``mg.gradcheck``
(float64 inputs), then grade the file:  python -m minigan.grade A1 a1_backward.py
"""
import minigan as mg  # noqa: F401  (handy for experiments: mg.tensor, mg.gradcheck)
from minigan.tensor import Function


def normalize_axes(axis, ndim):
    """``axis`` (None, an int or a tuple of ints, negatives allowed) as a sorted tuple of
    non-negative axes; None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(ax % ndim for ax in axes))


class Mul(Function):
    """out = a * b, elementwise (with broadcasting).

    d out / d a = b,   d out / d b = a,   so   dL/da = grad * b,   dL/db = grad * a.
    """

    def forward(self, a, b):
        ### BEGIN SOLUTION
        raise NotImplementedError("Mul.forward: write your solution here")
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        raise NotImplementedError("Mul.backward: write your solution here")
        ### END SOLUTION


class Exp(Function):
    """out = exp(a);   d out / d a = exp(a) = out (reuse the output: self.output())."""

    def forward(self, a):
        ### BEGIN SOLUTION
        raise NotImplementedError("Exp.forward: write your solution here")
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        raise NotImplementedError("Exp.backward: write your solution here")
        ### END SOLUTION


class Log(Function):
    """out = log(a) for a > 0;   d out / d a = 1 / a."""

    def forward(self, a):
        ### BEGIN SOLUTION
        raise NotImplementedError("Log.forward: write your solution here")
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        raise NotImplementedError("Log.backward: write your solution here")
        ### END SOLUTION


class Tanh(Function):
    """out = tanh(a);   d out / d a = 1 - tanh(a)^2 = 1 - out^2."""

    def forward(self, a):
        ### BEGIN SOLUTION
        raise NotImplementedError("Tanh.forward: write your solution here")
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        raise NotImplementedError("Tanh.backward: write your solution here")
        ### END SOLUTION


class Sum(Function):
    """out = a summed over ``axis`` (None: every axis), keeping the summed axes as size 1 if
    ``keepdims``.  Use it as ``Sum.apply(a, axis=1, keepdims=False)``.

    Every element of ``a`` enters exactly one output element with weight 1, so dL/da[i] is the
    gradient of the output element it was summed into: put the summed axes back as size-1 axes
    (``grad.reshape``), then copy along them (``.broadcast_to(a.shape)``). Save what backward
    needs (the input's shape, the axes) on ``self`` in forward; ``normalize_axes`` helps.
    """

    def forward(self, a, axis=None, keepdims=False):
        ### BEGIN SOLUTION
        raise NotImplementedError("Sum.forward: write your solution here")
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        raise NotImplementedError("Sum.backward: write your solution here")
        ### END SOLUTION


class MatMul(Function):
    """out = a @ b for matrices a (n, k) and b (k, m).

    out[i, j] = sum_p a[i, p] b[p, j], so   dL/da = grad @ b^T  (n, k)   and   dL/db = a^T @ grad  (k, m).
    (Check the shapes: they are the only arrangement that fits.)
    """

    def forward(self, a, b):
        ### BEGIN SOLUTION
        raise NotImplementedError("MatMul.forward: write your solution here")
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        raise NotImplementedError("MatMul.backward: write your solution here")
        ### END SOLUTION
