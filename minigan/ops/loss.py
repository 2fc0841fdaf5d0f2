"""Fused loss primitives (fused because the unfused form produces inf/NaN at the edges), each with its
reduction: one kernel forward and one backward (minigan/kernels/activations.py), unless a higher-order
graph is being recorded; then backward is written in Tensor ops, which are differentiable again."""
import math

from minigan.tensor import Function, Tensor, is_grad_enabled

LOG_FLOOR = -100.0  # PyTorch's clamp for log(p) in binary cross entropy


class _PointwiseLoss(Function):
    """loss(input, target) elementwise, summed (times 1/n for the mean) unless reduction is "none"."""

    def forward(self, x, t, reduction):
        n = math.prod(x.shape)
        self.scale = 1.0 if reduction != "mean" else 1.0 / n if n else math.nan  # NaN: the mean of nothing
        if reduction == "none":
            return self.backend.kernel(self.kernel)(x, t)
        return self.backend.kernel(self.kernel + "_sum")(x, t, self.scale)

    def backward(self, grad):
        x, t = self.inputs
        grad_t = grad * self.scale * self.target_grad(x) if self.needs_input_grad[1] else None
        if not self.needs_input_grad[0]:
            return None, grad_t
        if is_grad_enabled():  # a higher-order graph is being recorded
            return self.unfused(grad * self.scale, x, t), grad_t
        kernel = self.backend.kernel(self.kernel + "_backward")
        return Tensor(kernel(grad.data, x.data, t.data, self.scale), _backend=self.backend), grad_t


class BinaryCrossEntropy(_PointwiseLoss):
    """-[t log p + (1 - t) log(1 - p)], logs clamped at -100.

    NOTE: fused: as log(p).clip(-100) the backward would be 0 * (1/0) = NaN at p = 0. The
    gradient (p - t) / max(p (1 - p), 1e-12) is PyTorch's, finite everywhere.
    """
    kernel = "bce"

    @staticmethod
    def unfused(grad, p, t): return grad * (p - t) / (p * (1.0 - p)).clip(min=1e-12)

    @staticmethod
    def target_grad(p):  # d/dt = log(1 - p) - log(p), written differentiably in p
        return (1.0 - p).log().clip(min=LOG_FLOOR) - p.log().clip(min=LOG_FLOOR)


class BinaryCrossEntropyWithLogits(_PointwiseLoss):
    """t softplus(-z) + (1 - t) softplus(z), the BCE of sigmoid(z) from the logit z.

    NOTE: fused: both terms are >= 0, so nothing cancels (the shorter softplus(z) - t z loses
    everything below 1e-16 relative, e.g. the loss at z = 60, t = 1); d/dz = sigmoid(z) - t, written
    (1 - t) sigmoid(z) - t sigmoid(-z) so that it does not cancel either (-9e-27 at z = 60, t = 1, not 0).
    """
    kernel = "bce_logits"

    @staticmethod
    def unfused(grad, z, t): return grad * ((1.0 - t) * z.sigmoid() - t * (-z).sigmoid())

    @staticmethod
    def target_grad(z): return -z  # softplus(-z) - softplus(z) = -z
