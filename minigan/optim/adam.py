"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), PyTorch's rules."""
import math

from minigan.optim.optimizer import Optimizer


class Adam(Optimizer):
    """With g = grad (+ weight_decay * p: L2, added to the gradient), negated if ``maximize``,
    and t this parameter's own step count::

        m = b1 m + (1 - b1) g            v = b2 v + (1 - b2) g^2      (amsgrad: use max of all v so far)
        p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    decoupled_weight_decay = False  # AdamW: p *= 1 - lr * weight_decay instead of the L2 term

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)

    def _check_group(self, group):
        super()._check_group(group)
        if len(group["betas"]) != 2 or not all(0.0 <= b < 1.0 for b in group["betas"]):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {group['betas']}")
        if not (group["eps"] >= 0.0 and group["weight_decay"] >= 0.0):   # NaN fails too
            raise ValueError(f"{type(self).__name__}: eps and weight_decay must be >= 0, "
                             f"got {group['eps']} and {group['weight_decay']}")

    def _init_state(self, param, state, group, xp):
        state.update(step=0, exp_avg=xp.zeros_like(param), exp_avg_sq=xp.zeros_like(param))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(param)

    def _update(self, param, grad, state, tmp, group, backend):
        (b1, b2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        # t counts this parameter's own updates: one skipped for lack of a gradient does not age
        # its bias correction (PyTorch's rule)
        t = state["step"] = state["step"] + 1
        # Both bias corrections folded into two scalars (same value, two fewer array passes):
        # lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) = step * m / (sqrt(v) + eps * sqrt(bc2))
        sqrt_bc2 = math.sqrt(1.0 - b2 ** t)
        decoupled = self.decoupled_weight_decay  # AdamW: p *= 1 - lr wd; Adam: g += wd p (L2)
        step_size = lr * sqrt_bc2 / (1.0 - b1 ** t)
        backend.kernel("adam")(grad, b1, 1.0 - b1, b2, 1.0 - b2, step_size, group["eps"] * sqrt_bc2,
                               1.0 - lr * wd if decoupled and wd else 1.0, 0.0 if decoupled else wd,
                               int(group["maximize"]), int(group["amsgrad"]), param, state["exp_avg"],
                               state["exp_avg_sq"], state.get("max_exp_avg_sq", tmp), tmp)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before Adam's step
    (the decay does not pass through m and v). PyTorch's default weight_decay is 1e-2."""

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)  # only the default differs
