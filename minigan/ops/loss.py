"""Fused loss primitives (fused because the unfused form produces inf/NaN at the edges)."""
from minigan.tensor import Function

LOG_FLOOR = -100.0  # PyTorch's clamp for log(p) in binary cross entropy


def _clamped_log(xp, p):
    """max(log p, -100) with no log(0) warning: log(0) is taken as log(1) - 100."""
    zero = (p == 0).astype(p.dtype)
    return xp.maximum(xp.log(p + zero) - 100.0 * zero, LOG_FLOOR)


def _clamped_log1m(xp, p):
    """max(log(1 - p), -100), via log1p: log(1 - 1e-12) keeps its digits (1 - p would round)."""
    one = (p == 1).astype(p.dtype)
    return xp.maximum(xp.log1p(-(p - one)) - 100.0 * one, LOG_FLOOR)


class BinaryCrossEntropy(Function):
    """-[t log p + (1 - t) log(1 - p)], logs clamped at -100.

    NOTE: fused: as log(p).clip(-100) the backward would be 0 * (1/0) = NaN at p = 0. The
    gradient (p - t) / max(p (1 - p), 1e-12) is PyTorch's, finite everywhere.
    """

    def forward(self, p, t):
        log_p, log_1mp = _clamped_log(self.xp, p), _clamped_log1m(self.xp, p)
        return -(t * log_p + (1.0 - t) * log_1mp)

    def backward(self, grad):
        p, t = self.inputs
        grad_p = grad_t = None
        if self.needs_input_grad[0]:
            grad_p = grad * (p - t) / (p * (1.0 - p)).clip(min=1e-12)
        if self.needs_input_grad[1]:  # d/dt = log(1 - p) - log(p), written differentiably in p
            grad_t = grad * ((1.0 - p).log().clip(min=LOG_FLOOR) - p.log().clip(min=LOG_FLOOR))
        return grad_p, grad_t
