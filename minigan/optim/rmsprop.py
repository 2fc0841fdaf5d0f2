"""RMSprop (Hinton's lecture 6e; the WGAN paper's optimizer), PyTorch's rule."""
from minigan.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """With g = grad (+ weight_decay * p), negated if ``maximize``::

        s = alpha s + (1 - alpha) g^2
        d = sqrt(s - a^2) + eps  with a = alpha a + (1 - alpha) g  if centered,  else  sqrt(s) + eps
        p -= lr * b  with b = momentum b + g / d  if momentum,  else  p -= lr * g / d
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False):
        for what, value in (("alpha", alpha), ("eps", eps), ("momentum", momentum), ("weight_decay", weight_decay)):
            if not value >= 0.0:   # NaN fails too
                raise ValueError(f"RMSprop: {what} must be >= 0, got {value}")
        super().__init__(params, lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                         weight_decay=weight_decay, maximize=maximize)

    def _init_state(self, param, state, group, xp):
        state.update(step=0, square_avg=xp.zeros_like(param))  # PyTorch counts steps (the update does not use them)
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(param)

    def _update(self, param, grad, state, tmp, group, backend):
        alpha = group["alpha"]
        state["step"] += 1
        backend.kernel("rmsprop")(grad, group["lr"], alpha, 1.0 - alpha, group["eps"], group["weight_decay"],
                                  group["momentum"], int(group["maximize"]), int(group["centered"]), param,
                                  state["square_avg"], state.get("grad_avg", tmp),
                                  state.get("momentum_buffer", tmp), tmp)
