"""Optimizers, written out by hand: SGD, Adam and RMSprop, matching PyTorch's update rules.

Each step updates the parameter arrays *in place* (``out=`` and augmented assignment), so a
training loop does not reallocate every parameter on every step. The one scratch buffer per
parameter is allocated on the first step.
"""
import math

from minigan.tensor import Tensor


class Optimizer:
    hyperparameters = ()

    def __init__(self, params, **hyper):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} is not a Tensor that requires grad")
        if hyper.get("lr", 0.0) < 0.0:
            raise ValueError(f"{type(self).__name__}: learning rate must be >= 0, got {hyper['lr']}")
        self.__dict__.update(hyper)
        self.step_count = 0  # optimizer steps taken (Adam counts per parameter: state["step"])
        self.state = [{} for _ in self.params]  # per parameter: moment buffers etc.

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.step_count += 1
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            if not state:
                state.update({name: p.backend.xp.zeros_like(p.data) for name in self.buffers()})
            self.update(p.data, p.grad.data, state, p.backend.xp)

    def buffers(self):
        return ("scratch",)

    def update(self, param, grad, state, xp):
        raise NotImplementedError

    # --- checkpoints -----------------------------------------------------------------------------
    def state_dict(self):
        """Hyper-parameters, the step count and host copies of every buffer."""
        return {
            "hyper": {name: getattr(self, name) for name in self.hyperparameters},
            "step_count": self.step_count,
            "state": [{k: _to_host(self.params[i], v) for k, v in s.items()} for i, s in enumerate(self.state)],
        }

    def load_state_dict(self, state):
        if len(state["state"]) != len(self.params):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state has {len(state['state'])} "
                             f"parameters, this optimizer {len(self.params)}")
        for name, value in state["hyper"].items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        self.step_count = int(state["step_count"])
        for p, saved, own in zip(self.params, state["state"], self.state):
            own.clear()
            for k, v in saved.items():
                if not hasattr(v, "shape") or v.ndim == 0:  # a counter such as Adam's step
                    own[k] = int(v)
                    continue
                if tuple(v.shape) != p.shape:
                    raise ValueError(f"load_state_dict: buffer {k!r} of shape {tuple(v.shape)} does not "
                                     f"fit a parameter of shape {p.shape}")
                own[k] = p.backend.asarray(v, dtype=p.dtype)


def _to_host(param, value):
    return value if isinstance(value, int) else param.backend.to_numpy(value).copy()


class SGD(Optimizer):
    """p -= lr * (g + weight_decay * p), with optional (Nesterov) momentum as in PyTorch."""

    hyperparameters = ("lr", "momentum", "weight_decay", "dampening", "nesterov")

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, dampening=0.0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         dampening=dampening, nesterov=nesterov)

    def buffers(self):
        return ()  # the momentum buffer starts as a copy of the first gradient (PyTorch's rule)

    def update(self, param, grad, state, xp):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= self.momentum                      # b = momentum b + (1 - dampening) g
                buf += (1.0 - self.dampening) * grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param -= self.lr * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, PyTorch's rule (weight decay added to g)::

        m = b1 m + (1 - b1) g            v = b2 v + (1 - b2) g^2
        p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)

    def buffers(self):
        return ("exp_avg", "exp_avg_sq", "scratch")

    def update(self, param, grad, state, xp):
        b1, b2 = self.betas
        m, v, tmp = state["exp_avg"], state["exp_avg_sq"], state["scratch"]
        # t counts this parameter's own updates: one skipped for lack of a gradient does not age
        # its bias correction (PyTorch's rule)
        t = state["step"] = int(state.get("step", 0)) + 1
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        m *= b1                                          # m = b1 m + (1 - b1) g
        xp.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2                                          # v = b2 v + (1 - b2) g^2
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        # Both bias corrections folded into two scalars (same value, two fewer array passes):
        # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) = step * m / (sqrt(v) + eps * sqrt(bc2))
        sqrt_bc2 = math.sqrt(1.0 - b2 ** t)
        step = self.lr * sqrt_bc2 / (1.0 - b1 ** t)
        xp.sqrt(v, out=tmp)
        tmp += self.eps * sqrt_bc2
        xp.divide(m, tmp, out=tmp)
        tmp *= step
        param -= tmp


class RMSprop(Optimizer):
    """RMSprop as in PyTorch (the WGAN paper's optimizer)::

        s = alpha s + (1 - alpha) g^2       p -= lr * g / (sqrt(s) + eps)
    """

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)

    def buffers(self):
        return ("square_avg", "scratch") + (("momentum_buffer",) if self.momentum else ())

    def update(self, param, grad, state, xp):
        s, tmp = state["square_avg"], state["scratch"]
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        s *= self.alpha                                  # s = alpha s + (1 - alpha) g^2
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.alpha
        s += tmp
        xp.sqrt(s, out=tmp)                              # tmp = g / (sqrt(s) + eps)
        tmp += self.eps
        xp.divide(grad, tmp, out=tmp)
        if self.momentum:
            buf = state["momentum_buffer"]               # b = momentum b + g / (sqrt(s) + eps)
            buf *= self.momentum
            buf += tmp
            tmp = buf
        param -= self.lr * tmp
