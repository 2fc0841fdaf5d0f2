"""Layers: Linear, activations, BatchNorm1d and BatchNorm2d, Dropout."""
import math

from minigan.nn import functional as F
from minigan.nn.module import Module, Parameter
from minigan.creation import ones, rand, zeros


def _uniform(shape, bound):
    """A Parameter of ``shape`` drawn from U(-bound, bound) with the current backend's generator."""
    return Parameter(rand(*shape) * (2.0 * bound) - bound)


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features) as in PyTorch.

    Initialized like PyTorch: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform
    with a = sqrt(5) works out to exactly that bound).
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: sizes must be positive, got in={in_features}, out={out_features}")
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = _uniform((out_features, in_features), bound)
        self.bias = _uniform((out_features,), bound) if bias else None

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input of shape {x.shape} does not "
                             f"fit weight of shape {self.weight.shape}; expected (*, {self.in_features})")
        if x.ndim == 2:
            return F.linear(x, self.weight, self.bias)
        # (N, *, in) and (in,) as torch: fold the leading dims into one batch for the 2-D fused op
        y = F.linear(x.reshape((-1, self.in_features)), self.weight, self.bias)
        return y.reshape(x.shape[:-1] + (self.out_features,))

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    def forward(self, x): return F.relu(x)


class Sigmoid(Module):
    def forward(self, x): return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x): return F.tanh(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x): return F.leaky_relu(x, self.negative_slope)
    def extra_repr(self): return f"negative_slope={self.negative_slope}"


class Dropout(Module):
    """Inverted dropout with probability p in training; the identity in eval()."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x): return F.dropout(x, self.p, self.training)
    def extra_repr(self): return f"p={self.p}"


class BatchNorm1d(Module):
    """Batch normalization over (N, C) or (N, C, L) inputs; note the signature: BatchNorm1d(n, eps, momentum).

    ``momentum=None`` keeps a cumulative average of the batch statistics; ``track_running_stats=False``
    keeps none (batch statistics in evaluation too), as in PyTorch.
    """

    input_dims = (2, 3)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if not 0 < eps < 0.1:
            raise ValueError(f"{name}: eps={eps} looks wrong (the default is 1e-5); "
                             f"did you mean momentum? call {name}(n, momentum=...)")
        if momentum is not None and not 0.0 <= momentum <= 1.0:   # outside, running_var could go negative
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.track_running_stats = track_running_stats
        self.weight = Parameter(ones(num_features)) if affine else None
        self.bias = Parameter(zeros(num_features)) if affine else None
        self.running_mean = self.running_var = self.num_batches_tracked = None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features))
            self.register_buffer("running_var", ones(num_features))
            self.register_buffer("num_batches_tracked", zeros((), dtype="int64"))

    def forward(self, x):
        if x.ndim not in self.input_dims:  # PyTorch's check: BatchNorm1d never sees images, nor BatchNorm2d vectors
            raise ValueError(f"{type(self).__name__}: expected {' or '.join(f'{d}-D' for d in self.input_dims)} "
                             f"input, got shape {x.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, factor, self.eps)

    def extra_repr(self): return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm2d(BatchNorm1d):
    """Batch normalization of images (N, C, H, W): per channel, over N, H and W; otherwise BatchNorm1d."""

    input_dims = (4,)
