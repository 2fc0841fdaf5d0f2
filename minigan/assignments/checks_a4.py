"""Checks of A4: the penalty against minigan.gan.losses.gradient_penalty on the same interpolation
weights, and the penalty's gradient w.r.t. the critic's weights against minigan's; with eps=None,
the interpolation points the student's code fed the critic must lie on the segments between the
real and the fake samples (one eps per sample), and the value must match minigan's at those eps.
The probes run the student's code in the child; the judges recompute everything in the grader."""
import numpy as np

import minigan as mg
from minigan import nn
from minigan.assignments.checking import CheckFailed, Check, compare_gradients, field_of, fmt, get
from minigan.gan.losses import gradient_penalty as minigan_gradient_penalty


def _critic(n_in, hidden, seed=0):
    """The same critic in the child and in the grader: weights drawn from a seeded NumPy generator."""
    critic = nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    rng = np.random.default_rng(100 + seed)
    for p in critic.parameters():
        p.data = p.backend.asarray(rng.uniform(-0.8, 0.8, p.shape), dtype="float64")
    return critic


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

    be.rand = fixed_rand  # an instance attribute shadows the method (the judges run one at a time)
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


def _check_value(got, critic, real, fake, weight, eps, context):
    expected = reference_penalty(critic, real, fake, weight, eps)
    if abs(got - expected) <= 1e-7 + 1e-6 * abs(expected):
        return
    hint = next((f" — {text}" for value, text in _variants(critic, real, fake, weight, eps)
                 if abs(got - value) <= 1e-7 + 1e-6 * abs(value)), "")
    raise CheckFailed(f"gradient_penalty = {got:.6g} but minigan's gives {expected:.6g} with the same eps "
                      f"(weight={weight:g}, {context}){hint}")


WEIGHTS = (10.0, 1.0)


def _setup_2d():
    return _critic(2, 16), *_batch((8, 2), seed=0)


def _setup_nd():
    mlp = _critic(6, 8, seed=1)
    return (lambda x: mlp(x.reshape(x.shape[0], -1))), *_batch((5, 2, 3), seed=1)


def _value_probe(setup):
    def probe(student, cache):
        critic, real, fake, eps = setup()
        return [_student_penalty(student, critic, real, fake, w, eps).item() for w in WEIGHTS]
    return probe


def _value_judge(setup, context):
    def judge(data):
        critic, real, fake, eps = setup()
        if not isinstance(data, list) or len(data) != len(WEIGHTS):
            raise CheckFailed("the result sent by your code's process is malformed")
        for got, weight in zip(data, WEIGHTS):
            _check_value(float(got), critic, real, fake, weight, eps, context)
    return judge


def _setup_double():
    return _critic(2, 6, seed=2), *_batch((6, 2), seed=2)


def probe_double_backward(student, cache):
    critic, real, fake, eps = _setup_double()
    penalty = _student_penalty(student, critic, real, fake, 10.0, eps)
    if not penalty.requires_grad:
        raise CheckFailed("the penalty has no graph back to the critic's weights: take the gradient with "
                          "mg.grad(..., create_graph=True), so that it can be differentiated again")
    grads = mg.grad(penalty, critic.parameters(), allow_unused=True)
    return [np.zeros(p.shape) if g is None else g.numpy() for p, g in zip(critic.parameters(), grads)]


def judge_double_backward(data):
    critic, real, fake, eps = _setup_double()
    params = critic.parameters()
    be = real.backend

    def fixed_rand(shape, dtype):
        return be.asarray(eps.numpy(), dtype=dtype).reshape(shape)

    be.rand = fixed_rand  # minigan's penalty at the grader's eps (see reference_penalty)
    try:
        expected = mg.grad(minigan_gradient_penalty(critic, real, fake, weight=10.0), params, allow_unused=True)
    finally:
        del be.rand
    expected = [np.zeros(p.shape) if g is None else g.numpy() for p, g in zip(params, expected)]
    names = [f"the critic's {n}" for n, _ in critic.named_parameters()]
    got = [np.asarray(g, dtype=np.float64) for g in data] if isinstance(data, list) else []
    compare_gradients("gradient_penalty", got, expected, input_names=names,
                      zero_hint="was the gradient taken with mg.grad(..., create_graph=True), and the norm "
                                "computed with Tensor operations (not on g.data or g.numpy())?")


def _setup_random():
    return _critic(2, 16, seed=3), *_batch((16, 2), seed=3)[:2]


def probe_random_eps(student, cache):
    critic, real, fake = _setup_random()
    calls = []

    def recording_critic(x):
        calls.append(x.numpy().copy())
        return critic(x)

    values, points = [], []
    for _ in range(2):
        calls.clear()
        values.append(_student_penalty(student, recording_critic, real, fake, 10.0, None).item())
        first = next((c for c in calls if c.shape == real.shape), None)
        if first is None:
            raise CheckFailed("gradient_penalty with eps=None never called the critic on a batch of the samples' "
                              "shape")
        points.append(first)
    return {"values": values, "points": points}


def judge_random_eps(data):
    critic, real, fake = _setup_random()
    values = field_of(data, "values", (2,))
    points = field_of(data, "points", (2,) + real.shape)
    if not all(np.isfinite(v) and v >= 0 for v in values):
        raise CheckFailed(f"gradient_penalty with eps=None gave {values}: expected finite, non-negative values")
    if values[0] == values[1]:
        raise CheckFailed(f"gradient_penalty with eps=None gave {fmt(values[0])} twice: draw new weights "
                          "eps ~ U[0, 1] on every call (mg.rand)")
    r, f = real.numpy(), fake.numpy()
    for value, x_hat in zip(values, points):
        # x_hat_i = eps_i r_i + (1 - eps_i) f_i: eps_i by least squares, then the residual
        d = r - f
        eps = ((x_hat - f) * d).sum(axis=1) / (d * d).sum(axis=1)
        if np.abs(x_hat - f - eps[:, None] * d).max() > 1e-9 or eps.min() < -1e-12 or eps.max() > 1 + 1e-12:
            raise CheckFailed("with eps=None the critic was called on points that are not of the form "
                              "eps_i * real_i + (1 - eps_i) * fake_i with one eps_i in [0, 1] per sample: draw eps "
                              "of shape (N, 1, ..., 1), not one per element")
        _check_value(float(value), critic, real, fake, 10.0, mg.tensor(eps.reshape(-1, 1), dtype="float64"),
                     "eps=None, at the eps your code drew")


ALL = ("gradient_penalty",)
CHECKS = [
    Check("gradient_penalty matches minigan's (same eps, weight 10 and 1)", _value_probe(_setup_2d),
          _value_judge(_setup_2d, "batches of shape (8, 2)"), points=2, timeout=20.0, uses=ALL),
    Check("gradient_penalty for inputs with more than 2 axes", _value_probe(_setup_nd),
          _value_judge(_setup_nd, "batches of shape (5, 2, 3), eps of shape (5, 1, 1)"), timeout=20.0, uses=ALL),
    Check("gradient of the penalty w.r.t. the critic's weights (double backward) matches finite differences",
          probe_double_backward, judge_double_backward, points=3, timeout=30.0, uses=ALL,
          needs=("gradient_penalty matches minigan's (same eps, weight 10 and 1)",)),
    Check("gradient_penalty with eps=None draws random interpolation weights", probe_random_eps, judge_random_eps,
          timeout=20.0, uses=ALL),
]
