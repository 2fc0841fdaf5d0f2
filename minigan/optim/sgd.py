"""Stochastic gradient descent with (Nesterov) momentum, PyTorch's rule."""
from minigan.optim.optimizer import Optimizer


class SGD(Optimizer):
    """With g = grad (+ weight_decay * p), negated if ``maximize``::

        b = g on the first step, then b = momentum b + (1 - dampening) g
        p -= lr * (g + momentum b  if nesterov  else  b)        (p -= lr * g without momentum)
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False):
        if not momentum >= 0.0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov, maximize=maximize)

    def _update(self, param, grad, state, tmp, group, backend):
        first = bool(group["momentum"]) and "momentum_buffer" not in state
        if first:  # PyTorch's rule: the buffer starts as a copy of the first gradient (the kernel copies)
            state["momentum_buffer"] = backend.xp.empty_like(param)  # an array even for 0-d p
        backend.kernel("sgd")(grad, group["lr"], group["momentum"], 1.0 - group["dampening"], group["weight_decay"],
                              int(group["nesterov"]), int(group["maximize"]), int(first), param,
                              state.get("momentum_buffer", tmp), tmp)
