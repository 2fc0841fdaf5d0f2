"""Optimizers: in-place updates, PyTorch's rules on hand-computed cases, state round trips.

(Step-by-step agreement with recorded PyTorch trajectories is in test_torch_parity.py.)
"""
import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim


def _param(values):
    return mg.tensor(values, requires_grad=True, dtype="float64")


def _set_grad(p, values):
    p.grad = mg.tensor(values, dtype="float64")


def test_adam_first_step_is_lr_times_sign():
    # m_hat = g, v_hat = g^2 after one step, so the update is lr * g / (|g| + eps)
    p = _param([1.0, -2.0, 3.0])
    opt = optim.Adam([p], lr=0.1, betas=(0.5, 0.999))
    _set_grad(p, [0.3, -4.0, 0.0])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.9, -1.9, 3.0], rtol=1e-7)


def test_adam_second_step_by_hand():
    b1, b2, lr, eps = 0.9, 0.999, 0.01, 1e-8
    p = _param([0.0])
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    expected, m, v = 0.0, 0.0, 0.0
    for t, g in enumerate([1.0, -2.0], start=1):
        _set_grad(p, [g])
        opt.step()
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        expected -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    assert p.item() == pytest.approx(expected, rel=1e-12)


def test_sgd_momentum_and_rmsprop_by_hand():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for g in (1.0, 1.0):
        _set_grad(p, [g])
        opt.step()
    assert p.item() == pytest.approx(1.0 - 0.1 * 1.0 - 0.1 * (0.9 * 1.0 + 1.0))
    q = _param([1.0])
    opt = optim.RMSprop([q], lr=0.01, alpha=0.9)
    _set_grad(q, [2.0])
    opt.step()
    assert q.item() == pytest.approx(1.0 - 0.01 * 2.0 / (np.sqrt(0.1 * 4.0) + 1e-8))


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1),
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.Adam(ps, lr=0.1, betas=(0.5, 0.999), weight_decay=1e-3),
    lambda ps: optim.RMSprop(ps, lr=0.02),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5),
])
def test_optimizers_minimize_a_quadratic_in_place(backend, make):
    target = mg.tensor([[1.0, -2.0], [0.5, 3.0]])
    w = mg.zeros((2, 2), requires_grad=True)
    storage = w.data
    opt = make([w])
    for _ in range(300):
        opt.zero_grad()
        ((w - target) ** 2).sum().backward()
        opt.step()
    assert w.data is storage  # updated in place, never reallocated
    np.testing.assert_allclose(w.numpy(), target.numpy(), atol=0.05)


def test_step_skips_parameters_without_grad_and_zero_grad_clears():
    a, b = _param([1.0]), _param([1.0])
    opt = optim.Adam([a, b], lr=0.1)
    _set_grad(a, [1.0])
    opt.step()
    assert b.item() == 1.0 and a.item() != 1.0
    opt.zero_grad()
    assert a.grad is None


def test_state_dict_round_trip_continues_identically():
    def run(opt_maker, split):
        mg.manual_seed(0)
        model = nn.Linear(3, 2)
        opt = opt_maker(model.parameters())
        x = mg.tensor(np.arange(6.0).reshape(2, 3))
        for step in range(6):
            if step == split:  # save, rebuild, load
                state, weights = opt.state_dict(), model.state_dict()
                model = nn.Linear(3, 2)
                model.load_state_dict(weights)
                opt = opt_maker(model.parameters())
                opt.load_state_dict(state)
            opt.zero_grad()
            (model(x) ** 2).sum().backward()
            opt.step()
        return model.weight.numpy()

    for maker in (lambda ps: optim.Adam(ps, lr=0.01), lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9),
                  lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9)):
        np.testing.assert_array_equal(run(maker, split=None), run(maker, split=3))


def test_optimizer_argument_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="learning rate must be a finite number >= 0"):
        optim.SGD([_param([1.0])], lr=-1)
    with pytest.raises(ValueError, match=r"betas must be in \[0, 1\)"):
        optim.Adam([_param([1.0])], betas=(1.0, 0.999))
    with pytest.raises(TypeError, match="parameter 0 is not a Tensor that requires grad"):
        optim.Adam([mg.ones((2,))])
    opt = optim.Adam([_param([1.0])])
    with pytest.raises(ValueError, match="the state has 2 parameters, this optimizer 1"):
        opt.load_state_dict({"hyper": {}, "step_count": 0, "state": [{}, {}]})
