"""Activations, each fused where numerics or speed ask for it (see the NOTEs)."""
from minigan.ops.elementwise import unary
from minigan.tensor import Function, Tensor, is_grad_enabled


class LeakyReLU(Function):
    """leaky_relu(x) = x if x > 0 else slope * x, i.e. x * mask with mask in {slope, 1}."""
    saves_inputs = False

    def forward(self, a, slope):
        # NOTE: an arithmetic mask instead of a selection: no branch misprediction on random signs,
        # and backward reuses it as one multiply. This is PyTorch's own rule (x * slope forward,
        # grad * slope backward), so with slope != 0 an inf gradient stays inf * slope; with
        # slope = 0 PyTorch too gives NaN there (inf * 0): use relu for a hard zero.
        out, self.mask = self.backend.kernel("leaky_relu")(a, slope)  # one kernel (minigan/kernels)
        return out

    def backward(self, grad): return (grad * Tensor(self.mask, _backend=self.backend),)


def leaky_relu(a, negative_slope=0.01): return LeakyReLU.apply(a, slope=float(negative_slope))


class _FusedActivation(Function):
    """y = f(x) in one kernel, and backward in one kernel too -- unless a higher-order graph is being
    recorded (backward(create_graph=True) runs in grad mode): then ``unfused`` in Tensor ops, whose
    own gradient exists (WGAN-GP's penalty, gradgradcheck)."""
    saves_inputs, saves_output = False, True

    def forward(self, a): return self.backend.kernel(self.kernel)(a)

    def backward(self, grad):
        y = self.output()
        if is_grad_enabled():
            return (self.unfused(grad, y),)
        return (Tensor(self.backend.kernel(self.kernel + "_backward")(grad.data, y.data), _backend=self.backend),)


class Sigmoid(_FusedActivation):
    """sigmoid(x) = 1 / (1 + exp(-x)), computed from exp(-|x|) so it never overflows.

    NOTE: fused for numerics: for x < 0 it is exp(x) / (1 + exp(x)), which keeps tiny values like
    sigmoid(-30) = 9e-14 (the naive form rounds them to 0 and log() to -inf)."""
    kernel = "sigmoid"
    unfused = staticmethod(lambda grad, s: grad * (s * (1.0 - s)))


class Tanh(_FusedActivation):
    kernel = "tanh"
    unfused = staticmethod(lambda grad, t: grad * (1.0 - t * t))


# softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), exact for every x
Softplus = unary("Softplus", lambda xp, a: xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a))),
                 lambda grad, a, y: grad * a.sigmoid())


def sigmoid(a): return Sigmoid.apply(a)
def tanh(a): return Tanh.apply(a)
def softplus(a): return Softplus.apply(a)


def log_sigmoid(a):
    """log(sigmoid(x)) = -softplus(-x), finite for every x."""
    return -softplus(-a)


def log_softmax(a, dim=-1, *, axis=None):
    """x - max(x) - log sum exp(x - max(x)) along ``dim``; the shift keeps exp() from overflowing
    and, being constant along ``dim``, changes nothing (so it is detached)."""
    dim = dim if axis is None else axis
    shifted = a - a.max(axis=dim, keepdims=True).detach()
    return shifted - shifted.exp().sum(axis=dim, keepdims=True).log()


def softmax(a, dim=-1, *, axis=None):
    """exp(x) / sum exp(x) along ``dim`` (through log_softmax, so it never overflows)."""
    return log_softmax(a, dim, axis=axis).exp()
