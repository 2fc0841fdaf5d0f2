"""Matrix products: matmul (2-D and batched) and the fused linear layer x @ W.T + b."""
from minigan.kernels.flat import hold_grad_slot
from minigan.ops.coerce import as_pair, binary
from minigan.tensor import Function, Tensor


def _matmul(xp, a, b):
    # NOTE: with inner dimension 1 (an outer product, e.g. the input gradient of a layer with one
    # output unit) BLAS ran at ~2 GFLOP/s here; a broadcast multiply does the same much faster.
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1:
        return a * b
    return xp.matmul(a, b)


class MatMul(Function):
    """a @ b over the last two axes, leading axes broadcast (the engine sums them back)."""

    def forward(self, a, b): return _matmul(self.xp, a, b)

    def backward(self, grad):
        a, b = self.inputs
        return grad @ b.mT if self.needs_input_grad[0] else None, a.mT @ grad if self.needs_input_grad[1] else None


def matmul(a, b):
    """a @ b as in NumPy and PyTorch: batched over leading axes; a 1-D operand is a vector
    (1-D @ 1-D is the dot product, 2-D @ 1-D a matrix-vector product)."""
    a, b = as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must not be 0-d, got shapes {a.shape} and {b.shape}; use * for scalars")
    if a.ndim == 1 or b.ndim == 1:  # as (1, n) and (n, 1) matrices, then drop the added axes
        added = ([-2] if a.ndim == 1 else []) + ([-1] if b.ndim == 1 else [])
        return matmul(a.reshape(1, -1) if a.ndim == 1 else a, b.reshape(-1, 1) if b.ndim == 1 else b).squeeze(added)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                         f"(inner dimensions {a.shape[-1]} != {b.shape[-2]})")
    return binary(MatMul, "matmul", a, b)


class Linear(Function):
    """y = x @ W.T + b for x (N, in), W (out, in), b (out,) — PyTorch's weight layout.

    Fused (rather than matmul + transpose + add) because it is the hot loop of every MLP:
    one output buffer, and gradients only for what needs them (a frozen layer skips dW, db).
    """

    def forward(self, x, weight, bias=None):  # bias=None: applied to (x, weight) only
        out = _matmul(self.xp, x, weight.T)
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        (x, weight), needs = self.inputs[:2], self.needs_input_grad
        grad_x = grad @ weight if needs[0] else None
        # the weight gradients straight into the parameters' gradient slots, if free: no copy there after
        grad_w = _into_grad_slot(weight, lambda out: self.xp.matmul(grad.data.T, x.data, out=out),
                                 lambda: grad.T @ x) if needs[1] else None
        grad_b = _into_grad_slot(self.inputs[2], lambda out: self.xp.sum(grad.data, axis=0, out=out),
                                 lambda: grad.sum(axis=0)) if len(needs) > 2 and needs[2] else None
        return grad_x, grad_w, grad_b


def _into_grad_slot(leaf, compute, otherwise):
    """``compute(out=slot)`` straight into the leaf's free gradient slot (no copy there afterwards), or
    ``otherwise()`` (Tensor ops) where there is none free."""
    slot = leaf.free_grad_slot()
    return otherwise() if slot is None else hold_grad_slot(leaf, Tensor(compute(out=slot), _backend=leaf.backend))


def linear(x, weight, bias=None):
    """x @ weight.T + bias, for x of shape (N, in) and weight of shape (out, in)."""
    if x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
                         f"(expected input (N, {weight.shape[-1]}))")
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)
