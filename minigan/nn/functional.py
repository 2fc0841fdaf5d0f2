"""Functional forms of the layers, and the losses. ``import minigan.nn.functional as F``."""
from minigan import ops
# a later chapter, in its own package:
from minigan.conv.batch_norm import batch_norm_batch_statistics
from minigan.conv.embedding import embedding
from minigan.conv.ops import conv2d, conv_transpose2d
# activations re-exported, so F.relu etc. work as in PyTorch
from minigan.ops import leaky_relu, linear, log_sigmoid, log_softmax, relu, sigmoid, softmax, softplus, tanh
from minigan.ops.loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from minigan.tensor import Tensor


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p),
    so the expected value is unchanged and evaluation needs no rescaling."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    mask = (x.backend.rand(x.shape, x.dtype) >= p).astype(x.dtype)  # 1 where kept
    mask *= 1.0 / (1.0 - p)
    return x * Tensor(mask, _backend=x.backend)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=True, momentum=0.1, eps=1e-5):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel of x (N, C, *): BatchNorm1d's
    (N, C) and (N, C, L), BatchNorm2d's (N, C, H, W); statistics over every axis but the channel's.

    In training (or without running statistics) the batch's biased statistics are used, and the
    running ones updated with the unbiased variance, as in PyTorch; in evaluation the running ones.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {x.shape}")
    if running_mean is not None and running_mean.shape != (x.shape[1],):
        raise ValueError(f"batch_norm: input {x.shape} has {x.shape[1]} features but the running "
                         f"statistics have shape {running_mean.shape}")
    channel = (1, -1) + (1,) * (x.ndim - 2)  # per-channel values broadcast over N (and L, or H and W)
    if training or running_mean is None:
        n = x.size // max(x.shape[1], 1)
        if n < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}")
        # NOTE: the batch's statistics and y as one Function, forward and backward each a kernel (too
        # many passes over the images composed); its docstring has the gradient's formula
        y, mean, var = batch_norm_batch_statistics(x, weight, bias, eps)
        if running_mean is not None and training:
            # moving averages, in place on the buffers, outside the graph
            running_mean.data[...] = running_mean.data * (1.0 - momentum) + momentum * mean
            running_var.data[...] = running_var.data * (1.0 - momentum) + momentum * n / (n - 1) * var
        return y
    y = (x - running_mean.detach().reshape(channel)) / (running_var.detach().reshape(channel) + eps).sqrt()
    return y * weight.reshape(channel) + bias.reshape(channel) if weight is not None else y


# ---- losses ----------------------------------------------------------------------------------
_REDUCTIONS = {"mean": ops.mean, "sum": ops.sum, "none": lambda loss: loss}


def _reduce(loss, reduction, name):
    """``loss`` reduced; a function of the reduction (a fused loss) reduces itself."""
    if reduction not in tuple(_REDUCTIONS):  # a tuple: compared with ==, never hashed
        raise ValueError(f"{name}: reduction must be one of {tuple(_REDUCTIONS)}, got {reduction!r}")
    return loss(reduction) if callable(loss) else _REDUCTIONS[reduction](loss)


def _pointwise_loss(name, loss, input_, target, reduction, fused=False):
    """``loss(input, target)`` elementwise, for a target of the input's shape, then reduced (a
    ``fused`` loss is a Function that reduces in its own kernel)."""
    target = ops.as_tensor(target, input_)
    if input_.shape != target.shape:
        raise ValueError(f"{name}: input shape {input_.shape} and target shape {target.shape} differ; "
                         "they must be equal (reshape the target, e.g. to (N, 1))")
    if fused:
        return _reduce(lambda how: loss.apply(input_, target, reduction=how), reduction, name)
    return _reduce(loss(input_, target), reduction, name)


def binary_cross_entropy(input, target, reduction="mean"):
    """-[t log p + (1 - t) log(1 - p)] for probabilities p; each log is clamped at -100 like
    PyTorch, so p = 0 or 1 gives a finite loss and gradient, never inf or NaN."""
    return _pointwise_loss("binary_cross_entropy", BinaryCrossEntropy, input, target, reduction, fused=True)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """BCE of sigmoid(z) from the logit z: t softplus(-z) + (1 - t) softplus(z).

    Both terms are non-negative, so nothing cancels: exact for every logit (the shorter
    softplus(z) - t z loses everything below 1e-16 relative, e.g. the loss at z = 60, t = 1).
    """
    return _pointwise_loss("binary_cross_entropy_with_logits", BinaryCrossEntropyWithLogits, input, target,
                           reduction, fused=True)


def cross_entropy(logits, labels, reduction="mean"):
    """-log softmax(logits)[label] for logits (N, C) and integer labels (N,), as in PyTorch."""
    labels = labels.data if isinstance(labels, Tensor) else labels
    if logits.ndim != 2 or tuple(labels.shape) != (logits.shape[0],):
        raise ValueError(f"cross_entropy: logits of shape {logits.shape} need labels of shape "
                         f"({logits.shape[0] if logits.ndim else 'N'},), got {tuple(labels.shape)}")
    rows = logits.backend.xp.arange(logits.shape[0])
    return _reduce(-log_softmax(logits, axis=1)[rows, labels], reduction, "cross_entropy")


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2."""
    return _pointwise_loss("mse_loss", lambda x, t: (x - t) ** 2, input, target, reduction)
