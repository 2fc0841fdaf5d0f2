"""Activation primitives. Each one fused where numerics or speed ask for it (see NOTEs)."""
from minigan.ops.elementwise import _constant
from minigan.tensor import Function


class ReLU(Function):
    def forward(self, a):
        self.mask = (a > 0).astype(a.dtype)
        return a * self.mask

    def backward(self, grad):
        return (grad * _constant(self, self.mask),)


class LeakyReLU(Function):
    """leaky_relu(x) = x if x > 0 else slope * x, i.e. x * mask with mask in {slope, 1}."""

    def forward(self, a, slope):
        # NOTE: an arithmetic mask instead of where(): no branch misprediction on random signs,
        # and backward reuses it as a single multiply.
        mask = (a > 0).astype(a.dtype)
        mask *= 1.0 - slope
        mask += slope
        self.mask = mask
        return a * mask

    def backward(self, grad):
        return (grad * _constant(self, self.mask),)


class Sigmoid(Function):
    """sigmoid(x) = 1 / (1 + exp(-x)), computed from exp(-|x|) so it never overflows."""

    def forward(self, a):
        xp = self.xp
        # NOTE: fused for numerics: for x < 0 use exp(x) / (1 + exp(x)), which keeps tiny
        # values like sigmoid(-30) = 9e-14 (the naive form rounds them to 0 and log() to -inf).
        z = xp.exp(-xp.abs(a))
        return xp.where(a >= 0, 1.0, z).astype(a.dtype, copy=False) / (1.0 + z)

    def backward(self, grad):
        s = self.output()
        return (grad * (s * (1.0 - s)),)


class Tanh(Function):
    def forward(self, a):
        return self.xp.tanh(a)

    def backward(self, grad):
        t = self.output()
        return (grad * (1.0 - t * t),)


class Softplus(Function):
    """softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), exact for every x."""

    def forward(self, a):
        xp = self.xp
        return xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))

    def backward(self, grad):
        return (grad * self.inputs[0].sigmoid(),)
