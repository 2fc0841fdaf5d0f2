"""Batch normalization with the batch's own statistics, as one Function (F.batch_norm in training).

    y = (x - mean) / sqrt(var + eps) * w + b,  mean and biased var per channel of x (N, C, *)
    dx = (w / s) (g - mean(g) - xhat mean(g xhat)),  dw = sum(g xhat),  db = sum(g)

with s = sqrt(var + eps), xhat = (x - mean) / s, every mean and sum over all axes but the channel's.
Composed of primitive ops, this is ~10 elementwise passes over x forward and ~20 backward, each
with its own temporary: the largest cost of a DCGAN step after the convolutions. Here the
statistics are xp reductions and the rest one kernel each way (minigan/kernels/normalization.py).
Backward takes the kernel unless a higher-order graph is being recorded (backward(create_graph=True)
runs in grad mode): then the formula above in Tensor ops, recomputed from x, whose own gradient
exists, as the fused activations do (minigan/ops/activation.py).
"""
from minigan.kernels.pool import empty
from minigan.tensor import Function, Tensor, is_grad_enabled


def _axes(x): return (0,) + tuple(range(2, x.ndim))      # every axis but the channel's
def _channel(x): return (1, -1) + (1,) * (x.ndim - 2)    # per-channel values, broadcast over the rest


def _channel_dot(xp, a, b):
    """sum over every axis but the channel's of a * b, shaped (1, C, 1, ...): no temporary product."""
    axes = "nc" + "hwl"[:a.ndim - 2]
    return xp.einsum(f"{axes},{axes}->c", a, b).reshape(_channel(a))


class BatchNorm(Function):
    """y for x (N, C, *) and optionally w, b (C,), given the centred input and 1 / sqrt(var + eps)."""

    def forward(self, x, w=None, b=None, *, centered, invstd, eps):
        self.centered, self.invstd, self.eps = centered, invstd, eps
        scale = invstd if w is None else invstd * w.reshape(_channel(x))
        shift = self.xp.zeros_like(invstd) if b is None else b.reshape(_channel(x))
        return self.backend.kernel("batch_norm")(centered, scale, shift)

    def backward(self, grad):
        if is_grad_enabled():
            return _backward_in_tensor_ops(grad, *self.inputs, eps=self.eps, needs=self.needs_input_grad)
        needs, xp, g, c = self.needs_input_grad, self.xp, grad.data, self.centered
        if g.strides != c.strides:   # another memory order (a Flatten's gradient): mixed strides run ~10x slower
            g, aligned = empty(xp, c.shape, c.dtype, like=c), g
            g[...] = aligned
        n = c.size // c.shape[1]
        sum_g, sum_gc = g.sum(axis=_axes(c), keepdims=True), _channel_dot(xp, g, c)
        k1 = self.invstd if len(needs) == 1 else self.invstd * self.inputs[1].data.reshape(_channel(c))
        k2, k3 = k1 * (self.invstd * self.invstd) * sum_gc * (-1.0 / n), k1 * sum_g * (-1.0 / n)
        grads = [self.backend.kernel("batch_norm_backward")(g, c, k1, k2, k3) if needs[0] else None]
        if len(needs) > 1:
            grads += [(sum_gc * self.invstd).reshape(-1) if needs[1] else None, sum_g.reshape(-1) if needs[2] else None]
        return tuple(None if a is None else Tensor(a, _backend=self.backend) for a in grads)


def _backward_in_tensor_ops(grad, x, w=None, b=None, *, eps, needs):
    """BatchNorm's gradients as differentiable Tensor ops (see the module docstring)."""
    axes = _axes(x)
    centered = x - x.mean(axis=axes, keepdims=True)
    invstd = ((centered * centered).mean(axis=axes, keepdims=True) + eps) ** -0.5
    xhat = centered * invstd
    g_xhat = (grad * xhat).mean(axis=axes, keepdims=True)
    scale = invstd if w is None else invstd * w.reshape(_channel(x))
    grad_x = (grad - grad.mean(axis=axes, keepdims=True) - xhat * g_xhat) * scale if needs[0] else None
    if w is None:
        return (grad_x,)
    return grad_x, (grad * xhat).sum(axis=axes) if needs[1] else None, grad.sum(axis=axes) if needs[2] else None


def batch_norm_batch_statistics(x, weight, bias, eps):
    """(y, mean, var) of batch normalization with the batch's statistics (biased var), mean and var as
    arrays of shape (C,) for the caller's running averages. x (N, C, *), weight and bias (C,) or None."""
    xp, data, axes = x.backend.xp, x.data, _axes(x)
    n = data.size // data.shape[1]
    mean = data.sum(axis=axes, keepdims=True) * (1.0 / n)
    centered = xp.subtract(data, mean, out=empty(xp, data.shape, data.dtype, like=data))
    var = _channel_dot(xp, centered, centered) * (1.0 / n)
    invstd = 1.0 / xp.sqrt(var + eps)
    inputs = (x,) if weight is None else (x, weight, bias)
    return BatchNorm.apply(*inputs, centered=centered, invstd=invstd, eps=eps), mean.reshape(-1), var.reshape(-1)
