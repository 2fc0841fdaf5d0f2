"""Checks of A4: the penalty against minigan.gan.losses.gradient_penalty on the same interpolation
weights, and the penalty's gradient w.r.t. the critic's weights against finite differences."""
import numpy as np

import minigan as mg
from minigan import nn
from minigan.assignments.checking import CheckFailed, Check, check_gradients, fmt, get
from minigan.gan.losses import gradient_penalty as minigan_gradient_penalty


def _critic(n_in, hidden):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def _batch(shape, seed):
    rng = np.random.default_rng(seed)
    real = mg.tensor(rng.standard_normal(shape) + 1.5, dtype="float64")
    fake = mg.tensor(rng.standard_normal(shape), dtype="float64")
    eps = mg.tensor(rng.uniform(0, 1, (shape[0],) + (1,) * (len(shape) - 1)), dtype="float64")
    return real, fake, eps


def reference_penalty(critic, real, fake, weight, eps):
    """minigan's own penalty with its random interpolation weights replaced by ``eps``."""
    be, drawn = real.backend, []

    def fixed_rand(shape, dtype):
        drawn.append(tuple(shape))
        return be.asarray(eps.numpy(), dtype=dtype).reshape(shape)

    be.rand = fixed_rand  # an instance attribute shadows the method, in this worker process only
    try:
        value = minigan_gradient_penalty(critic, real, fake, weight=weight)
    finally:
        del be.rand
    if drawn != [eps.shape]:
        raise RuntimeError(f"grader: minigan's gradient_penalty drew {drawn}, expected one draw of shape {eps.shape}")
    return value.item()


def _variants(critic, real, fake, weight, eps):
    """What common mistakes would give, to name the one a student's number matches."""
    def norms_of(x_hat):
        x_hat = x_hat.detach().requires_grad_(True)
        (g,) = mg.grad(critic(x_hat).sum(), [x_hat])
        return np.sqrt((g.numpy().reshape(len(g.numpy()), -1) ** 2).sum(axis=1)), g.numpy()

    norms, g = norms_of(eps * real + (1.0 - eps) * fake)
    swapped, _ = norms_of((1.0 - eps) * real + eps * fake)
    return [
        (weight * np.mean((norms ** 2 - 1) ** 2), "you seem to use the squared norm ||grad||^2; the penalty is "
                                                  "(||grad D(x_hat)||_2 - 1)^2 with the norm itself (take .sqrt())"),
        (np.mean((norms - 1) ** 2), "the value lacks the factor `weight` (lambda)"),
        (weight * np.mean(norms ** 2), "the '- 1' is missing: the penalty pulls the norm toward 1, not 0"),
        (weight * (np.sqrt((g ** 2).sum()) - 1) ** 2, "the norm must be taken per sample (over every axis but the "
                                                      "batch axis), then averaged"),
        (weight * np.mean((swapped - 1) ** 2), "eps and 1 - eps are swapped: x_hat = eps * real + (1 - eps) * fake"),
    ]


def _student_penalty(student, critic, real, fake, weight=10.0, eps=None):
    value = get(student, "gradient_penalty")(critic, real, fake, weight=weight, eps=eps)
    if not isinstance(value, mg.Tensor):
        raise CheckFailed(f"gradient_penalty returned a {type(value).__name__}; return a Tensor")
    if value.shape != ():
        raise CheckFailed(f"gradient_penalty: wrong output shape {value.shape}: the penalty is a scalar "
                          "(the mean over the batch)")
    return value


def _compare(student, critic, real, fake, eps, context):
    for weight in (10.0, 1.0):
        got = _student_penalty(student, critic, real, fake, weight, eps).item()
        expected = reference_penalty(critic, real, fake, weight, eps)
        if abs(got - expected) <= 1e-7 + 1e-6 * abs(expected):
            continue
        hint = next((f" — {text}" for value, text in _variants(critic, real, fake, weight, eps)
                     if abs(got - value) <= 1e-7 + 1e-6 * abs(value)), "")
        raise CheckFailed(f"gradient_penalty = {got:.6g} but minigan's gives {expected:.6g} with the same eps "
                          f"(weight={weight:g}, {context}){hint}")


def check_value(student, cache):
    critic = _critic(2, 16)
    real, fake, eps = _batch((8, 2), seed=0)
    _compare(student, critic, real, fake, eps, "batches of shape (8, 2)")


def check_value_nd(student, cache):
    mlp = _critic(6, 8)
    real, fake, eps = _batch((5, 2, 3), seed=1)
    _compare(student, lambda x: mlp(x.reshape(x.shape[0], -1)), real, fake, eps,
             "batches of shape (5, 2, 3), eps of shape (5, 1, 1)")


def check_double_backward(student, cache):
    critic = _critic(2, 6)
    real, fake, eps = _batch((6, 2), seed=2)
    names = [name for name, _ in critic.named_parameters()]
    penalty = _student_penalty(student, critic, real, fake, 10.0, eps)
    if not penalty.requires_grad:
        raise CheckFailed("the penalty has no graph back to the critic's weights: take the gradient with "
                          "mg.grad(..., create_graph=True), so that it can be differentiated again")
    check_gradients("gradient_penalty", lambda *params: _student_penalty(student, critic, real, fake, 10.0, eps),
                    critic.parameters(), input_names=[f"the critic's {n}" for n in names],
                    zero_hint="was the gradient taken with mg.grad(..., create_graph=True)?")


def check_random_eps(student, cache):
    critic = _critic(2, 16)
    real, fake, _ = _batch((16, 2), seed=3)
    values = [_student_penalty(student, critic, real, fake, 10.0, None).item() for _ in range(2)]
    if not all(np.isfinite(v) and v >= 0 for v in values):
        raise CheckFailed(f"gradient_penalty with eps=None gave {values}: expected finite, non-negative values")
    if values[0] == values[1]:
        raise CheckFailed(f"gradient_penalty with eps=None gave {fmt(values[0])} twice: draw new weights "
                          "eps ~ U[0, 1] on every call (mg.rand)")


CHECKS = [
    Check("gradient_penalty matches minigan's (same eps, weight 10 and 1)", check_value, timeout=20.0),
    Check("gradient_penalty for inputs with more than 2 axes", check_value_nd, timeout=20.0),
    Check("gradient of the penalty w.r.t. the critic's weights (double backward) matches finite differences",
          check_double_backward, timeout=30.0),
    Check("gradient_penalty with eps=None draws random interpolation weights", check_random_eps, timeout=20.0),
]
